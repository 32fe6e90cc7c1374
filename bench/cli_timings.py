#!/usr/bin/env python3
"""End-to-end timings of the localsgd CLI, for docs/BENCHMARKS.md.

  train   the w8a run of docs/BENCHMARKS.md ("A full w8a run") with --threads 1 and 2,
          interleaved; medians of the summary's `seconds`, `load_seconds` and
          `samples_per_second`, and the ratio of the two thread counts.
  inspect `localsgd data inspect` on LIBSVM text and on its binary cache (written here
          with `localsgd data convert`): best wall-clock time of N runs, process start,
          plugin loading and the summary included.

  /usr/bin/python3 bench/cli_timings.py [--repeats N] [--epochs E] [--big FILE]

--big adds a large LIBSVM file to the inspect timings (e.g. the file bench/parse_peers.py
generates, /tmp/localsgd_parse_bench_v1.svm).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "bin", "localsgd")
W8A = os.path.join(ROOT, "..", "shared", "data", "w8a")
W8A_FSTAR = "0.12618068651051342"


def run(args):
    done = subprocess.run([CLI] + args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"localsgd {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def train_timings(repeats, epochs):
    args = ["train", "--plugin", "logreg", "--data", W8A, "-K", "4", "-b", "4", "-H", "8",
            "--epochs", str(epochs), "--lr-param", "eta0=1", "--fstar", W8A_FSTAR,
            "--sampling", "iid", "--format", "json"]
    runs = {1: [], 2: []}
    for _ in range(repeats):  # interleaved, so that load from other tenants hits both
        for threads in runs:
            summary = json.loads(run(args + ["--threads", str(threads)]).splitlines()[-1])
            runs[threads].append(summary)
    print(f"train w8a, K=4 b=4 H=8, {epochs} epochs, medians of {repeats}:")
    for threads, summaries in runs.items():
        med = {k: statistics.median(s[k] for s in summaries)
               for k in ("seconds", "load_seconds", "samples_per_second")}
        print(f"  --threads {threads}: {med['seconds']:.3f} s training, "
              f"{med['load_seconds']:.3f} s loading, "
              f"{med['samples_per_second'] / 1e6:.1f} M samples/s, "
              f"rel. suboptimality {summaries[0]['rel_suboptimality']:.3g}")
    one = statistics.median(s["seconds"] for s in runs[1])
    two = statistics.median(s["seconds"] for s in runs[2])
    print(f"  2 threads vs 1: {one / two:.2f}x")


def best_wall_seconds(args, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run(args)
        best = min(best, time.perf_counter() - start)
    return best


def inspect_timings(repeats, files):
    print(f"data inspect, best of {repeats} (text vs binary cache):")
    with tempfile.TemporaryDirectory() as tmp:
        for text in files:
            cache = os.path.join(tmp, os.path.basename(text) + ".bin")
            run(["data", "convert", text, cache])
            t_text = best_wall_seconds(["data", "inspect", text], repeats)
            t_bin = best_wall_seconds(["data", "inspect", cache], repeats)
            mb = os.path.getsize(text) / 1e6
            print(f"  {os.path.basename(text)} ({mb:.1f} MB): text {t_text * 1e3:.1f} ms, "
                  f"cache {t_bin * 1e3:.1f} ms, {t_text / t_bin:.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--big", help="a large LIBSVM file to add to the inspect timings")
    options = parser.parse_args()
    train_timings(options.repeats, options.epochs)
    inspect_timings(options.repeats + 1, [W8A] + ([options.big] if options.big else []))


if __name__ == "__main__":
    main()

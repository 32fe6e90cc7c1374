#!/usr/bin/python3
"""Parse throughput of localsgd's libsvm reader next to scikit-learn's load_svmlight_file.

Times, in one run and on the same files, localsgd's reader (bench_parse, with 1 and 2
threads) and sklearn.datasets.load_svmlight_file, each the median of --repeats runs after
one untimed warm-up (so both read from the page cache), and prints MB/s (10^6 bytes of
file per second) and the ratio. Files: w8a from ../shared/data and a generated file of
>= 100 MB with ~40 entries per row (written once to /tmp, reused afterwards).

    bash bench/setup                       # python3-sklearn, liblinear-tools
    cmake --build build --target bench_parse
    /usr/bin/python3 bench/parse_peers.py  # --bench build/bin/bench_parse --repeats 5
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATED = "/tmp/localsgd_parse_bench_v1.svm"


def generate(path, rows=200_000, cols=100_000, seed=1):
    """~118 MB: labels +1/-1, 20 to 60 (mean 40) ascending 1-based indices out of `cols`,
    values in (0, 1) with 6 significant digits, as tf-idf style data is usually written."""
    if os.path.exists(path) and os.path.getsize(path) >= 100_000_000:
        return
    rng = random.Random(seed)
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        for _ in range(rows):
            indices = sorted(rng.sample(range(1, cols + 1), rng.randint(20, 60)))
            entries = " ".join(f"{j}:{rng.random():.6g}" for j in indices)
            out.write(("+1 " if rng.random() < 0.5 else "-1 ") + entries + "\n")
    os.replace(tmp, path)


def time_sklearn(path, repeats):
    from sklearn.datasets import load_svmlight_file

    X, _ = load_svmlight_file(path)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        X, _ = load_svmlight_file(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times), X.shape, X.nnz


def time_localsgd(bench, path, threads, repeats):
    out = subprocess.run([bench, "--threads", str(threads), "--repeats", str(repeats), path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default=os.path.join(ROOT, "build", "bin", "bench_parse"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()

    files = args.files
    if not files:
        generate(GENERATED)
        files = [os.path.join(ROOT, "..", "shared", "data", "w8a"), GENERATED]
    threads = [int(t) for t in args.threads.split(",")]

    print(f"{'file':<28} {'MB':>7} {'parser':<18} {'median s':>9} {'MB/s':>8} {'vs sklearn':>10}")
    for path in files:
        mb = os.path.getsize(path) / 1e6
        name = os.path.basename(path)
        sk_seconds, shape, nnz = time_sklearn(path, args.repeats)
        print(f"{name:<28} {mb:7.1f} {'sklearn':<18} {sk_seconds:9.4f} {mb / sk_seconds:8.1f}"
              f" {1.0:10.2f}")
        for t in threads:
            r = time_localsgd(args.bench, path, t, args.repeats)
            if (r["rows"], r["nnz"]) != (shape[0], nnz):
                sys.exit(f"{name}: localsgd read {r['rows']} rows / {r['nnz']} entries, "
                         f"sklearn {shape[0]} / {nnz}")
            print(f"{name:<28} {mb:7.1f} {f'localsgd {t} thread' + 's' * (t > 1):<18}"
                  f" {r['median_s']:9.4f} {r['mb_per_s']:8.1f} {sk_seconds / r['median_s']:10.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

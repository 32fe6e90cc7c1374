#!/usr/bin/env python3
"""Threads 2 / threads 1 for the engine on w8a, interleaved, median of N pairs.

Runs build/bin/bench_engine for one (K, H, b, threads) at a time, alternating one and
two threads, so that both see the same machine noise; prints the median times and
their ratio per configuration.

  python3 bench/engine_threads.py [--pairs 7] [--H 1,2,4,8,16,64,1000000]
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(bench, K, H, b, threads):
    name = f"BM_LocalSgd/K:{K}/H:{H}/b:{b}/threads:{threads}/real_time"
    out = subprocess.run(
        [bench, f"--benchmark_filter=^{name}$", "--benchmark_format=json",
         "--benchmark_min_time=0.01"],
        check=True, capture_output=True, text=True).stdout
    rows = [r for r in json.loads(out)["benchmarks"] if r["name"] == name]
    if not rows:
        sys.exit(f"{name} is not among bench_engine's benchmarks")
    return rows[0]["real_time"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", default="build/bin/bench_engine")
    p.add_argument("--pairs", type=int, default=7)
    p.add_argument("--K", type=int, default=4)
    p.add_argument("--b", type=int, default=4)
    p.add_argument("--H", default="1,4,8,16,64,1000000")
    a = p.parse_args()
    print(f"{'K':>3} {'H':>8} {'b':>3} {'1 thread ms':>12} {'2 threads ms':>13} {'ratio':>6}")
    for H in [int(h) for h in a.H.split(",")]:
        one, two = [], []
        for _ in range(a.pairs):
            one.append(run(a.bench, a.K, H, a.b, 1))
            two.append(run(a.bench, a.K, H, a.b, 2))
        m1, m2 = statistics.median(one), statistics.median(two)
        ratios = sorted(x / y for x, y in zip(one, two))
        print(f"{a.K:>3} {H:>8} {a.b:>3} {m1:>12.1f} {m2:>13.1f} {statistics.median(ratios):>6.2f}",
              flush=True)


if __name__ == "__main__":
    main()

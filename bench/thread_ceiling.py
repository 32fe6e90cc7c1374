#!/usr/bin/python3
"""Two threads against one through the CLI, next to what the machine allows.

Interleaved, N times: the w8a run with --threads 1 and --threads 2 at the given H (a sync
every H steps), the same run with no sync at all (-H above --steps: the phases end only
where the interrupt poll ends them, every 1024 steps), and one thread pinned to each of
the first two CPUs (taskset). Prints the medians and:

  speedup at H         t(1 thread) / t(2 threads) with syncs: the product's figure
  ceiling              the same without syncs: what two threads give on this machine
                       when they never wait for each other
  CPU speeds           t(pinned to the first CPU) / t(pinned to the second): a round
                       waits for the slower one
  round trip           build/bin/core_round_trip: one cache line to the other core and
                       back, the least a round's hand-over costs

    bash .ci/setup --bench && /usr/bin/python3 bench/thread_ceiling.py [--pairs 7] [-H 16]
        [--data ../shared/data/w8a] [-K 4] [-b 4] [--steps 250000]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "bin", "localsgd")
ROUND_TRIP = os.path.join(ROOT, "build", "bin", "core_round_trip")


def seconds(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "w8a"))
    p.add_argument("--pairs", type=int, default=7)
    p.add_argument("-H", type=int, default=16)
    p.add_argument("-K", type=int, default=4)
    p.add_argument("-b", type=int, default=4)
    p.add_argument("--steps", type=int, default=250000)
    a = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("needs two CPUs")

    def train(threads, H, cpu=None):
        command = [CLI, "train", "--plugin", "logreg", "--data", a.data, "-K", str(a.K),
                   "-b", str(a.b), "-H", str(H), "--steps", str(a.steps), "--lr", "constant",
                   "--lr-param", "eta=0.5", "--sampling", "iid", "--threads", str(threads),
                   "--format", "json"]
        return seconds((["taskset", "-c", str(cpu)] if cpu is not None else []) + command)

    no_sync = a.steps + 1
    runs = {name: [] for name in ("1@H", "2@H", "1@none", "2@none", "cpuA", "cpuB")}
    for _ in range(a.pairs):
        runs["1@H"].append(train(1, a.H))
        runs["2@H"].append(train(2, a.H))
        runs["1@none"].append(train(1, no_sync))
        runs["2@none"].append(train(2, no_sync))
        runs["cpuA"].append(train(1, no_sync, cpus[0]))
        runs["cpuB"].append(train(1, no_sync, cpus[1]))
    med = {name: statistics.median(times) for name, times in runs.items()}
    trip = json.loads(subprocess.run([ROUND_TRIP, str(cpus[0]), str(cpus[1])], check=True,
                                     capture_output=True, text=True).stdout)["round_trip_ns"]
    rounds = a.steps // a.H
    print(f"w8a-style run: K={a.K} b={a.b} --steps {a.steps}, medians of {a.pairs} "
          f"interleaved runs (summary 'seconds')")
    print(f"  H={a.H}: 1 thread {med['1@H']:.3f} s, 2 threads {med['2@H']:.3f} s: "
          f"speedup {med['1@H'] / med['2@H']:.2f}x ({rounds} rounds)")
    print(f"  no sync: 1 thread {med['1@none']:.3f} s, 2 threads {med['2@none']:.3f} s: "
          f"ceiling {med['1@none'] / med['2@none']:.2f}x")
    print(f"  one thread pinned: CPU {cpus[0]} {med['cpuA']:.3f} s, CPU {cpus[1]} "
          f"{med['cpuB']:.3f} s: CPU {cpus[1]} runs at {med['cpuA'] / med['cpuB']:.2f} of "
          f"CPU {cpus[0]}'s speed")
    per_round = (med["2@H"] - med["2@none"]) / rounds * 1e6
    print(f"  2 threads: syncs add {per_round:.1f} us a round; core round trip "
          f"{trip / 1e3:.2f} us")


if __name__ == "__main__":
    main()

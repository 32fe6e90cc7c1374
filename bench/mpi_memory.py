#!/usr/bin/env python3
"""Memory per rank of `localsgd train --backend mpi`, with and without a partition.

Starts `mpirun -np R localsgd train ...` for each data file and partition, and samples
every rank's /proc/PID/status every 50 ms: the peak private memory (RssAnon: heap, the
parsed data) and the peak of all resident memory (VmHWM, with the mapped pages of a .bin
file), and the private memory in the last second of the run (after set-up). Prints one
row per (file, partition), median of --repeats runs.

  python3 bench/mpi_memory.py DATA [DATA ...] [--ranks 2] [-K 4] [--steps 400000]
      [--repeats 3] [--localsgd build/bin/localsgd] [--default-step]

Make a large input with the synthetic reader, e.g.
  localsgd data convert --reader synthetic --reader-param n=1000000 \
      --reader-param d=1000 --reader-param density=0.04 big.bin
  localsgd data convert big.bin big.svm
"""
import argparse
import os
import statistics
import subprocess
import time

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rank_pids(mpirun_pid, exe):
    """The localsgd processes below mpirun (its children)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == mpirun_pid and os.path.basename(os.readlink(f"/proc/{entry}/exe")) == exe:
                pids.append(int(entry))
        except OSError:
            continue
    return sorted(pids)


def one_run(args, data, partition):
    cmd = ["mpirun", "-np", str(args.ranks), "--oversubscribe", "--bind-to", "none",
           args.localsgd, "train", "--plugin", "logreg", "--data", data, "-K", str(args.K),
           "--partition", partition, "--steps", str(args.steps), "--backend", "mpi",
           "--format", "json", "-q"]
    if not args.default_step:
        cmd += ["--lr", "constant", "--lr-param", "eta=0.5"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    exe = os.path.basename(args.localsgd)
    samples = {}  # pid -> [(time, RssAnon kB, VmHWM kB)]
    while proc.poll() is None:
        for pid in rank_pids(proc.pid, exe):
            anon, hwm = status_kb(pid, "RssAnon"), status_kb(pid, "VmHWM")
            if anon is not None and hwm is not None:
                samples.setdefault(pid, []).append((time.monotonic(), anon, hwm))
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()}")
    peak_anon = max(a for s in samples.values() for _, a, _ in s)
    peak_hwm = max(h for s in samples.values() for _, _, h in s)
    end_anon = 0
    for s in samples.values():
        last = s[-1][0]
        end_anon = max(end_anon, max(a for t, a, _ in s if t >= last - 1.0))
    return peak_anon / 1024, peak_hwm / 1024, end_anon / 1024


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="+")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("-K", type=int, default=4)
    p.add_argument("--steps", type=int, default=400000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--localsgd", default="build/bin/localsgd")
    p.add_argument("--default-step", action="store_true",
                   help="the default step size (probes, whitening) instead of --lr constant")
    args = p.parse_args()
    rule = "the default step" if args.default_step else "--lr constant eta=0.5"
    print(f"R = {args.ranks}, K = {args.K}, --steps {args.steps}, {rule}; MiB, the largest rank, "
          f"median of {args.repeats}")
    print(f"{'data':<24} {'partition':<11} {'peak private':>12} {'peak resident':>13} "
          f"{'private during run':>18}")
    for data in args.data:
        for partition in ("shared", "contiguous", "shard"):
            runs = [one_run(args, data, partition) for _ in range(args.repeats)]
            med = [statistics.median(r[i] for r in runs) for i in range(3)]
            print(f"{os.path.basename(data):<24} {partition:<11} {med[0]:>12.0f} {med[1]:>13.0f} "
                  f"{med[2]:>18.0f}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Measured wall-clock speedup of Local SGD against K, next to the modelled one.

For each K: `localsgd train` to the target (f(x_hat) - f*)/f* <= EPS, with the threads
backend (--threads min(K, cores)) and with the mpi backend (mpirun -np min(K, cores)),
REPEATS seeds each, interleaved; the median training time (the summary's
train_seconds: the run without its progress evaluations) gives the measured speedup
t(K = 1) / t(K). Next to it, from `localsgd sweep` on the same points (same seeds, step
rule and evaluation resolution): the step-count speedup and sweep's time model
(T_1 b) / (T_K b + 2 (K - 1) rho R_K) with rho calibrated here, not assumed:
rho = (time of one all-reduce of d doubles at 2 ranks, build/bin/mpi_allreduce) /
(time of one single-sample gradient, from a K = 1, b = 1 run on one thread).
The model gives every worker its own core; the machine has `cores`, so a second modelled
column charges each step ceil(K / cores) gradient times.

    bash .ci/setup && /usr/bin/python3 bench/speedup.py [--data ../shared/data/w8a]
        [--plugin logreg] [-K 1,2,4] [-H 8] [-b 4] [--target-rel 1e-2] [--repeats 3]
        [--backends threads,mpi] [--fstar F] [--lr constant] [--lr-param eta=0.5]
        [--target EPS (absolute, instead of --target-rel)] [--sampling iid]
    --lr-param may be repeated (--lr invtime --lr-param eta0=16 --lr-param c=0.25).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "bin", "localsgd")
ALLREDUCE = os.path.join(ROOT, "build", "bin", "mpi_allreduce")
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
MPIRUN = ["mpirun", "--oversubscribe", "--bind-to", "none"]


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def run(command, env=None):
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")
    return last_json(done.stdout), wall


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--plugin", default="logreg")
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "w8a"))
    p.add_argument("-K", default="1,2,4")
    p.add_argument("-H", type=int, default=8)
    p.add_argument("-b", type=int, default=4)
    p.add_argument("--target-rel", type=float, default=1e-2)
    p.add_argument("--target", type=float, help="absolute target f - f* <= EPS instead")
    p.add_argument("--sampling", default="shuffle")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--backends", default="threads,mpi")
    p.add_argument("--fstar", type=float)
    p.add_argument("--lr", default="constant", help="step size rule of every run")
    p.add_argument("--lr-param", action="append",
                   help="its parameters, repeatable [eta=0.5] (a fixed rule: --lr auto "
                        "probes per seed and K)")
    p.add_argument("--cores", type=int, default=os.cpu_count())
    a = p.parse_args()
    workers = [int(k) for k in a.K.split(",")]
    if workers[0] != 1:
        raise SystemExit("-K must start with 1 (the baseline)")
    backends = a.backends.split(",")
    problem = ["--plugin", a.plugin, "--data", a.data]
    params = a.lr_param if a.lr_param is not None else (["eta=0.5"] if a.lr == "constant" else [])
    rule = ["--lr", a.lr, "--sampling", a.sampling]
    for param in params:
        rule += ["--lr-param", param]
    target = ["--target", repr(a.target)] if a.target else ["--target-rel", str(a.target_rel)]
    if a.fstar is None:  # solved once by localsgd (and cached)
        a.fstar = run([CLI, "solve", *problem, "--format", "json"])[0]["fstar"]

    # rho: one vector exchange over one single-sample gradient, both measured here.
    probe, _ = run([CLI, "train", *problem, "-K", "1", "-b", "1", "--threads", "1",
                    "--epochs", "5", "--format", "json"])
    gradient = 1.0 / probe["samples_per_second"]
    d, rows = probe["dimension"], probe["rows"]
    exchange, _ = run([*MPIRUN, "-np", "2", ALLREDUCE, str(d)], env=MPI_ENV)
    rho = exchange["median_seconds"] / gradient
    print(f"d = {d}, rows = {rows}; one gradient {gradient * 1e9:.0f} ns, one all-reduce of d "
          f"doubles at 2 ranks {exchange['median_seconds'] * 1e6:.1f} us: rho = {rho:.1f}")

    # The modelled side: sweep on the same points.
    sweep = subprocess.run(
        [CLI, "sweep", *problem, "-K", a.K, "-H", str(a.H), "-b", str(a.b), *target,
         "--fstar", repr(a.fstar), "--repeats", str(a.repeats), "--rho",
         repr(rho), *rule, "--format", "json"], capture_output=True, text=True, check=True).stdout
    modelled = {}
    for line in sweep.strip().splitlines():
        e = json.loads(line)
        if e.get("event") == "sweep_point":
            modelled[e["workers"]] = e

    # The measured side: interleaved over repeats, so that a noisy minute hits all alike.
    times = {(k, be): [] for k in workers for be in backends}
    walls = {(k, be): [] for k in workers for be in backends}
    steps = {(k, be): [] for k in workers for be in backends}
    for seed in range(1, a.repeats + 1):
        for k in workers:
            cores = min(k, a.cores)
            per_epoch = math.ceil(rows / (k * a.b))
            args = ["train", *problem, "-K", str(k), "-H", str(a.H), "-b", str(a.b),
                    *target, "--fstar", repr(a.fstar), "--seed",
                    str(seed), "--eval-every", str(max(1, per_epoch // 8)), *rule,
                    "--format", "json"]
            for be in backends:
                if be == "threads":
                    summary, wall = run([CLI, *args, "--threads", str(cores)])
                else:
                    summary, wall = run([*MPIRUN, "-np", str(cores), CLI, *args, "--backend",
                                         "mpi", "--threads", "1"], env=MPI_ENV)
                if not summary.get("target_reached"):
                    raise SystemExit(f"K = {k} ({be}) did not reach the target: {summary}")
                times[(k, be)].append(summary["train_seconds"])
                walls[(k, be)].append(wall)
                steps[(k, be)].append(summary["steps_to_target"])

    head = "| K | cores | steps to target | step speedup | modelled (a core per worker) | " \
           "modelled (this machine) |"
    line = "|---|---|---|---|---|---|"
    for be in backends:
        head += f" {be}: train s | {be}: speedup | {be}: process s |"
        line += "---|---|---|"
    print(head)
    print(line)
    base = {be: statistics.median(times[(1, be)]) for be in backends}
    base_steps = modelled[1]["steps_to_target"]
    for k in workers:
        m = modelled[k]
        cores = min(k, a.cores)
        here = base_steps * a.b / (m["steps_to_target"] * a.b * math.ceil(k / cores) +
                                   2.0 * (k - 1) * rho * m["rounds"])
        row = (f"| {k} | {cores} | {m['steps_to_target']:.0f} | {m['speedup']:.2f} | "
               f"{m['time_speedup']:.2f} | {here:.2f} |")
        for be in backends:
            t = statistics.median(times[(k, be)])
            row += (f" {t:.3f} | {base[be] / t:.2f} | "
                    f"{statistics.median(walls[(k, be)]):.2f} |")
        print(row, flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""One Local SGD average over MPI, as --backend mpi does each round: MPI_Allreduce of d
doubles at R ranks, for d = 1e3 ... 1e7 (build/bin/mpi_allreduce under mpirun). Prints a
markdown table of the median round time, rounds/s and 8·d bytes / time.

    bash .ci/setup --bench && /usr/bin/python3 bench/mpi.py [--ranks 2,4]
"""
import argparse
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "bin", "mpi_allreduce")
SIZES = ["1000", "10000", "100000", "1000000", "10000000"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="2,4")
    args = parser.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    print("| R | d | round (median) | rounds/s | GB/s (8·d bytes / round) |")
    print("|---|---|---|---|---|")
    for ranks in args.ranks.split(","):
        out = subprocess.run(["mpirun", "-np", ranks, "--oversubscribe", "--bind-to", "none",
                              BENCH, *SIZES], check=True, capture_output=True, text=True,
                             env=env).stdout
        for line in out.strip().splitlines():
            r = json.loads(line)
            print(f"| {r['ranks']} | {r['d']:.0e} | {r['median_seconds'] * 1e3:.3g} ms | "
                  f"{r['rounds_per_second']:.3g} | {r['gb_per_second']:.3g} |", flush=True)


if __name__ == "__main__":
    main()

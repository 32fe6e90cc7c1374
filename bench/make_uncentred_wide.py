#!/usr/bin/env python3
"""Writes a LIBSVM file of binary rows with many dense features of one scale, all far from
centred (each N(3, 1)), labelled +1/-1 by a random linear model plus noise: the data on
which scaling the features' diagonal changes nothing and centring them is what counts.

    python3 bench/make_uncentred_wide.py ROWS COLS SEED OUT

The file depends only on the arguments (Python's Mersenne Twister), so the figures in
docs/BENCHMARKS.md ("Default runs on wide, uncentred features") can be re-run."""
import random
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    rows, cols, seed = (int(a) for a in sys.argv[1:4])
    rng = random.Random(seed)
    weights = [rng.gauss(0, 1) for _ in range(cols)]
    with open(sys.argv[4], "w") as out:
        for _ in range(rows):
            z = [rng.gauss(0, 1) for _ in range(cols)]
            margin = sum(w * v for w, v in zip(weights, z)) / cols ** 0.5 + rng.gauss(0, 0.5)
            label = "+1" if margin > 0 else "-1"
            out.write(label + " " + " ".join(f"{j + 1}:{v + 3:.6g}" for j, v in enumerate(z)) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a LIBSVM file of multiclass rows whose features are unscaled, as raw real data
often is: each column's scale is 10^U(-2, 4) and its values sit about 3 scales away from 0.
Classes are Gaussian clusters (centres N(0, 1), spread 1.5 before scaling), labels 1..C.

    python3 bench/make_unscaled_multiclass.py ROWS COLS CLASSES SEED OUT

The file depends only on the arguments (Python's Mersenne Twister), so the exact solver's
figures in docs/BENCHMARKS.md ("Unscaled features and many classes") can be re-run."""
import random
import sys


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    rows, cols, classes, seed = (int(a) for a in sys.argv[1:5])
    rng = random.Random(seed)
    scales = [10 ** rng.uniform(-2, 4) for _ in range(cols)]
    centres = [[rng.gauss(0, 1) for _ in range(cols)] for _ in range(classes)]
    with open(sys.argv[5], "w") as out:
        for _ in range(rows):
            c = rng.randrange(classes)
            x = [(centres[c][j] + rng.gauss(0, 1.5) + 3) * scales[j] for j in range(cols)]
            out.write(str(c + 1) + " " + " ".join(f"{j + 1}:{v:.6g}" for j, v in enumerate(x)) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a sparse binary LIBSVM problem of ROWS rows over D features, NNZ per row: the
shape of text data (news20, rcv1, url), where Local SGD's workers touch few coordinates
between syncs. Deterministic: the same arguments give the same file.

  python3 bench/make_sparse.py OUT [--rows 20000] [--dim 1000000] [--nnz 20] [--seed 1]
"""
import argparse
import random


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--dim", type=int, default=1000000)
    p.add_argument("--nnz", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    # A planted model on the features; labels follow its sign, 10% flipped.
    truth = {}
    with open(a.out + ".tmp", "w") as f:
        for _ in range(a.rows):
            cols = sorted(rng.sample(range(1, a.dim + 1), a.nnz))
            vals = [rng.random() for _ in cols]
            margin = 0.0
            for c, v in zip(cols, vals):
                w = truth.setdefault(c, rng.gauss(0, 1))
                margin += w * v
            label = 1 if margin > 0 else -1
            if rng.random() < 0.1:
                label = -label
            f.write(("+1" if label > 0 else "-1") + "".join(
                f" {c}:{v:.6f}" for c, v in zip(cols, vals)) + "\n")
    import os
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Local SGD for L2-regularised logistic regression in PyTorch over gloo: the peer
bench/peers.py runs next to localsgd.

Written as a competent PyTorch user would: K processes (torch.multiprocessing), one
thread each, the data as a dense float64 tensor (these data sets have at most a few
hundred columns), mini-batches drawn with torch.randint, the gradient in closed form
(no autograd: it would only add overhead to a linear model), and every H steps the
models averaged with dist.all_reduce. Prints one JSON line: samples per second of the
training loop (loading and process start excluded) and f at the averaged model.

  /usr/bin/python3 bench/torch_local_sgd.py FILE [-K 2] [-b 4] [-H 16] [--eta 0.5] [--epochs 5]
"""
import argparse
import json
import os
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from sklearn.datasets import load_svmlight_file


def objective(X, y, w, lam):
    z = X @ w
    return float(torch.nn.functional.softplus(-y * z).mean() + 0.5 * lam * (w @ w))


def worker(rank, args, X, y, init_file, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=args.K)
    n, d = X.shape
    lam = 1.0 / n
    steps = int(args.epochs * n / (args.K * args.b))
    gen = torch.Generator().manual_seed(1000 + rank)
    w = torch.zeros(d, dtype=torch.float64)
    dist.barrier()
    start = time.perf_counter()
    for t in range(steps):
        idx = torch.randint(n, (args.b,), generator=gen)
        xb, yb = X[idx], y[idx]
        coef = -yb * torch.sigmoid(-yb * (xb @ w))  # d/dz log(1 + exp(-y z))
        w.mul_(1 - args.eta * lam).sub_(xb.T @ coef, alpha=args.eta / args.b)
        if (t + 1) % args.H == 0 or t + 1 == steps:
            dist.all_reduce(w)
            w.div_(args.K)
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        out.put({"samples": steps * args.K * args.b, "seconds": seconds,
                 "samples_per_second": steps * args.K * args.b / seconds,
                 "objective": objective(X, y, w, lam)})
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("-K", type=int, default=2)
    p.add_argument("-b", type=int, default=4)
    p.add_argument("-H", type=int, default=16)
    p.add_argument("--eta", type=float, default=0.5)
    p.add_argument("--epochs", type=float, default=5)
    args = p.parse_args()
    A, labels = load_svmlight_file(args.file)
    X = torch.from_numpy(np.ascontiguousarray(A.toarray(), dtype=np.float64))
    y = torch.from_numpy(np.where(labels > 0, 1.0, -1.0))
    X.share_memory_()
    y.share_memory_()
    ctx = mp.get_context("spawn")
    out = ctx.SimpleQueue()
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(worker, args=(args, X, y, os.path.join(tmp, "init"), out), nprocs=args.K,
                 join=True)
    print(json.dumps(out.get()))


if __name__ == "__main__":
    main()

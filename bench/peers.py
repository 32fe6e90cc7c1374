#!/usr/bin/env python3
"""localsgd next to its peers, interleaved, medians and ratios from one run.

Figures (every one printed as a markdown table; docs/BENCHMARKS.md quotes them):
  1 per core     samples/s on one thread, b = 1 and b = 4: localsgd (-K 1), the bare C++
                 loop (bench/bare_loop.hpp), scikit-learn's SGDClassifier.fit (b = 1;
                 it has no mini-batches); ratios localsgd / bare and localsgd / sklearn
  2 threads      localsgd K = 4, b = 4: --threads 2 / --threads 1 at H = 16 and 64, and
                 the default thread count / --threads 1 at H = 1 and 4 (w8a)
  3 local SGD    K = 2, b = 4, H = 16 on two cores: localsgd (threads) vs PyTorch + gloo
                 (bench/torch_local_sgd.py, two processes); samples/s and f at the end
  4 to target    whole process to (f - f*)/f* <= 1e-2: localsgd (tuned constant step,
                 --target-rel with the given f*) vs liblinear-train -s 0 -c 1 (the same
                 problem: C = 1 is lambda = 1/n), its -e chosen to reach the target;
                 LIBLINEAR's f computed here from its model file
  5 scaling      localsgd samples/s as K goes 1, 2, 4, 16 (w8a, b = 4, H = 16) and as d
                 goes 1e2 ... 1e6 (synthetic, 1e5 rows, 20 entries per row, K = 4)

  bash bench/setup && bash .ci/setup --bench   # the peers, then localsgd's Release build
  /usr/bin/python3 bench/peers.py [--repeats 5] [--data w8a,a9a,ijcnn1] [--only 1,2,3,4,5]

Before timing, check that nothing else uses a core (uptime; top -bn1). Each repetition
runs every contender once, in turn, so all see the same minutes of machine noise.
"""
import argparse
import json
import lzma
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
CLI = os.path.join(BIN, "localsgd")
DATA = os.path.join(ROOT, "..", "shared", "data")
PY = "/usr/bin/python3"  # Debian's, with python3-sklearn and python3-torch

# f* of L2-logistic regression with lambda = 1/n (`localsgd solve --plugin logreg`).
FSTAR = {"w8a": 0.12618068651052317, "a9a": 0.3233795824648465, "ijcnn1": 0.18812010464085727}
# The constant step that reaches 1e-2 in the fewest passes with the default K = 4, b = 4,
# H = 1 schedule, from eta in {0.5, 1, 2, 4, 8} (section 4 re-checks that it does).
TUNED_ETA = {"w8a": 2.0, "a9a": 0.5, "ijcnn1": 4.0}
# LIBLINEAR's stopping tolerance per data set: the loosest of {0.1, 0.03, 0.01, 0.003}
# whose model reaches 1e-2 (section 4 prints the suboptimality it reached).
LIBLINEAR_EPS = {"w8a": 0.03, "a9a": 0.03, "ijcnn1": 0.1}


def median(xs):
    return statistics.median(xs)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def localsgd(path, *args):
    # i.i.d. sampling, as the bare loop and the peers' figures in docs/BENCHMARKS.md use
    return run_json([CLI, "train", "--plugin", "logreg", "--data", path, "--format", "json",
                     "--sampling", "iid", *map(str, args)])


def bare(path, b, epochs):
    return run_json([os.path.join(BIN, "bare_loop"), path, str(b), str(epochs)])


def sklearn_sgd(path, epochs, eta):
    code = f"""
import json, time
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import SGDClassifier
X, y = load_svmlight_file({path!r})
n = X.shape[0]
m = SGDClassifier(loss="log_loss", alpha=1.0 / n, learning_rate="constant", eta0={eta},
                  max_iter={epochs}, tol=None, fit_intercept=False, random_state=1)
start = time.perf_counter()
m.fit(X, y)
s = time.perf_counter() - start
print(json.dumps({{"samples_per_second": {epochs} * n / s}}))
"""
    return run_json([PY, "-c", code])


def torch_local_sgd(path, K, b, H, eta, epochs):
    return run_json([PY, os.path.join(ROOT, "bench", "torch_local_sgd.py"), path, "-K", str(K),
                     "-b", str(b), "-H", str(H), "--eta", str(eta), "--epochs", str(epochs)])


def liblinear_objective(model_file, path):
    """f(w) = mean log(1 + exp(-y w.x)) + |w|^2 / (2n) for LIBLINEAR's model on `path`."""
    code = f"""
import json, numpy as np
from sklearn.datasets import load_svmlight_file
X, y = load_svmlight_file({path!r})
lines = open({model_file!r}).read().split("\\n")
labels = next(l for l in lines if l.startswith("label")).split()[1:]
w = np.array([float(l) for l in lines[lines.index("w") + 1:] if l.strip()])
if labels[0] != "1" and labels[0] != "+1": w = -w   # LIBLINEAR's w scores its first label
w = np.pad(w, (0, max(0, X.shape[1] - len(w))))[:X.shape[1]]
yy = np.where(y > 0, 1.0, -1.0)
n = X.shape[0]
print(json.dumps({{"objective": float(np.logaddexp(0, -yy * (X @ w)).mean() + w @ w / (2 * n))}}))
"""
    return run_json([PY, "-c", code])["objective"]


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(flush=True)


def fmt(x, digits=3):
    return f"{x:.{digits}g}"


def msps(x):
    return f"{x / 1e6:.2f} M/s"


def per_core(files, repeats):
    print("### 1. Per core: samples/s on one thread\n")
    rows = []
    for name, path in files.items():
        for b in (1, 4):
            ls, br, sk = [], [], []
            for _ in range(repeats):
                ls.append(localsgd(path, "-K", 1, "-b", b, "-H", 1000000, "--lr", "constant",
                                   "--lr-param", "eta=0.5", "--epochs", 20, "--threads", 1)
                          ["samples_per_second"])
                br.append(bare(path, b, 20)["samples_per_second"])
                if b == 1:
                    sk.append(sklearn_sgd(path, 20, 0.5)["samples_per_second"])
            ratio_bare = median([x / y for x, y in zip(ls, br)])
            rows.append([name, str(b), msps(median(ls)), msps(median(br)), fmt(ratio_bare, 2),
                         msps(median(sk)) if sk else "–",
                         fmt(median([x / y for x, y in zip(ls, sk)]), 2) if sk else "–"])
    table(["data", "b", "localsgd", "bare loop", "localsgd / bare", "sklearn SGDClassifier",
           "localsgd / sklearn"], rows)


def threads(files, repeats):
    print("### 2. Threads: localsgd K = 4, b = 4 on w8a\n")
    path = files.get("w8a") or next(iter(files.values()))
    rows = []
    for H, many in ((16, 2), (64, 2), (1, 0), (4, 0)):
        one, two, used = [], [], 0
        for _ in range(repeats):
            common = ["-K", 4, "-b", 4, "-H", H, "--lr", "constant", "--lr-param", "eta=0.5",
                      "--steps", 250000]
            one.append(localsgd(path, *common, "--threads", 1)["samples_per_second"])
            s = localsgd(path, *common, "--threads", many)
            two.append(s["samples_per_second"])
            used = s["threads"]
        label = "--threads 2" if many else f"default ({used} thread{'s' if used > 1 else ''})"
        rows.append([str(H), label, msps(median(one)), msps(median(two)),
                     fmt(median([y / x for x, y in zip(one, two)]), 3)])
    table(["H", "threads", "1 thread", "more", "ratio"], rows)


def local_sgd_peer(files, repeats):
    print("### 3. Local SGD, K = 2, b = 4, H = 16, eta = 0.5, 2 passes, two cores\n")
    rows = []
    for name, path in files.items():
        ls, pt, f_ls, f_pt = [], [], 0.0, 0.0
        for _ in range(repeats):
            s = localsgd(path, "-K", 2, "-b", 4, "-H", 16, "--lr", "constant", "--lr-param",
                         "eta=0.5", "--epochs", 2, "--threads", 2)
            ls.append(s["samples_per_second"])
            f_ls = s["objective_last"]
            t = torch_local_sgd(path, 2, 4, 16, 0.5, 2)
            pt.append(t["samples_per_second"])
            f_pt = t["objective"]
        rows.append([name, msps(median(ls)), msps(median(pt)),
                     fmt(median([x / y for x, y in zip(ls, pt)]), 3), f"{f_ls:.4f}", f"{f_pt:.4f}"])
    table(["data", "localsgd", "PyTorch + gloo", "ratio", "f(x̄) localsgd", "f(x̄) PyTorch"], rows)


def to_target(files, repeats):
    print("### 4. Whole process to (f − f*)/f* ≤ 1e-2\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "model")
        for name, path in files.items():
            ls, ll = [], []
            reached = None
            for _ in range(repeats):
                cmd = [CLI, "train", "--plugin", "logreg", "--data", path, "--lr", "constant",
                       "--lr-param", f"eta={TUNED_ETA[name]}", "--target-rel", "1e-2",
                       "--fstar", repr(FSTAR[name]), "--epochs", 100, "--sampling", "iid",
                       "--format", "json"]
                cmd = list(map(str, cmd))
                ls.append(wall(cmd))
                ll.append(wall(["liblinear-train", "-q", "-s", "0", "-c", "1", "-e",
                                str(LIBLINEAR_EPS[name]), path, model]))
            summary = run_json(cmd)
            reached = summary["rel_suboptimality"]
            ll_rel = (liblinear_objective(model, path) - FSTAR[name]) / FSTAR[name]
            rows.append([name, f"eta={TUNED_ETA[name]}", f"{median(ls) * 1e3:.0f} ms",
                         fmt(reached, 2), f"-e {LIBLINEAR_EPS[name]}", f"{median(ll) * 1e3:.0f} ms",
                         fmt(ll_rel, 2), fmt(median([y / x for x, y in zip(ls, ll)]), 2)])
    table(["data", "localsgd", "time", "rel. subopt.", "LIBLINEAR", "time", "rel. subopt.",
           "LIBLINEAR time / localsgd time"], rows)


def scaling(files, repeats):
    print("### 5. Scaling: localsgd samples/s (default threads, b = 4, H = 16, constant eta = 0.5)\n")
    path = files.get("w8a") or next(iter(files.values()))
    rows = []
    for K in (1, 2, 4, 16):
        xs = [localsgd(path, "-K", K, "-b", 4, "-H", 16, "--lr", "constant", "--lr-param",
                       "eta=0.5", "--steps", 1000000 // K)["samples_per_second"]
              for _ in range(repeats)]
        rows.append([f"w8a, K = {K}", msps(median(xs))])
    for d in (100, 10000, 1000000):
        params = ["--reader", "synthetic", "--reader-param", "n=100000", "--reader-param",
                  f"d={d}", "--reader-param", f"density={min(1.0, 20 / d)}"]
        xs = []
        for _ in range(repeats):
            out = subprocess.run([CLI, "train", "--plugin", "logreg", *params, "-K", "4", "-b", "4",
                                  "-H", "16", "--lr", "constant", "--lr-param", "eta=0.5",
                                  "--steps", "250000", "--sampling", "iid", "--format", "json"],
                                 check=True, capture_output=True, text=True).stdout
            xs.append(json.loads(out.strip().splitlines()[-1])["samples_per_second"])
        rows.append([f"synthetic d = {d:.0e}, K = 4", msps(median(xs))])
    table(["run", "samples/s"], rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--data", default="w8a,a9a,ijcnn1")
    p.add_argument("--only", default="1,2,3,4,5")
    a = p.parse_args()
    for tool in (CLI, os.path.join(BIN, "bare_loop")):
        if not os.path.exists(tool):
            sys.exit(f"peers.py: {tool} is missing; build first (bash .ci/setup --bench)")
    if shutil.which("liblinear-train") is None:
        sys.exit("peers.py: liblinear-train is missing; run bash bench/setup")
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name in a.data.split(","):
            path = os.path.join(DATA, name)
            if not os.path.exists(path) and os.path.exists(path + ".xz"):
                # sklearn and LIBLINEAR read plain text only: every tool reads this copy
                path = os.path.join(tmp, name)
                with lzma.open(os.path.join(DATA, name + ".xz")) as src, open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            files[name] = path
        with open("/proc/loadavg") as f:
            print(f"<!-- bench/peers.py --repeats {a.repeats}; load average before: "
                  f"{f.read().split()[0]}; {time.strftime('%Y-%m-%d %H:%M')} -->\n")
        sections = {"1": per_core, "2": threads, "3": local_sgd_peer, "4": to_target,
                    "5": scaling}
        for key in a.only.split(","):
            sections[key](files, a.repeats)


if __name__ == "__main__":
    main()

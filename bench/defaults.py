#!/usr/bin/python3
"""Default options against f*, next to scikit-learn's SGD defaults (issue 12's table).

For each data set and objective: f* from `localsgd solve`; `localsgd train --plugin P
--data F` with no other option (wall time of the whole command: loading, the step-size
probes, training); scikit-learn's SGDClassifier / SGDRegressor with its defaults except
what makes it minimise the same objective (log loss or squared error, alpha = lambda =
1/n, no intercept), timed around fit(). Relative suboptimality (f - f*)/f* for both; for
multiclass data scikit-learn trains one-vs-rest, a different objective, so only the
training accuracies are compared.

Besides ../shared/data it writes scikit-learn's bundled sets as LIBSVM files: breast
cancer (raw features spanning 1e-3..4e3, and standardised), digits / 16 and raw (10
classes), wine (raw), diabetes (targets 25..346, not centred), and a seeded regression
set with feature scales 1e-3..1e4 and targets around 5,000 (huber).

    bash bench/setup && bash .ci/setup && /usr/bin/python3 bench/defaults.py

With --seeds 1,2,3,4,5 it runs localsgd only, once per seed (`--seed S`, nothing else),
and prints the worst and the median (f - f*)/f* per data set: how much the default
depends on the seed that picks its probes' sample. --cli PATH runs another build.
"""
import argparse
import json
import lzma
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.datasets import dump_svmlight_file, load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "build", "bin", "localsgd")
SHARED = os.path.join(ROOT, "..", "shared", "data")


def cli_json(*args):
    out = subprocess.run([CLI, *args, "--format", "json"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def write_bundled(directory):
    files = {}

    def dump(name, X, y):
        path = os.path.join(directory, name)
        dump_svmlight_file(X, y, path, zero_based=False)
        files[name] = path

    bc = datasets.load_breast_cancer()
    y = np.where(bc.target == 1, 1, -1)
    dump("breast_cancer_raw", bc.data, y)
    dump("breast_cancer_std", StandardScaler().fit_transform(bc.data), y)
    digits = datasets.load_digits()
    dump("digits_01", digits.data / 16.0, digits.target)
    dump("digits_raw", digits.data, digits.target)  # pixel values 0..16, nearly separable
    wine = datasets.load_wine()
    dump("wine_raw", wine.data, wine.target)
    diabetes = datasets.load_diabetes()
    dump("diabetes", diabetes.data, diabetes.target)
    # Regression with feature scales 1e-3..1e4, far from centred, and targets around 5,000.
    rng = np.random.default_rng(0)
    scales = np.logspace(-3, 4, 20)
    X = rng.normal(size=(2000, 20)) * scales + 3 * scales
    w = rng.normal(size=20) / scales
    dump("uncentred_targets", X, 100 * X @ w + 5000)
    return files


def plain_text(path, directory):
    """scikit-learn reads .gz and .bz2 but not .xz."""
    if not path.endswith(".xz"):
        return path
    out = os.path.join(directory, os.path.basename(path)[:-3])
    with lzma.open(path) as src, open(out, "wb") as dst:
        dst.write(src.read())
    return out


def objective_value(plugin, X, y, W, lam):
    """f of our objectives at scikit-learn's weights."""
    z = X @ W
    if plugin == "logreg":
        return np.mean(np.logaddexp(0, -y * z)) + 0.5 * lam * W @ W
    if plugin == "ridge":
        return 0.5 * np.mean((z - y) ** 2) + 0.5 * lam * W @ W
    if plugin == "huber":  # delta = 1, the plugin's default and scikit-learn's epsilon below
        r = np.abs(z - y)
        return np.mean(np.where(r <= 1, 0.5 * r * r, r - 0.5)) + 0.5 * lam * W @ W
    raise ValueError(plugin)


def sklearn_run(plugin, path):
    X, y = load_svmlight_file(path)
    X = X.toarray() if X.shape[1] <= 1000 else X
    lam = 1.0 / X.shape[0]
    if plugin == "ridge":
        model = SGDRegressor(alpha=lam, fit_intercept=False, random_state=1)
    elif plugin == "huber":
        model = SGDRegressor(loss="huber", epsilon=1.0, alpha=lam, fit_intercept=False,
                             random_state=1)
    else:
        model = SGDClassifier(loss="log_loss", alpha=lam, fit_intercept=False, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    if plugin == "softmax":
        return None, seconds, float(np.mean(model.predict(X) == y))
    return objective_value(plugin, X, y, np.ravel(model.coef_), lam), seconds, None


def localsgd_run(plugin, path):
    start = time.perf_counter()
    summary = cli_json("train", "--plugin", plugin, "--data", path)
    seconds = time.perf_counter() - start
    accuracy = None
    if plugin == "softmax":
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "m")
            cli_json("train", "--plugin", plugin, "--data", path, "--out", model)
            accuracy = cli_json("eval", "--model", model, "--data", path)["accuracy"]
    return summary, seconds, accuracy


def seed_spread(cases, seeds):
    print("| data | objective | worst (f − f*)/f* over seeds | median | worst seed |")
    print("|---|---|---|---|---|")
    for plugin, path in cases:
        fstar = cli_json("solve", "--plugin", plugin, "--data", path)["fstar"]
        rel = {s: (cli_json("train", "--plugin", plugin, "--data", path, "--seed", str(s))
                   ["objective"] - fstar) / abs(fstar) for s in seeds}
        worst = max(rel, key=rel.get)
        print(f"| {os.path.basename(path)} | {plugin} | {rel[worst]:.2g} | "
              f"{statistics.median(rel.values()):.2g} | {worst} |", flush=True)


def main():
    global CLI
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", help="e.g. 1,2,3,4,5: localsgd only, worst and median")
    parser.add_argument("--cli", default=CLI, help="the localsgd executable")
    args = parser.parse_args()
    CLI = args.cli
    with tempfile.TemporaryDirectory() as tmp:
        bundled = write_bundled(tmp)
        cases = [("logreg", os.path.join(SHARED, "w8a")), ("logreg", os.path.join(SHARED, "a9a")),
                 ("logreg", os.path.join(SHARED, "ijcnn1.xz")),
                 ("logreg", bundled["breast_cancer_std"]), ("logreg", bundled["breast_cancer_raw"]),
                 ("softmax", os.path.join(SHARED, "dna.scale")), ("softmax", bundled["digits_01"]),
                 ("softmax", bundled["digits_raw"]), ("softmax", bundled["wine_raw"]),
                 ("ridge", os.path.join(SHARED, "abalone_scale")), ("ridge", bundled["diabetes"]),
                 ("huber", bundled["uncentred_targets"])]
        if args.seeds:
            return seed_spread(cases, [int(s) for s in args.seeds.split(",")])
        print("| data | objective | localsgd default: (f − f*)/f* | time | preconditioner, step "
              "| scikit-learn SGD default: (f − f*)/f* | time |")
        print("|---|---|---|---|---|---|---|")
        for plugin, path in cases:
            name = os.path.basename(path)
            fstar = cli_json("solve", "--plugin", plugin, "--data", path)["fstar"]
            summary, seconds, accuracy = localsgd_run(plugin, path)
            rel = (summary["objective"] - fstar) / abs(fstar)
            f_sk, sk_seconds, sk_accuracy = sklearn_run(plugin, plain_text(path, tmp))
            if f_sk is None:
                ours = f"{rel:.2g} (train accuracy {accuracy:.4f})"
                theirs = f"one-vs-rest (train accuracy {sk_accuracy:.4f})"
            else:
                ours = f"{rel:.2g}"
                theirs = f"{(f_sk - fstar) / abs(fstar):.2g}"
            print(f"| {name} | {plugin} | {ours} | {seconds:.2f} s | {summary['preconditioner']}, "
                  f"`{summary['lr']}` | {theirs} | {sk_seconds:.2f} s |", flush=True)


if __name__ == "__main__":
    sys.exit(main())

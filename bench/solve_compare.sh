#!/bin/bash
# `localsgd solve` of two builds side by side (docs/BENCHMARKS.md, "The exact solver"):
# dense synthetic problems (the Newton-Cholesky Hessian's dense path) and the shared
# sparse data sets (its entry-by-entry path). Runs alternate between the builds; prints
# the median of 3 of the summary's `seconds` (the solve, loading excluded) and old/new.
#
#   bash bench/solve_compare.sh OLD_BUILD/bin/localsgd build/bin/localsgd [SUBSTRING]
#
# Run from the repository's root (the data sets are read from ../shared/data; the
# unscaled multiclass ones are made by bench/make_unscaled_multiclass.py into $TMPDIR).
set -euo pipefail
old=$1; new=$2
only=${3:-}  # a substring: only the cases that contain it
made=${TMPDIR:-/tmp}/localsgd-solve-bench
mkdir -p "$made"
[[ -s $made/unscaled-6000x20-c50.svm ]] ||
  python3 bench/make_unscaled_multiclass.py 6000 20 50 1 "$made/unscaled-6000x20-c50.svm"
[[ -s $made/unscaled-2000x20-c10.svm ]] ||
  python3 bench/make_unscaled_multiclass.py 2000 20 10 2 "$made/unscaled-2000x20-c10.svm"
cases=(
 "--plugin softmax --data $made/unscaled-6000x20-c50.svm"
 "--plugin softmax --data $made/unscaled-2000x20-c10.svm"
 "--plugin logreg --reader synthetic --reader-param n=20000 --reader-param d=500 --reader-param density=1"
 "--plugin logreg --reader synthetic --reader-param n=4000 --reader-param d=1000 --reader-param density=1"
 "--plugin logreg --reader synthetic --reader-param n=300 --reader-param d=2000 --reader-param density=1"
 "--plugin logreg --data ../shared/data/ijcnn1.xz"
 "--plugin logreg --data ../shared/data/a9a"
 "--plugin logreg --data ../shared/data/w8a"
)
for c in "${cases[@]}"; do
  [[ -n $only && $c != *"$only"* ]] && continue
  o=(); n=()
  for r in 1 2 3; do
    # A solve that fails (did not converge: exit 1) counts as inf.
    o+=($( ($old solve $c --format json || true) | grep -o '"seconds":[0-9.e-]*' | cut -d: -f2 || echo inf))
    n+=($( ($new solve $c --format json || true) | grep -o '"seconds":[0-9.e-]*' | cut -d: -f2 || echo inf))
  done
  mo=$(printf '%s\n' "${o[@]}" | sort -g | sed -n 2p); mn=$(printf '%s\n' "${n[@]}" | sort -g | sed -n 2p)
  ratio=inf; [[ $mo != inf && $mn != inf ]] && ratio=$(echo "$mo / $mn" | bc -l)
  printf '%-100s old %8s s  new %8s s  ratio %6.6s\n' "$c" "$mo" "$mn" "$ratio"
done

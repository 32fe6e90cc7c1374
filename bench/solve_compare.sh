#!/bin/bash
# `localsgd solve` of two builds side by side (docs/BENCHMARKS.md, "The exact solver"):
# dense synthetic problems (the Newton-Cholesky Hessian's dense path) and the shared
# sparse data sets (its entry-by-entry path). Runs alternate between the builds; prints
# the median of 3 of the summary's `seconds` (the solve, loading excluded) and old/new.
#
#   bash bench/solve_compare.sh OLD_BUILD/bin/localsgd build/bin/localsgd [SUBSTRING]
#
# Run from the repository's root (the data sets are read from ../shared/data).
set -euo pipefail
old=$1; new=$2
only=${3:-}  # a substring: only the cases that contain it
cases=(
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
    o+=($($old solve $c --format json | grep -o '"seconds":[0-9.e-]*' | cut -d: -f2))
    n+=($($new solve $c --format json | grep -o '"seconds":[0-9.e-]*' | cut -d: -f2))
  done
  mo=$(printf '%s\n' "${o[@]}" | sort -g | sed -n 2p); mn=$(printf '%s\n' "${n[@]}" | sort -g | sed -n 2p)
  printf '%-100s old %8.3f s  new %8.3f s  ratio %6.2f\n' "$c" "$mo" "$mn" "$(echo "$mo / $mn" | bc -l)"
done

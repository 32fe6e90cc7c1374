#!/bin/bash
# The experiments of docs/PAPER.md, each writing its table (and plot) into docs/paper/.
# Every sweep tunes (eta0, c) of the inverse-time rule per point over their product.
#
#   bash .ci/setup && bash bench/paper.sh [main|last|shift|skew|rate|all]
#
# main: the full grid to eps = 1e-3 and 5e-3 (with Theorem 2.2 beside it). On the coarse
# grid K 1,4,16 x H 1,16,256 at eps = 1e-3 (its x_hat points are main's: every point is
# independent of the others): last: the last average x_bar; shift: the weights' shift
# a = 0; skew: label-skewed data (alpha 0.1 and 1; also where they stall, and alpha = 1
# at eps = 5e-3). rate: f(x_hat) - f* against T at
# H = 16 for K = 1, 4, 16 with the fitted slope.
set -euo pipefail
cd "$(dirname "$0")/.."
LOCALSGD=build/bin/localsgd
DATA=../shared/data/w8a
FSTAR=0.12618068651051342  # localsgd solve --plugin logreg --data ../shared/data/w8a
OUT=docs/paper
mkdir -p "$OUT"

COMMON=(--plugin logreg --data "$DATA" -b 4 --fstar "$FSTAR" --repeats 3 --lr invtime
  --lr-grid eta0=0.25,1,4,16,64,256 --lr-grid c=0.015625,0.0625,0.25,1,4 --sampling iid --max-epochs 50)
FULL=(-K 1,2,4,8,16 -H 1,2,4,8,16,32,64,128,256)
COARSE=(-K 1,4,16 -H 1,16,256)

timed() {  # timed NAME COMMAND...: run, and say how long it took
  local name=$1
  shift
  local start=$SECONDS
  "$@"
  echo "$name: $((SECONDS - start)) s" >&2
}

what=${1:-all}
if [[ $what == main || $what == all ]]; then
  for eps in 1e-3 5e-3; do
    timed "main $eps" "$LOCALSGD" sweep "${COMMON[@]}" "${FULL[@]}" --target "$eps" --theory \
      --plot "$OUT/speedup_$eps.svg" --out "$OUT/sweep_$eps.txt" > /dev/null
  done
fi
if [[ $what == last || $what == all ]]; then
  timed "last" "$LOCALSGD" sweep "${COMMON[@]}" "${COARSE[@]}" --target 1e-3 --measure x-bar \
    --out "$OUT/coarse_x_bar.txt" > /dev/null
fi
if [[ $what == shift || $what == all ]]; then
  timed "shift" "$LOCALSGD" sweep "${COMMON[@]}" "${COARSE[@]}" --target 1e-3 --avg-shift 0 \
    --out "$OUT/coarse_shift0.txt" > /dev/null
fi
if [[ $what == skew || $what == all ]]; then
  for alpha in 0.1 1; do
    timed "skew $alpha" "$LOCALSGD" sweep "${COMMON[@]}" "${COARSE[@]}" --target 1e-3 \
      --partition label-skew --partition-param "alpha=$alpha" \
      --out "$OUT/coarse_skew_$alpha.txt" > /dev/null
  done
  # Skewed runs stall above f* (see PAPER.md): where each stalls after 50 passes, with the
  # step size K = 1 wins with, and the speedup at a target the milder skew can reach.
  for alpha in 1 0.1; do
    for K in 4 16; do
      for H in 1 256; do
        "$LOCALSGD" train --plugin logreg --data "$DATA" -K "$K" -H "$H" -b 4 --fstar "$FSTAR" \
          --lr invtime --lr-param eta0=4 --lr-param c=0.25 --sampling iid --epochs 50 \
          --partition label-skew --partition-param "alpha=$alpha" --format json | tail -1
      done
    done
  done > "$OUT/skew_floor.jsonl"
  timed "skew 1, 5e-3" "$LOCALSGD" sweep "${COMMON[@]}" "${COARSE[@]}" --target 5e-3 \
    --partition label-skew --partition-param alpha=1 --out "$OUT/coarse_skew_1_5e-3.txt" > /dev/null
fi
if [[ $what == rate || $what == all ]]; then
  # Each K with the (eta0, c) its H = 16 point won at eps = 1e-3 (docs/paper/sweep_1e-3.txt),
  # 50 passes, 8 evaluations per pass, seeds 1-3; each summary's rate_slope is its fit.
  for K in 1 4 16; do
    read -r eta0 c < <(awk -v K="$K" '$1 == K && $2 == 16 { print $4, $5 }' "$OUT/sweep_1e-3.txt")
    for seed in 1 2 3; do
      timed "rate K=$K seed=$seed" "$LOCALSGD" train --plugin logreg --data "$DATA" -K "$K" \
        -H 16 -b 4 --fstar "$FSTAR" --lr invtime --lr-param "eta0=$eta0" --lr-param "c=$c" \
        --sampling iid --epochs 50 --seed "$seed" --fit-rate --format json \
        > "$OUT/rate_K${K}_seed$seed.jsonl"
    done
  done
fi

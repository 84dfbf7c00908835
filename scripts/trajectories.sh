#!/usr/bin/env bash
# Writes the 51 `dcomp run` trajectories that every kernel change is held to (time_ms dropped, so the files
# must be byte-identical before and after a change that claims the same bits): every method × compressor on
# mushrooms and a9a, w8a ef21 + topk, the mlp with one and two hidden layers × four compressors.
#   scripts/trajectories.sh CHECKOUT OUTDIR        (CHECKOUT built: npm run build)
#   then: for f in before/*.csv; do cmp "$f" "after/$(basename "$f")"; done
# Datasets come from DCOMP_DATA_DIR (default ../shared/datasets beside the checkout).
set -u
co=$1
out=$2
mkdir -p "$out"
data=${DCOMP_DATA_DIR:-$(cd "$co/.." && pwd)/shared/datasets}
strip() {
  python3 -c "
import sys, csv
r = list(csv.reader(sys.stdin)); i = r[0].index('time_ms')
print('\n'.join(','.join(x[:i] + x[i + 1:]) for x in r))"
}
run() {
  local name=$1
  shift
  (cd "$co" && DCOMP_DATA_DIR="$data" node bin/dcomp run "$@" 2>/dev/null | strip >"$out/$name.csv")
}
for ds in mushrooms a9a; do
  for m in gd cgd ef ef21 topk-ssgd gtopk; do
    for c in topk randk imp-a imp-b imp-c hosvd; do
      case $m in
        gd) [ "$c" = topk ] || continue; run "$ds-$m" --dataset "$ds" --method gd --iters 40 --log-every 5 --workers 4 ;;
        topk-ssgd | gtopk) [ "$c" = topk ] || continue; run "$ds-$m" --dataset "$ds" --method "$m" --compressor topk --k 12 --iters 40 --log-every 5 --workers 8 --batch 64 ;;
        *)
          kk="--k 12"
          [ "$c" = hosvd ] && kk="--ranks 2"
          run "$ds-$m-$c" --dataset "$ds" --method "$m" --compressor "$c" $kk --step 0.5 --iters 25 --log-every 5 --workers 4 ;;
      esac
    done
  done
done
run big-topk --dataset w8a --method ef21 --compressor topk --k 200 --iters 20 --log-every 5 --workers 2
for h in 32 16,8; do
  for c in topk imp-a imp-b imp-c; do
    run "mlp-$h-$c" --problem mlp --hidden "$h" --dataset mushrooms --method cgd --compressor "$c" --k 50 --iters 20 --log-every 5 --holdout 0.2 --step 0.5
  done
done

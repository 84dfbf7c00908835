#!/usr/bin/env bash
# Prints the `include:` entries that give EF (no theory step, spec §4) exactly the step sizes EF21 is
# tuned over: for each dataset and k, γ_k = EF21's theory step with Top-k (the `step` column of a
# zero-iteration `dcomp run`), times the same factors 1, 2, 4, …, 2048. Extra `dcomp run` options (e.g.
# the authors' conventions: --split contiguous --shard-sizes floor) are passed through, since the
# split changes L̃ and so γ_k.
#   scripts/ef-step-grids.sh mushrooms,phishing,a9a,w8a 1,2,4,8,16,32,64 [dcomp run options...]
set -euo pipefail
cd "$(dirname "$0")/.."
datasets=${1:?datasets, comma-separated}
ks=${2:?k values, comma-separated}
shift 2
col() { head -1 | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
for ds in ${datasets//,/ }; do
  for k in ${ks//,/ }; do
    csv=$(node bin/dcomp run --dataset "$ds" --problem logreg-nonconvex --l2 0.1 --method ef21 --compressor topk --k "$k" --workers 20 --iters 0 "$@")
    c=$(col step <<<"$csv")
    step=$(tail -1 <<<"$csv" | cut -d, -f"$c")
    echo "  - {dataset: $ds, method: ef, k: $k, step: \"$step*[1,2,4,...,2048]\"}"
  done
done

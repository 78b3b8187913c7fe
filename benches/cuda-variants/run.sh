#!/usr/bin/env bash
# Builds variants.cu with nvcc for each kernel variant and runs the launch-shape sweep.
# Usage: benches/cuda-variants/run.sh OUT_DIR [TARGET_MS]   (needs nvcc and a GPU; ~1 minute on an H200)
# Writes OUT_DIR/variants.csv (all rows) and prints the best rows per case and variant.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?OUT_DIR}
ms=${2:-10}
mkdir -p "$out"
nvcc_bin=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d '.')
common=(-O3 -std=c++17 --fmad=false --ftz=false --prec-div=true --prec-sqrt=true "-arch=sm_$cc" -Xptxas -v)
# name|extra flags
variants=(
  "ilp4-cs|"
  "ilp2-cs|-DSGD_ILP=2"
  "ilp8-cs|-DSGD_ILP=8"
  "ilp4|-DSGD_CACHE_PLAIN=1"
  "ilp2|-DSGD_ILP=2 -DSGD_CACHE_PLAIN=1"
)
: >"$out/variants.csv"
: >"$out/ptxas.txt"
pids=()
for v in "${variants[@]}"; do
  name=${v%%|*}; flags=${v#*|}
  # shellcheck disable=SC2086
  ( "$nvcc_bin" "${common[@]}" -DVARIANT="\"$name\"" $flags -o "$out/variants-$name" "$here/variants.cu" \
      >"$out/ptxas-$name.txt" 2>&1 || echo "nvcc failed for $name" >>"$out/ptxas-$name.txt" ) &
  pids+=($!)
done
wait "${pids[@]}"
for v in "${variants[@]}"; do
  name=${v%%|*}
  { echo "== $name"; grep -A 3 -E "entry function 'sgd_multi_tensor_f32'|error|failed" "$out/ptxas-$name.txt" | tail -n 2; } >>"$out/ptxas.txt"
  if [ -x "$out/variants-$name" ]; then
    "$out/variants-$name" "$ms" | { if [ -s "$out/variants.csv" ]; then tail -n +2; else cat; fi; } >>"$out/variants.csv"
  fi
done
cat "$out/ptxas.txt"
python3 - "$out/variants.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by.setdefault(r["case"], []).append(r)
for case, rs in by.items():
    rs.sort(key=lambda r: float(r["step_us"]))
    copy = rs[0]["copy_us"]
    print(f"\n{case}: copy {copy} us; best 8 of {len(rs)}")
    for r in rs[:8]:
        print(f"  {r['variant']:<14} chunk {r['chunk']:>6} threads {r['threads']:>4} grid {r['grid']:>6} regs {r['regs']:>3}  {r['step_us']:>9} us  of_copy {r['of_copy']}")
    cur = [r for r in rs if r["variant"] == "ilp4-cs" and r["threads"] == "256"]
    print("  ilp4-cs (the library) at 256 threads, one block per chunk, by chunk:",
          ", ".join(f"{r['chunk']}:{r['step_us']}" for r in sorted(cur, key=lambda r: int(r['chunk'])) if int(r['grid']) * int(r['chunk']) >= int(r['elements'])))
PY

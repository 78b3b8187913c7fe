#!/usr/bin/env bash
# GPU check for sgd-cuda on any Linux machine with an NVIDIA GPU, the CUDA toolkit (NVRTC) and
# PyTorch, without a Rust toolchain:
#   1. runs the prebuilt sgd-cuda GPU tests (bitwise equality with the CPU scalar reference and
#      the torch golden vectors), failing instead of skipping when no GPU is usable;
#   2. benchmarks our step (direct launch and CUDA graph) against torch.optim.SGD(fused=True) and
#      (foreach=True), with a device-to-device copy of the same traffic as the baseline, all
#      measured in this run, and prints the comparison table and the targets;
#   3. runs sgd-cuda-capi/examples/torch_ctypes.py on the C ABI library in BIN_DIR: a short torch
#      training loop stepped through libsgd_cuda_capi.so on torch's current stream, bitwise
#      against the scalar reference (libsgd_cpu_capi.so), the step inside torch's own CUDA graph,
#      and its time against torch fused on the same tensors.
#
# Usage: scripts/gpu-check.sh [BIN_DIR]     (default device-bin/, made by scripts/build-device-bin.sh)
# Results: ${OUT:-./gpu-check-out}/{summary.txt,report.txt,*.log,*.jsonl}
# Per-part timeout: PART_TIMEOUT seconds (default 150). Whole run: about 1-3 minutes on an H200.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-device-bin}
out=${OUT:-./gpu-check-out}
part_timeout=${PART_TIMEOUT:-150}
mkdir -p "$out"
: >"$out/summary.txt"
rm -f "$out/ours.jsonl" "$out/torch.jsonl"
say() { echo "==> $*" | tee -a "$out/summary.txt"; }
failed=0

if [ ! -d "$bin" ] && [ -e "$here/../device-pack/device-bin.tar.xz" ]; then
  tar xJf "$here/../device-pack/device-bin.tar.xz" -C "$here/.."   # made by build-device-bin.sh
  bin="$here/../device-bin"
fi
if [ ! -d "$bin" ]; then
  echo "no $bin: build it with scripts/build-device-bin.sh (on a machine with Rust) and copy it here" >&2
  exit 2
fi
chmod +x "$bin"/* 2>/dev/null || true

# Environment.
{ nvidia-smi || true; } >"$out/nvidia-smi.txt" 2>&1
say "GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1 || echo unknown)"

# NVRTC: the CUDA install's own libnvrtc first (a newer NVRTC, e.g. from a pip wheel, emits
# PTX the installed driver cannot load); else the one bundled with PyTorch's pip packages.
nvrtc_dir=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/*/lib /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/*/lib /usr/lib/x86_64-linux-gnu; do
  if compgen -G "$d/libnvrtc.so*" >/dev/null; then nvrtc_dir=$d; break; fi
done
if [ -z "$nvrtc_dir" ]; then
  nvrtc_dir=$(python3 - <<'PY' 2>/dev/null || true
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
for r in roots:
    hits = sorted(glob.glob(os.path.join(r, "nvidia", "**", "libnvrtc.so*"), recursive=True))
    if hits:
        print(os.path.dirname(hits[0])); break
PY
)
fi
if [ -n "$nvrtc_dir" ]; then
  export LD_LIBRARY_PATH="$nvrtc_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
say "libnvrtc from: ${nvrtc_dir:-<not found>}"
export SGD_CUDA_REQUIRE_GPU=1 SGD_CUDA_REQUIRE_NVRTC=1
if [ -d "$here/../tests/golden" ]; then export GOLDEN_DIR="$here/../tests/golden"; fi

# 1. Tests.
shopt -s nullglob
tests=("$bin"/test-*)
if [ ${#tests[@]} -eq 0 ]; then say "no test executables in $bin"; failed=1; fi
for t in "${tests[@]}"; do
  name=$(basename "$t")
  if timeout "$part_timeout" "$t" --test-threads=1 >"$out/$name.log" 2>&1; then
    say "PASS $name ($(grep -E '^test result' "$out/$name.log" | tail -n 1))"
  else
    rc=$?
    say "FAIL $name (exit $rc$([ $rc -eq 124 ] && echo ', timed out')): see $out/$name.log"
    tail -n 30 "$out/$name.log" || true
    failed=1
  fi
done

# 2. Benchmarks (ours, then torch, in the same run).
if [ -x "$bin/bench-sgd_cuda" ]; then
  if SGD_CUDA_BENCH_JSON="$out/ours.jsonl" timeout "$part_timeout" "$bin/bench-sgd_cuda" --bench \
      >"$out/bench-sgd_cuda.log" 2>&1; then
    say "bench sgd-cuda done"
  else
    say "FAIL bench sgd-cuda (exit $?): see $out/bench-sgd_cuda.log"; failed=1
  fi
  cat "$out/bench-sgd_cuda.log"
else
  say "no $bin/bench-sgd_cuda"; failed=1
fi
if timeout "$part_timeout" python3 "$here/torch_cuda_sgd.py" "$out/torch.jsonl" >"$out/torch.log" 2>&1; then
  say "bench torch done"
else
  say "FAIL bench torch (exit $?): see $out/torch.log"; tail -n 20 "$out/torch.log" || true
fi

python3 "$here/torch_cuda_sgd.py" --report "$out/ours.jsonl" "$out/torch.jsonl" | tee "$out/report.txt" \
  || echo "report failed (see above); the checks below still run"

# 2b. Launch-shape sweep (SWEEP=0 skips it): our graph-replayed step for every chunk size x
#     block size at 1M, 16M and 256M elements, then, where nvcc is installed, the kernel source
#     itself built with other ILP / cache-hint / launch-bounds settings (benches/cuda-variants).
if [ "${SWEEP:-1}" != 0 ] && [ -x "$bin/bench-sgd_cuda" ]; then
  if SGD_CUDA_SWEEP=1 SGD_CUDA_BENCH_MS=${SWEEP_MS:-20} SGD_CUDA_BENCH_JSON="$out/sweep.jsonl" \
      timeout "$part_timeout" "$bin/bench-sgd_cuda" --bench >"$out/sweep.log" 2>&1; then
    say "sweep done: $(grep -c '^best' "$out/sweep.log") cases"
  else
    say "FAIL sweep (exit $?): see $out/sweep.log"
  fi
  grep '^best' "$out/sweep.log" | tee -a "$out/summary.txt" || true
  if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
    if timeout "$part_timeout" "$here/../benches/cuda-variants/run.sh" "$out/variants" "${VARIANTS_MS:-10}" \
        >"$out/variants.log" 2>&1; then
      say "kernel variants done: see $out/variants.log"
    else
      say "FAIL kernel variants (exit $?): see $out/variants.log"
    fi
    rm -f "$out"/variants/variants-*
  fi
fi

# 3. The C ABI from PyTorch (ctypes): training loop bitwise, caller capture, time against torch fused.
if [ -e "$bin/libsgd_cuda_capi.so" ] && [ -e "$bin/libsgd_cpu_capi.so" ]; then
  if timeout "$part_timeout" python3 "$here/../sgd-cuda-capi/examples/torch_ctypes.py" --lib-dir "$bin" \
      --json "$out/torch_ctypes.json" >"$out/torch_ctypes.log" 2>&1; then
    say "PASS torch_ctypes ($(tail -n 1 "$out/torch_ctypes.log"))"
  else
    say "FAIL torch_ctypes (exit $?): see $out/torch_ctypes.log"; failed=1
  fi
  cat "$out/torch_ctypes.log"
else
  say "no $bin/libsgd_cuda_capi.so or libsgd_cpu_capi.so (scripts/build-device-bin.sh copies them)"; failed=1
fi
# 4. sgd-candle on CUDA (built by scripts/build-device-bin.sh when nvcc was at hand): the digits
#    example trained on the GPU (its test binary ran with the tests above), then its step bench
#    (sgd-candle against candle-nn's SGD and candle-op momentum; CANDLE_BENCH=0 skips it).
if [ -x "$bin/example-candle-digits" ]; then
  if timeout "$part_timeout" "$bin/example-candle-digits" --device cuda >"$out/candle-digits-cuda.log" 2>&1; then
    say "PASS candle digits on cuda: $(tail -n 1 "$out/candle-digits-cuda.log")"
  else
    say "FAIL candle digits on cuda (exit $?): see $out/candle-digits-cuda.log"; failed=1
    tail -n 20 "$out/candle-digits-cuda.log" || true
  fi
fi
if [ -x "$bin/bench-candle-step" ] && [ "${CANDLE_BENCH:-1}" != 0 ]; then
  if SGD_CANDLE_BENCH_DEVICE=cuda timeout "$part_timeout" "$bin/bench-candle-step" --bench \
      >"$out/candle-bench-cuda.log" 2>&1; then
    say "candle step bench on cuda done: see $out/candle-bench-cuda.log"
  else
    say "FAIL candle step bench on cuda (exit $?): see $out/candle-bench-cuda.log"
  fi
  grep -E "^candle_step_cuda|time:" "$out/candle-bench-cuda.log" || true
fi
say "results in $out; $([ $failed -eq 0 ] && echo 'all tests passed' || echo 'SOME PARTS FAILED')"
exit $failed

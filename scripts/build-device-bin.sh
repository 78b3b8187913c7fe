#!/usr/bin/env bash
# Builds the sgd-cuda and sgd-cuda-capi GPU test executables, the sgd_cuda bench executable and
# the two C ABI libraries here (no GPU needed) and copies them into a directory (default
# device-bin/) that scripts/gpu-check.sh runs on a machine with an NVIDIA GPU but possibly no
# Rust toolchain.
#
# Equivalent by hand:
#   cargo test -p sgd-cuda -p sgd-cuda-capi --release --no-run
#   cargo test -p lrkit-tests --release --test cuda_golden --no-run
#   cargo bench -p lrkit-benches --bench sgd_cuda --no-run
#   cargo build --release -p sgd-cuda-capi -p sgd-cpu-capi
# then copy the "Executable ..." paths cargo prints into device-bin/ as test-<name> and
# bench-sgd_cuda, and target/release/libsgd_cuda_capi.so and libsgd_cpu_capi.so (for
# sgd-cuda-capi/examples/torch_ctypes.py: the step, and the reference it is checked against).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-device-bin}
mkdir -p "$dest"
rm -f "$dest"/test-* "$dest"/bench-* "$dest"/example-* "$dest"/lib*.so
msgs=$(mktemp)
trap 'rm -f "$msgs"' EXIT

cargo test -p sgd-cuda -p sgd-cuda-capi --release --no-run --message-format=json-render-diagnostics >"$msgs"
cuda_tests=()
for f in tests/tests/cuda_*.rs; do
  [ -e "$f" ] && cuda_tests+=(--test "$(basename "$f" .rs)")
done
if [ ${#cuda_tests[@]} -gt 0 ]; then
  cargo test -p lrkit-tests --release "${cuda_tests[@]}" --no-run --message-format=json-render-diagnostics >>"$msgs"
fi
cargo bench -p lrkit-benches --bench sgd_cuda --no-run --message-format=json-render-diagnostics >>"$msgs"
cargo build --release -p sgd-cuda-capi -p sgd-cpu-capi
cp target/release/libsgd_cuda_capi.so target/release/libsgd_cpu_capi.so "$dest"/

# Copies the executables cargo reported (JSON messages in file $1) into $dest as
# test-<tag><name>, bench-<tag><name> or example-<tag><name> (test-<name>-lib for a library's
# unit tests), with <tag> = $2 (may be empty). Host-only tests (a C/C++ compiler, the sources,
# the build's library) are left out: they are not for the GPU machine.
copy_executables() {
  python3 - "$1" "$dest" "${2:-}" <<'PY'
import json, os, shutil, sys
msgs, dest, tag = sys.argv[1], sys.argv[2], sys.argv[3]
for line in open(msgs):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    exe = m.get("executable") if m.get("reason") == "compiler-artifact" else None
    if not exe:
        continue
    t = m["target"]
    if t["name"] in ("kernel_on_host", "c_program"):
        continue
    if "bench" in t["kind"]:
        name = "bench-" + tag + t["name"]
    elif "example" in t["kind"]:
        name = "example-" + tag + t["name"]
    elif "lib" in t["kind"]:
        name = "test-" + tag + t["name"] + "-lib"
    else:
        name = "test-" + tag + t["name"]
    shutil.copy2(exe, os.path.join(dest, name))
    print(f"{name:<28} <- {exe}")
PY
}
copy_executables "$msgs"
# sgd-candle's CUDA path (feature `cuda`): its GPU tests, the digits example and its step bench. Needs nvcc for
# candle's kernels: CUDA_HOME (e.g. the nvidia-cuda-nvcc 13.0 wheel that .ci/run installs in
# target/cuda-wheel/nvidia/cu13) or nvcc on PATH; skipped otherwise. The binaries link against
# stubs of the CUDA libraries (scripts/cuda-link-stubs.sh) and load the real ones on the GPU
# machine.
cuda_home=${CUDA_HOME:-$PWD/target/cuda-wheel/nvidia/cu13}
if [ -x "$cuda_home/bin/nvcc" ]; then
  bash scripts/cuda-link-stubs.sh "$cuda_home/lib/stubs" >/dev/null
  candle_msgs=$(mktemp)
  ( export CUDA_HOME=$cuda_home PATH="$cuda_home/bin:$PATH" CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
    cargo test -p sgd-candle --features cuda --release --test cuda_parity --no-run \
      --message-format=json-render-diagnostics >"$candle_msgs"
    cargo build -p sgd-candle --features cuda --release --example digits \
      --message-format=json-render-diagnostics >>"$candle_msgs"
    cargo bench -p sgd-candle --features cuda --bench step --no-run \
      --message-format=json-render-diagnostics >>"$candle_msgs" )
  copy_executables "$candle_msgs" candle-
  rm -f "$candle_msgs"
else
  echo "no nvcc at $cuda_home/bin/nvcc (set CUDA_HOME): sgd-candle's CUDA binaries not built"
fi
if command -v strip >/dev/null; then
  strip --strip-debug "$dest"/test-* "$dest"/bench-* "$dest"/example-* "$dest"/lib*.so 2>/dev/null || true
fi
du -sh "$dest"
# The candle binaries are large (candle's PTX is embedded); xz packs the whole folder to about
# 15 MB, small enough to send to a GPU machine (e.g. the 64 MiB a device call carries).
mkdir -p device-pack
tar cf - "$dest" | xz -T0 -6 >device-pack/device-bin.tar.xz
du -sh device-pack/device-bin.tar.xz
echo "run on the GPU machine: scripts/gpu-check.sh $dest  (or copy device-pack/: gpu-check.sh unpacks it)"

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
rm -f "$dest"/test-* "$dest"/bench-* "$dest"/lib*.so
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

python3 - "$msgs" "$dest" <<'PY'
import json, os, shutil, sys
msgs, dest = sys.argv[1], sys.argv[2]
copied = []
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
        continue  # host-only tests (C/C++ compiler, sources, the build's library): not for the GPU machine
    if "bench" in t["kind"]:
        name = "bench-" + t["name"]
    elif "lib" in t["kind"]:
        name = "test-" + t["name"] + "-lib"
    else:
        name = "test-" + t["name"]
    out = os.path.join(dest, name)
    shutil.copy2(exe, out)
    copied.append((name, exe))
for name, exe in copied:
    print(f"{name:<28} <- {exe}")
PY
if command -v strip >/dev/null; then
  strip --strip-debug "$dest"/test-* "$dest"/bench-* "$dest"/lib*.so || true
fi
du -sh "$dest"
echo "run on the GPU machine: scripts/gpu-check.sh $dest"

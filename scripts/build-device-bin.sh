#!/usr/bin/env bash
# Builds the sgd-cuda GPU test executables and the sgd_cuda bench executable here (no GPU
# needed) and copies them into a directory (default device-bin/) that scripts/gpu-check.sh
# runs on a machine with an NVIDIA GPU but possibly no Rust toolchain.
#
# Equivalent by hand:
#   cargo test -p sgd-cuda --release --no-run
#   cargo test -p lrkit-tests --release --test cuda_golden --no-run
#   cargo bench -p lrkit-benches --bench sgd_cuda --no-run
# then copy the "Executable ..." paths cargo prints into device-bin/ as test-<name> and
# bench-sgd_cuda.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-device-bin}
mkdir -p "$dest"
rm -f "$dest"/test-* "$dest"/bench-*
msgs=$(mktemp)
trap 'rm -f "$msgs"' EXIT

cargo test -p sgd-cuda --release --no-run --message-format=json-render-diagnostics >"$msgs"
cuda_tests=()
for f in tests/tests/cuda_*.rs; do
  [ -e "$f" ] && cuda_tests+=(--test "$(basename "$f" .rs)")
done
if [ ${#cuda_tests[@]} -gt 0 ]; then
  cargo test -p lrkit-tests --release "${cuda_tests[@]}" --no-run --message-format=json-render-diagnostics >>"$msgs"
fi
cargo bench -p lrkit-benches --bench sgd_cuda --no-run --message-format=json-render-diagnostics >>"$msgs"

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
    if t["name"] == "kernel_on_host":
        continue  # a host-only test (C++ shim), needs the sources: not for the GPU machine
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
  strip --strip-debug "$dest"/test-* "$dest"/bench-* || true
fi
du -sh "$dest"
echo "run on the GPU machine: scripts/gpu-check.sh $dest"

#!/usr/bin/env bash
# Link-time stubs of the CUDA libraries that candle-core's cudarc links (`dynamic-linking`):
# libcuda.so.1, libcublas.so.13, libcublasLt.so.13, libcurand.so.10 and libnvrtc.so.13, each an
# empty-bodied shared library exporting every function cudarc 0.19 declares for it, with the
# real library's soname. Linking a test or example binary of `sgd-candle --features cuda`
# against them records those sonames; the GPU machine's real libraries (driver, CUDA 13.0
# toolkit) are what the binary loads there. Nothing here is ever run. candle-kernels also links
# libcudart (its statically built kernels): the real libcudart.so.13 of the nvidia-cuda-runtime
# wheel next to DIR's parent is linked as libcudart.so.
#
# Usage: scripts/cuda-link-stubs.sh DIR    (e.g. "$CUDA_HOME/lib/stubs": cudarc's build script
#                                           adds $CUDA_HOME/lib/stubs to the link search path)
set -euo pipefail
dest=${1:?DIR}
mkdir -p "$dest"
cudarc=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.* | sort -V | tail -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# module|soname|library name
for spec in "driver|libcuda.so.1|cuda" "cublas|libcublas.so.13|cublas" "cublaslt|libcublasLt.so.13|cublasLt" \
            "curand|libcurand.so.10|curand" "nvrtc|libnvrtc.so.13|nvrtc"; do
  IFS='|' read -r module soname name <<<"$spec"
  sed -n 's/^pub unsafe fn \([A-Za-z_0-9]*\)(.*/void \1(void) {}/p' "$cudarc/src/$module/sys/mod.rs" | sort -u >"$work/$name.c"
  cc -shared -fPIC -o "$dest/lib$name.so" -Wl,-soname,"$soname" "$work/$name.c"
  echo "$dest/lib$name.so ($soname): $(wc -l <"$work/$name.c") functions"
done
runtime=$(cd "$dest/.." && pwd)/libcudart.so.13
if [ -e "$runtime" ]; then
  ln -sf "$runtime" "$dest/libcudart.so"
  echo "$dest/libcudart.so -> $runtime"
fi

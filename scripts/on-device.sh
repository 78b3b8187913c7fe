#!/usr/bin/env bash
# Trains the digits MLP on an emulated Cortex-M4F and checks it against the host:
#   1. builds the firmware (`on-device`, profile `firmware`, target thumbv7em-none-eabihf) and the
#      same program for this machine;
#   2. runs the firmware under QEMU (`netduinoplus2`: an STM32F405, 1 MiB flash, 128 KiB RAM used
#      of it as memory.x says) with semihosting, with a timeout;
#   3. fails unless the run exits 0, its per-epoch lines equal the host's bit for bit, validation
#      accuracy reaches the bar, and code and RAM stay within budget;
#   4. measures the instructions per element of the SGD step on the emulated core (QEMU -icount),
#      against a plain C loop when arm-none-eabi-gcc is installed (else that line is skipped);
#   5. prints the footprint by crate, then one summary line:
#      on-device: validation accuracy <A>%, flash <F> bytes (code <C>, data <D>), RAM <R> bytes (static <S>, stack high-water <H>)
#
# `--record` also copies the firmware's output to on-device/tests/qemu-transcript.txt, the
# transcript that `cargo test` compares the host run against (after changing the training).
#
# Installs nothing: it says what is missing. Needs cargo with the thumbv7em-none-eabihf target,
# qemu-system-arm (7.2 or newer), python3 and objdump (binutils).
# Environment: ON_DEVICE_OUT (default target/on-device) for the logs, QEMU_TIMEOUT (default 300 s),
# MIN_ACCURACY (default 90), CODE_BUDGET and RAM_BUDGET (default 32768 bytes each).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${ON_DEVICE_OUT:-target/on-device}
qemu_timeout=${QEMU_TIMEOUT:-300}
min_accuracy=${MIN_ACCURACY:-90}
code_budget=${CODE_BUDGET:-32768}
ram_budget=${RAM_BUDGET:-32768}
elf=target/thumbv7em-none-eabihf/firmware/on-device
record=0
case "${1:-}" in
  "") ;;
  --record) record=1 ;;
  *) echo "usage: scripts/on-device.sh [--record]" >&2; exit 2 ;;
esac
qemu() {
  timeout "$qemu_timeout" qemu-system-arm -M netduinoplus2 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native "$@" -kernel "$elf"
}
fail() { echo "on-device: FAILED: $*" >&2; exit 1; }

missing=()
command -v cargo >/dev/null || missing+=("cargo (https://rustup.rs)")
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
  missing+=("the Rust target: rustup target add thumbv7em-none-eabihf")
fi
command -v qemu-system-arm >/dev/null || missing+=("qemu-system-arm (Debian/Ubuntu: apt-get install qemu-system-arm)")
command -v python3 >/dev/null || missing+=("python3")
command -v objdump >/dev/null || missing+=("objdump (Debian/Ubuntu: apt-get install binutils)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'on-device: missing:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

mkdir -p "$out"
# A panic must end the run with a non-zero status, not hang: check with firmware that panics.
cargo build --quiet -p on-device --profile firmware --target thumbv7em-none-eabihf --features panic-self-test
status=0
qemu >"$out/panic.txt" 2>"$out/panic.err" || status=$?
grep -q '^panic: ' "$out/panic.err" && grep -q 'panic-self-test' "$out/panic.err" && [ "$status" -eq 1 ] \
  || fail "the panic self-test ended with status $status and stderr: $(cat "$out/panic.err")"
echo "panic self-test: status 1, message on stderr"

cargo build --quiet -p on-device --profile firmware --target thumbv7em-none-eabihf
cargo build --quiet -p on-device
cargo run --quiet -p on-device >"$out/host.txt"

status=0
qemu >"$out/qemu.txt" 2>"$out/qemu.err" || status=$?
cat "$out/qemu.txt"
[ "$status" -eq 0 ] || { cat "$out/qemu.err" >&2; fail "the firmware exited with status $status (124: timed out after ${qemu_timeout}s)"; }

# Every line but the device-only stack report must be the host's, byte for byte (the bits of
# every lr and loss are on each epoch line).
grep -v '^stack high-water:' "$out/qemu.txt" >"$out/qemu-epochs.txt" || true
if ! diff -u "$out/host.txt" "$out/qemu-epochs.txt" >"$out/diff.txt"; then
  cat "$out/diff.txt" >&2
  fail "the firmware's numbers differ from the host's (diff above)"
fi
echo "host and firmware: $(grep -c '^epoch ' "$out/host.txt") epochs, every line identical"
if [ "$record" -eq 1 ]; then
  cp "$out/qemu.txt" on-device/tests/qemu-transcript.txt
  echo "recorded on-device/tests/qemu-transcript.txt"
fi

accuracy=$(sed -n 's/^result: validation accuracy \([0-9.]*\)%.*/\1/p' "$out/qemu.txt")
high_water=$(sed -n 's/^stack high-water: \([0-9]*\) bytes$/\1/p' "$out/qemu.txt")
[ -n "$accuracy" ] && [ -n "$high_water" ] || fail "no result or stack line in the firmware's output"
python3 -c "import sys; sys.exit(0 if float('$accuracy') >= float('$min_accuracy') else 1)" \
  || fail "validation accuracy $accuracy% is below $min_accuracy%"

# Instructions per SGD element: firmware built to measure instead of train.
cost_features=sgd-cost
command -v "${ARM_NONE_EABI_GCC:-arm-none-eabi-gcc}" >/dev/null && cost_features=c-baseline
cargo build --quiet -p on-device --profile firmware --target thumbv7em-none-eabihf --features "$cost_features"
status=0
qemu -icount shift=0 >"$out/cost.txt" 2>"$out/cost.err" || status=$?
cat "$out/cost.txt"
[ "$status" -eq 0 ] || { cat "$out/cost.err" >&2; fail "the cost measurement exited with status $status"; }
[ "$cost_features" = c-baseline ] || echo "sgd cost: (no arm-none-eabi-gcc: the C baseline was not measured)"
# Leave the training firmware in place for the footprint below.
cargo build --quiet -p on-device --profile firmware --target thumbv7em-none-eabihf

python3 scripts/footprint.py "$elf" | tee "$out/footprint.txt"
eval "$(python3 scripts/footprint.py "$elf" --shell)"
ram=$((static + high_water))
[ "$code" -le "$code_budget" ] || fail "code is $code bytes, over the budget of $code_budget"
[ "$ram" -le "$ram_budget" ] || fail "RAM is $ram bytes, over the budget of $ram_budget"

echo "on-device: validation accuracy ${accuracy}%, flash ${flash} bytes (code ${code}, data ${data}), RAM ${ram} bytes (static ${static}, stack high-water ${high_water})" \
  | tee "$out/summary.txt"

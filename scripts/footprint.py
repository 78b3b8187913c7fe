#!/usr/bin/env python3
"""Flash and RAM footprint of a bare-metal ELF (the on-device firmware), by section and by crate.

    python3 scripts/footprint.py FIRMWARE.elf [--shell]

Sections (read from the ELF's section headers, no binutils needed):
  code   = .vector_table + .text                 (flash)
  data   = .rodata + .data                       (flash; .data's initial values are copied to RAM)
  static = .data + .bss + .uninit                (RAM, besides the stack)
The data set's share is the size of the symbol `on_device::digits::RECORDS`.

Code by crate: every byte of .text is attributed to the source file that the DWARF line table
(`objdump --dwarf=decodedline`) names for it, so code inlined from sched-core into the firmware's
loop counts as sched-core. Bytes without line information fall back to the symbol that holds them.

--shell prints `key=value` lines for scripts/on-device.sh instead of the report.
"""
import re
import struct
import subprocess
import sys

CRATES = [  # (pattern in a source path or symbol name, crate), first match wins
    ("sched-core/", "sched-core"), ("sched_core::", "sched-core"),
    ("sgd-cpu/", "sgd-cpu"), ("sgd_cpu::", "sgd-cpu"), ("sgd_cpu_", "sgd-cpu"),
    ("sgd-core/", "sgd-core"), ("sgd_core::", "sgd-core"),
    ("on-device/", "on-device (model, loop, output)"), ("on_device::", "on-device (model, loop, output)"),
    ("/libm-", "libm"), ("libm::", "libm"),
    ("compiler_builtins", "compiler-builtins (soft f64, memcpy)"), ("compiler-builtins", "compiler-builtins (soft f64, memcpy)"),
    ("__aeabi", "compiler-builtins (soft f64, memcpy)"),
    ("cortex-m", "cortex-m-rt, semihosting"), ("cortex_m", "cortex-m-rt, semihosting"),
    ("library/core/", "core (fmt, slices)"), ("core::", "core (fmt, slices)"),
]


def crate_of(name):
    for pattern, crate in CRATES:
        if pattern in name:
            return crate
    return "other"


def sections(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        sys.exit(f"{path}: not a 32-bit little-endian ELF")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = headers[shstrndx][4]
    out = {}
    for name_off, _type, _flags, addr, _off, size, *_ in headers:
        name = data[strtab + name_off:data.index(b"\0", strtab + name_off)].decode()
        out[name] = (addr, size)
    return out


def symbols(path):
    """(address, size, demangled name) of every sized symbol."""
    text = subprocess.run(["nm", "-S", "-C", "--defined-only", path], capture_output=True, text=True, check=True).stdout
    out = []
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4:
            out.append((int(parts[0], 16) & ~1, int(parts[1], 16), parts[3]))
    return out


def line_table(path):
    """Sorted (address, source path) rows of the DWARF line table."""
    text = subprocess.run(["objdump", "--dwarf=decodedline", path], capture_output=True, text=True, check=True).stdout
    rows, current = [], None
    for line in text.splitlines():
        if line.endswith(":") and ("/" in line or line.endswith(".rs:")) and not line.startswith(" "):
            current = line[:-1]
            continue
        m = re.match(r"^\S+\s+(\d+|-)\s+(0x[0-9a-f]+)", line)
        if m and current:
            rows.append((int(m.group(2), 16), None if m.group(1) == "-" else current))
    rows.sort(key=lambda r: r[0])
    return rows


def code_by_crate(path, text_start, text_end):
    """Bytes of .text per crate: by the line table's source path where it names a crate, else
    by the symbol that holds the byte (one Thumb halfword at a time)."""
    syms = sorted((a, s, n) for a, s, n in symbols(path) if s and text_start <= a < text_end)
    owner = [None] * (text_end - text_start)
    for a, s, n in syms:
        crate = crate_of(n)
        for off in range(a - text_start, min(a + s, text_end) - text_start):
            owner[off] = crate
    rows = [r for r in line_table(path) if text_start <= r[0] < text_end] + [(text_end, None)]
    for (addr, src), (nxt, _) in zip(rows, rows[1:]):
        crate = crate_of(src) if src else "other"
        if crate != "other":
            owner[addr - text_start:nxt - text_start] = [crate] * max(0, nxt - addr)
    shares = {}
    for crate in owner:
        shares[crate or "other"] = shares.get(crate or "other", 0) + 1
    return shares


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    path = args[0]
    sec = sections(path)
    size = lambda name: sec.get(name, (0, 0))[1]
    code = size(".vector_table") + size(".text")
    data = size(".rodata") + size(".data")
    static = size(".data") + size(".bss") + size(".uninit")
    dataset = next((s for _, s, n in symbols(path) if n == "on_device::digits::RECORDS"), 0)
    if "--shell" in sys.argv:
        print(f"flash={code + data}\ncode={code}\ndata={data}\nstatic={static}\ndataset={dataset}")
        return
    text_start, text_size = sec[".text"]
    shares = code_by_crate(path, text_start, text_start + text_size)
    print(f"flash {code + data} bytes: code {code} (.vector_table {size('.vector_table')}, .text {size('.text')}), "
          f"data {data} (.rodata {size('.rodata')}, .data {size('.data')}; the digits: {dataset})")
    print(f"static RAM {static} bytes (.data {size('.data')}, .bss {size('.bss')}, .uninit {size('.uninit')})")
    print(f"code (.text) by crate, inlined code counted where its source is:")
    for crate, n in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {crate:40s} {n:6d} bytes  {100 * n / text_size:5.1f} %")


if __name__ == "__main__":
    main()

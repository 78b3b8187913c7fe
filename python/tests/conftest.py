"""Shared helpers: bit-exact comparison of learning rates and tensors."""

from __future__ import annotations

import struct

import torch


def bits(x) -> int:
    """The IEEE bits of a float (or 0-dim Tensor, widened exactly to f64)."""
    if isinstance(x, torch.Tensor):
        x = x.item()
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def same_bits(a, b) -> bool:
    """Bitwise equal floats, or both NaN."""
    fa, fb = float(a), float(b)
    return bits(fa) == bits(fb) or (fa != fa and fb != fb)


def lrs_of(optimizer) -> list:
    return [g["lr"] for g in optimizer.param_groups]


def momenta_of(optimizer) -> list:
    out = []
    for g in optimizer.param_groups:
        out.append(g["betas"][0] if "betas" in g else g.get("momentum"))
    return out

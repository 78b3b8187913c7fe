#!/usr/bin/env python3
"""Peer benchmark of the Python package: ``lrkit.torch.FusedSGD.step()`` against
``torch.optim.SGD(fused=True)`` and ``(foreach=True)`` on the same tensors, Python overhead
included, and lrkit's scheduler ``step()`` against torch's.

Cases: ResNet-50's 161 parameter tensors (25.6M elements, torchvision's shapes), 1000 tensors
of 4096 and one tensor of 64M elements; torch.set_num_threads(1) and (2) (FusedSGD uses
torch's thread count). lr 0.01, momentum 0.9, buffers initialised by a warm-up step. Timing:
the implementations interleaved, repeated batches (each >= 0.2 s, >= 3 steps), per-step
minimum and median of the batch means; the ratio is torch's minimum over ours (> 1: FusedSGD
is faster). Run: ``python benches/peers/fused_sgd_python.py [--quick]`` (--quick: no 64M).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lrkit.torch import FusedSGD
from lrkit.torch import lr_scheduler as L


def resnet50_shapes() -> list[tuple[int, ...]]:
    """torchvision's resnet50 parameters in `model.parameters()` order (161 tensors)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    inplanes = 64
    for planes, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for b in range(blocks):
            shapes += [(planes, inplanes, 1, 1), (planes,), (planes,)]
            shapes += [(planes, planes, 3, 3), (planes,), (planes,)]
            shapes += [(planes * 4, planes, 1, 1), (planes * 4,), (planes * 4,)]
            if b == 0:
                shapes += [(planes * 4, inplanes, 1, 1), (planes * 4,), (planes * 4,)]
            inplanes = planes * 4
    return shapes + [(1000, 2048), (1000,)]


def make(shapes):
    params = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape)
    return params


def timed(step) -> tuple[float, float]:
    """(minimum, median) seconds per call over batches of >= 0.2 s."""
    means = []
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while True:
            step()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= 0.2 and n >= 3:
                break
        means.append(dt / n)
    return min(means), statistics.median(means)


def bench_sgd(name, shapes) -> None:
    impls = {
        "lrkit FusedSGD": lambda ps: FusedSGD(ps, lr=0.01, momentum=0.9),
        "torch fused": lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, fused=True),
        "torch foreach": lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, foreach=True),
    }
    opts = {}
    for label, make_opt in impls.items():
        opt = make_opt(make(shapes))
        opt.step()  # buffers initialised
        opts[label] = opt
    results = {label: [] for label in impls}
    for _ in range(2):  # interleaved rounds
        for label, opt in opts.items():
            results[label].append(timed(opt.step))
    best = {label: min(r[0] for r in rs) for label, rs in results.items()}
    med = {label: statistics.median(r[1] for r in rs) for label, rs in results.items()}
    n = sum(torch.Size(s).numel() for s in shapes)
    ours = best["lrkit FusedSGD"]
    cells = [f"{label} {best[label] * 1e3:.2f} ms (median {med[label] * 1e3:.2f})" for label in impls]
    print(
        f"{name} ({len(shapes)} tensors, {n / 1e6:.1f}M), {torch.get_num_threads()} thread(s): "
        + "; ".join(cells)
        + f"; torch fused / ours {best['torch fused'] / ours:.2f}x, torch foreach / ours {best['torch foreach'] / ours:.2f}x, "
        + f"ours {20 * n / ours / 1e9:.1f} GB/s"
    )


def bench_scheduler() -> None:
    for name, kwargs in (("StepLR", {"step_size": 30}), ("CosineAnnealingLR", {"T_max": 1000}), ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10**9})):
        times = {}
        for label, module in (("lrkit", L), ("torch", torch.optim.lr_scheduler)):
            opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
            sched = getattr(module, name)(opt, **kwargs)
            opt.step()
            times[label] = timed(sched.step)[0]
        print(
            f"scheduler {name}.step(): lrkit {times['lrkit'] * 1e6:.1f} us, torch {times['torch'] * 1e6:.1f} us, "
            f"torch / lrkit {times['torch'] / times['lrkit']:.2f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 64M tensor")
    args = ap.parse_args()
    cases = [("resnet50", resnet50_shapes()), ("1000x4096", [(4096,)] * 1000)]
    if not args.quick:
        cases.append(("64M", [(64 << 20,)]))
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, shapes in cases:
            bench_sgd(name, shapes)
    torch.set_num_threads(1)
    bench_scheduler()


if __name__ == "__main__":
    main()

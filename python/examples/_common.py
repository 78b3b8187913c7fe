"""What the three examples share: the scheduler module chosen on the command line (torch's or
lrkit's: the only line a training script changes), a small model and data, a training epoch."""

from __future__ import annotations

import argparse

import torch


def schedulers():
    """`torch.optim.lr_scheduler`, or `lrkit.torch.lr_scheduler` with `--lrkit`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lrkit", action="store_true", help="use lrkit's schedulers and FusedSGD")
    args = parser.parse_args()
    if args.lrkit:
        from lrkit.torch import FusedSGD
        from lrkit.torch import lr_scheduler

        return lr_scheduler, FusedSGD
    return torch.optim.lr_scheduler, torch.optim.SGD


def problem():
    """A 20-feature, 4-class problem: a linear model, training and validation data."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(20, 4, generator=g)
    x = torch.randn(600, 20, generator=g)
    y = (x @ w + 0.5 * torch.randn(600, 4, generator=g)).argmax(dim=1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    return model, (x[:500], y[:500]), (x[500:], y[500:])


def train_epoch(model, optimizer, data) -> None:
    x, y = data
    for i in range(0, len(x), 50):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[i : i + 50]), y[i : i + 50]).backward()
        optimizer.step()


def validation_loss(model, data) -> float:
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model(data[0]), data[1]).item()

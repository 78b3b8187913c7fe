"""lrkit.schedule: the CLI's spec strings from Python. Its rows equal `lrkit schedule --json`'s
(the binary built by cargo, when present) and torch's own loop."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess

import pytest
import torch

import lrkit

SPECS = [
    "StepLR(optimizer, step_size=3, gamma=0.5)",
    "SequentialLR([LinearLR(start_factor=0.1, total_iters=5), CosineAnnealingLR(T_max=25)], milestones=[5])",
    "SequentialLR([ExponentialLR(gamma=0.5), StepLR(step_size=2, gamma=0.1)], milestones=[0])",
    "ChainedScheduler([ConstantLR(factor=0.5, total_iters=4), ExponentialLR(gamma=0.9)])",
    "LambdaLR(lr_lambda=lambda e: -2 ** e)",
    "LambdaLR(lr_lambda=lambda step: min((step + 1) / 5, 1.0) * 0.5 * (1 + math.cos(math.pi * step / 30)))",
    "LambdaLR(lr_lambda=pow(0.95))",
    "OneCycleLR(max_lr=0.5, total_steps=30)",
    "CyclicLR(base_lr=0.01, max_lr=0.1, step_size_up=4, mode='triangular2')",
    "CosineAnnealingWarmRestarts(T_0=5, T_mult=2, eta_min=0.001)",
    "transformers.get_cosine_schedule_with_warmup(num_warmup_steps=2, num_training_steps=10)",
    "timm.CosineLRScheduler(t_initial=10, warmup_t=2, warmup_lr_init=0.01)",
    "optax.warmup_cosine_decay_schedule(0.0, 1.0, 5, 20)",
    "optax.join_schedules(schedules=[optax.linear_schedule(0.0, 0.1, 3), optax.constant_schedule(0.1)], boundaries=[3])",
    "Compound([StepLR(step_size=3), MultiStepLR(milestones=[2, 5])])",
]


def cli() -> str | None:
    root = os.path.join(os.path.dirname(__file__), "..", "..", "target")
    for build in ("debug", "release"):
        path = os.path.join(root, build, "lrkit")
        if os.path.isfile(path):
            return path
    return shutil.which("lrkit")


def bits(rows) -> list:
    return [[struct.pack(">d", float(x)).hex() for x in row] for row in rows]


@pytest.mark.parametrize("spec", SPECS)
def test_rows_equal_the_clis(spec):
    binary = cli()
    if binary is None:
        pytest.skip("the lrkit binary is not built (cargo build -p lrkit): nothing to compare with")
    out = subprocess.run([binary, "schedule", spec, "--epochs", "30", "--lr", "0.1,0.02", "--json"], capture_output=True, text=True, check=True)
    theirs = json.loads(out.stdout)["schedules"][0]["lrs"]
    ours = lrkit.schedule(spec, 30, lr=[0.1, 0.02])
    if spec.startswith("optax."):
        theirs = [row[:1] for row in theirs]
    assert bits(ours) == bits(theirs)


def test_rows_equal_torchs_loop():
    ours = lrkit.schedule("CosineAnnealingLR(T_max=10, eta_min=0.001)", 12, lr=0.1)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    theirs = []
    for _ in range(12):
        theirs.append([opt.param_groups[0]["lr"]])
        opt.step()
        sched.step()
    assert bits(ours) == bits(theirs)


def test_numpy_and_errors():
    a = lrkit.schedule("ExponentialLR(gamma=0.9)", 4, array=True)
    assert a.shape == (4, 1) and a.dtype.name == "float64"
    with pytest.raises(ValueError, match="unknown schedule or function `StepLRR`"):
        lrkit.schedule("StepLRR(step_size=3)", 3)
    with pytest.raises(ValueError, match="unknown schedule or function `os.system`"):
        lrkit.schedule("StepLR(step_size=os.system('true'))", 3)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        lrkit.schedule("StepLR(step_size=3)", 3, lr=-1)
    with pytest.raises(ValueError, match="metrics"):
        lrkit.schedule("ReduceLROnPlateau()", 3)

"""Hostile input to every entry point of the package. For the schedulers: every argument of
every class tried with NaN, infinities, zero, negatives, huge ints, wrong types: lrkit's class
must raise what torch's raises (the same exception type, at the same step; sched-core's
message names the parameter where Python's names the operation) or give the same values, bit
for bit (NaN for NaN). For FusedSGD and lrkit.schedule: a clear exception, and
every byte of every tensor unchanged after a rejection."""

from __future__ import annotations

import math
import struct
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as T

import lrkit
import lrkit.torch.lr_scheduler as L
from lrkit.torch import FusedSGD

HOSTILE = [math.nan, math.inf, -math.inf, 0, -1, 1e308, 4.9e-324, 2**70, -(2**63), "x", None, [1, 2], True]

#: Each class with valid arguments; every argument is replaced by each hostile value in turn.
VALID = {
    "StepLR": {"step_size": 3, "gamma": 0.5},
    "MultiStepLR": {"milestones": [2, 4], "gamma": 0.5},
    "ConstantLR": {"factor": 0.5, "total_iters": 3},
    "LinearLR": {"start_factor": 0.5, "end_factor": 1.0, "total_iters": 3},
    "ExponentialLR": {"gamma": 0.9},
    "PolynomialLR": {"total_iters": 4, "power": 2.0},
    "CosineAnnealingLR": {"T_max": 5, "eta_min": 0.001},
    "CosineAnnealingWarmRestarts": {"T_0": 3, "T_mult": 2, "eta_min": 0.001},
    "CyclicLR": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2, "gamma": 0.9, "mode": "exp_range"},
    "OneCycleLR": {"max_lr": 0.1, "total_steps": 10, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
    "ReduceLROnPlateau": {"factor": 0.5, "patience": 1, "threshold": 1e-4, "cooldown": 1, "min_lr": 0.0, "eps": 1e-8},
}


def outcome(module, name: str, kwargs: dict, lr):
    """What building the scheduler and taking 6 steps gives: the lr rows, or the exception
    (type, message, at which step)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
    rows, step = [], "construct"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = getattr(module, name)(opt, **kwargs)
            for step in range(6):
                rows.append(struct.pack(">d", float(opt.param_groups[0]["lr"])).hex())
                opt.step()
                s.step(1.0) if name == "ReduceLROnPlateau" else s.step()
    except Exception as e:  # noqa: BLE001 - the outcome is whatever torch does
        return ("raised", type(e).__name__, str(e), step)
    return ("values", rows)


def canonical(o):
    """An exception as its type and step; NaN rows equal whatever their payload bits."""
    if o[0] != "values":
        return (o[0], o[1], o[3])
    nan = {struct.pack(">d", math.nan).hex(), struct.pack(">d", -math.nan).hex()}
    return ("values", ["nan" if r in nan or math.isnan(struct.unpack(">d", bytes.fromhex(r))[0]) else r for r in o[1]])


@pytest.mark.parametrize("name", sorted(VALID))
def test_schedulers_raise_or_return_what_torch_does(name):
    tried = 0
    for arg in VALID[name]:
        for bad in HOSTILE:
            kwargs = {**VALID[name], arg: bad}
            ours, theirs = outcome(L, name, kwargs, 0.1), outcome(T, name, kwargs, 0.1)
            assert canonical(ours) == canonical(theirs), (name, arg, bad)
            tried += 1
    for lr in (math.nan, math.inf, 0.0, 1e308, 4.9e-324):
        assert canonical(outcome(L, name, VALID[name], lr)) == canonical(outcome(T, name, VALID[name], lr)), (name, lr)
    assert tried >= len(HOSTILE)


def snapshot(tensors):
    return [t.detach().clone() for t in tensors]


def unchanged(before, tensors):
    """Every byte of every tensor as in `before`."""
    flat = lambda t: t.detach().contiguous().view(torch.uint8)  # noqa: E731
    return all(torch.equal(flat(a), flat(b)) for a, b in zip(before, tensors, strict=True))


def test_fused_sgd_rejects_without_writing():
    p = torch.nn.Parameter(torch.randn(16))
    q = torch.nn.Parameter(torch.randn(4, 4))
    opt = FusedSGD([p, q], lr=0.1, momentum=0.9)
    p.grad, q.grad = torch.randn(16), torch.randn(4, 4)
    opt.step()
    cases = []
    # Hyperparameters edited into the groups: wrong types, NaN, negative.
    for key, value, error in (
        ("lr", "0.1", TypeError),
        ("lr", None, TypeError),
        ("lr", -0.5, ValueError),
        ("momentum", -1.0, ValueError),
        ("weight_decay", math.nan, ValueError),
        ("dampening", math.inf, ValueError),
        ("lr", torch.tensor([0.1, 0.2]), (TypeError, ValueError, RuntimeError)),
    ):
        cases.append((key, value, error))
    for key, value, error in cases:
        group = opt.param_groups[0]
        saved = group[key]
        group[key] = value
        before = snapshot([p, q, opt.state[p]["momentum_buffer"], opt.state[q]["momentum_buffer"]])
        with pytest.raises(error):
            opt.step()
        assert unchanged(before, [p, q, opt.state[p]["momentum_buffer"], opt.state[q]["momentum_buffer"]]), (key, value)
        group[key] = saved
    # A momentum buffer replaced by one of another dtype, shape or layout.
    for bad in (torch.zeros(16, dtype=torch.float64), torch.zeros(8), torch.zeros(32)[::2]):
        buf = opt.state[p]["momentum_buffer"]
        opt.state[p]["momentum_buffer"] = bad
        before = snapshot([p, q, bad])
        with pytest.raises((TypeError, ValueError)):
            opt.step()
        assert unchanged(before, [p, q, bad])
        opt.state[p]["momentum_buffer"] = buf
    # A buffer aliasing its own parameter.
    buf = opt.state[p]["momentum_buffer"]
    opt.state[p]["momentum_buffer"] = p.data
    before = snapshot([p, q])
    with pytest.raises(ValueError, match="overlaps"):
        opt.step()
    assert unchanged(before, [p, q])
    opt.state[p]["momentum_buffer"] = buf
    # Still steps normally afterwards.
    opt.step()


def test_fused_sgd_constructor_types():
    p = [torch.nn.Parameter(torch.zeros(2))]
    for kwargs, error in (({"lr": "x"}, TypeError), ({"momentum": None}, TypeError), ({"lr": torch.tensor([1.0, 2.0])}, ValueError)):
        with pytest.raises(error):
            FusedSGD(p, **kwargs)
        with pytest.raises(error):
            torch.optim.SGD(p, **kwargs)
    with pytest.raises(TypeError):
        FusedSGD(torch.zeros(2))  # params must be an iterable of tensors, as torch says
    with pytest.raises(ValueError, match="empty parameter list"):
        FusedSGD([])


@pytest.mark.parametrize(
    "spec, error",
    [
        ("", ValueError),
        ("StepLR(", ValueError),
        ("StepLR(step_size=3" + ")" * 5, ValueError),
        ("__import__('os').system('true')", ValueError),
        ("StepLR(step_size=(lambda: 1)())", ValueError),
        ("StepLR(**{'step_size': 3})", ValueError),
        ("[" * 10000, (ValueError, RecursionError, MemoryError)),
        ("StepLR(step_size=2**70)", (ValueError, OverflowError, TypeError)),
    ],
)
def test_schedule_specs_are_refused_with_a_clear_exception(spec, error):
    with pytest.raises(error):
        lrkit.schedule(spec, 3)


def test_schedule_arguments():
    for epochs in (0, -1, 1.5, "3", None):
        with pytest.raises(ValueError, match="epochs"):
            lrkit.schedule("StepLR(step_size=3)", epochs)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        lrkit.schedule("StepLR(step_size=3)", 3, lr=[0.1, -0.1])

"""lrkit.torch.lr_scheduler against the installed torch, live: every scheduler on randomized
configurations (float and 0-dim Tensor lrs, one to three groups, SGD and Adam), stepped side
by side with torch's class; learning rates, momenta, ``get_last_lr()`` and the state dicts must
be identical, bit for bit."""

from __future__ import annotations

import math
import random
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as T

import lrkit.torch.lr_scheduler as L
from conftest import bits, lrs_of, momenta_of, same_bits

SEEDS = range(40)


def optimizer(kind: str, lrs, tensor: bool):
    """A fresh optimizer with one group per lr (the same parameters every time)."""
    torch.manual_seed(0)
    groups = [
        {"params": [torch.nn.Parameter(torch.randn(3))], "lr": torch.tensor(lr) if tensor else lr}
        for lr in lrs
    ]
    if kind == "adam":
        return torch.optim.Adam(groups, lr=0.1)
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9)


def snapshot(opt, sched) -> tuple:
    return (
        [bits(x) for x in lrs_of(opt)],
        [None if m is None else bits(m) for m in momenta_of(opt)],
        [bits(x) for x in sched.get_last_lr()],
    )


def random_config(name: str, rng: random.Random, groups: int) -> dict:
    """Constructor arguments for `name`, drawn from the values training scripts use."""
    f = lambda lo, hi: rng.uniform(lo, hi)  # noqa: E731
    if name == "StepLR":
        return {"step_size": rng.randint(1, 7), "gamma": f(0.05, 0.99)}
    if name == "MultiStepLR":
        return {"milestones": sorted(rng.sample(range(1, 30), 3)) + [rng.randint(1, 30)], "gamma": f(0.1, 0.9)}
    if name == "ConstantLR":
        return {"factor": f(0.05, 1.0), "total_iters": rng.randint(0, 10)}
    if name == "LinearLR":
        return {"start_factor": f(0.01, 1.0), "end_factor": f(0.0, 1.0), "total_iters": rng.randint(1, 20)}
    if name == "ExponentialLR":
        return {"gamma": f(0.8, 0.999)}
    if name == "PolynomialLR":
        return {"total_iters": rng.randint(1, 25), "power": f(0.5, 3.0)}
    if name == "CosineAnnealingLR":
        return {"T_max": rng.randint(1, 25), "eta_min": f(0.0, 0.01)}
    if name == "CosineAnnealingWarmRestarts":
        return {"T_0": rng.randint(1, 8), "T_mult": rng.randint(1, 3), "eta_min": f(0.0, 0.01)}
    if name == "CyclicLR":
        kw = {
            "base_lr": [f(0.001, 0.01) for _ in range(groups)] if rng.random() < 0.5 else f(0.001, 0.01),
            "max_lr": f(0.05, 0.2),
            "step_size_up": rng.randint(1, 6),
            "mode": rng.choice(["triangular", "triangular2", "exp_range"]),
            "gamma": f(0.9, 1.0),
        }
        if rng.random() < 0.5:
            kw["step_size_down"] = rng.randint(1, 6)
        if rng.random() < 0.3:
            kw["scale_mode"] = "iterations"
        return kw
    if name == "OneCycleLR":
        return {
            "max_lr": f(0.05, 0.5),
            "total_steps": 40,
            "pct_start": f(0.1, 0.6),
            "anneal_strategy": rng.choice(["cos", "linear"]),
            "div_factor": f(5.0, 30.0),
            "final_div_factor": f(10.0, 1e4),
            "three_phase": rng.random() < 0.3,
        }
    raise AssertionError(name)


LEAVES = [
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
]


def pair(name, kwargs, lrs, tensor, kind):
    """The same scheduler built by torch and by lrkit, each on its own optimizer."""
    ours_opt, theirs_opt = optimizer(kind, lrs, tensor), optimizer(kind, lrs, tensor)
    ours = getattr(L, name)(ours_opt, **kwargs)
    theirs = getattr(T, name)(theirs_opt, **kwargs)
    return ours_opt, ours, theirs_opt, theirs


@pytest.mark.parametrize("name", LEAVES)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_scheduler_steps_as_torch(name, seed):
    rng = random.Random(f"{name}-{seed}")
    n = rng.randint(1, 3)
    lrs = [rng.uniform(0.01, 0.5) for _ in range(n)]
    tensor = rng.random() < 0.25 and name not in ("CyclicLR", "OneCycleLR")
    kind = "adam" if rng.random() < 0.3 else "sgd"
    kwargs = random_config(name, rng, n)
    ours_opt, ours, theirs_opt, theirs = pair(name, kwargs, lrs, tensor, kind)
    assert isinstance(ours, getattr(T, name))
    for step in range(40 if name != "OneCycleLR" else 39):
        assert snapshot(ours_opt, ours) == snapshot(theirs_opt, theirs), (kwargs, step)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
    assert snapshot(ours_opt, ours) == snapshot(theirs_opt, theirs)
    assert ours.state_dict().keys() == theirs.state_dict().keys()


def comparable(state: dict) -> dict:
    """A state dict with floats as bits and tensors as values (for equality)."""

    def conv(v):
        if isinstance(v, torch.Tensor):
            return ("tensor", v.tolist())
        if isinstance(v, float):
            return ("float", bits(v))
        if isinstance(v, (list, tuple)):
            return type(v)(conv(x) for x in v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if callable(v):
            return "callable"
        return v

    return {k: conv(v) for k, v in state.items()}


@pytest.mark.parametrize("name", LEAVES)
def test_checkpoints_move_both_ways(name):
    """A state dict saved from torch's class loads into lrkit's and the other way round; the
    resumed runs go on identically, and the saved dicts are equal."""
    rng = random.Random(name)
    kwargs = random_config(name, rng, 2)
    for first, second in ((T, L), (L, T)):
        a_opt = optimizer("sgd", [0.1, 0.2], False)
        a = getattr(first, name)(a_opt, **kwargs)
        for _ in range(7):
            a_opt.step()
            a.step()
        saved_opt, saved = a_opt.state_dict(), a.state_dict()
        expected = comparable(saved)  # (CyclicLR's load_state_dict pops a key of its argument)
        b_opt = optimizer("sgd", [0.1, 0.2], False)
        b = getattr(second, name)(b_opt, **kwargs)
        b_opt.load_state_dict(saved_opt)
        b.load_state_dict(saved)
        assert comparable(b.state_dict()) == expected
        for step in range(15):
            assert snapshot(a_opt, a) == snapshot(b_opt, b), (first.__name__, step)
            a_opt.step()
            b_opt.step()
            a.step()
            b.step()


@pytest.mark.parametrize("name", LEAVES)
def test_state_dicts_equal_torchs(name):
    rng = random.Random(f"state-{name}")
    kwargs = random_config(name, rng, 1)
    ours_opt, ours, theirs_opt, theirs = pair(name, kwargs, [0.1], False, "sgd")
    for _ in range(5):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
    assert comparable(ours.state_dict()) == comparable(theirs.state_dict())


CLOSED_FORM = ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR"]


@pytest.mark.parametrize("name", CLOSED_FORM)
@pytest.mark.parametrize("seed", range(10))
def test_step_with_an_epoch_uses_the_closed_form_as_torch(name, seed):
    rng = random.Random(f"epoch-{name}-{seed}")
    kwargs = random_config(name, rng, 2)
    ours_opt, ours, theirs_opt, theirs = pair(name, kwargs, [0.1, 0.3], seed % 2 == 1, "sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(12):
            epoch = rng.randint(0, 40)
            ours_opt.step()
            theirs_opt.step()
            ours.step(epoch)
            theirs.step(epoch)
            assert snapshot(ours_opt, ours) == snapshot(theirs_opt, theirs), epoch


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_lr_at_is_torchs_closed_form(name):
    rng = random.Random(f"closed-{name}")
    kwargs = random_config(name, rng, 1)
    _, ours, _, theirs = pair(name, kwargs, [0.1], False, "sgd")
    for step in range(60):
        theirs.last_epoch = step
        want = theirs._get_closed_form_lr()[0]
        assert same_bits(ours.lr_at(step), want), step


@pytest.mark.parametrize("name", ["CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"])
def test_lr_at_where_torch_has_no_closed_form(name):
    """sched-core's closed form of the schedules torch only steps: equal to the stepped value
    within 4 ulp (the operation order of a closed form differs from the step's)."""
    rng = random.Random(f"closed-{name}")
    kwargs = random_config(name, rng, 1)
    opt, ours, _, _ = pair(name, kwargs, [0.1], False, "sgd")
    for step in range(40 if name != "OneCycleLR" else 39):
        stepped = opt.param_groups[0]["lr"]
        closed = ours.lr_at(step)
        assert math.isclose(closed, stepped, rel_tol=4 * 2.0**-52, abs_tol=1e-300), (step, closed, stepped)
        opt.step()
        ours.step()


@pytest.mark.parametrize("seed", range(20))
def test_warm_restarts_with_fractional_epochs(seed):
    rng = random.Random(f"sgdr-{seed}")
    kwargs = random_config("CosineAnnealingWarmRestarts", rng, 2)
    ours_opt, ours, theirs_opt, theirs = pair("CosineAnnealingWarmRestarts", kwargs, [0.1, 0.05], False, "sgd")
    for _ in range(30):
        epoch = rng.choice([None, rng.uniform(0, 60), float(rng.randint(0, 60))])
        ours_opt.step()
        theirs_opt.step()
        ours.step(epoch)
        theirs.step(epoch)
        assert snapshot(ours_opt, ours) == snapshot(theirs_opt, theirs), epoch
        assert bits(ours.T_cur) == bits(theirs.T_cur) and ours.T_i == theirs.T_i


@pytest.mark.parametrize("seed", range(30))
def test_reduce_lr_on_plateau(seed):
    rng = random.Random(f"plateau-{seed}")
    kwargs = {
        "mode": rng.choice(["min", "max"]),
        "factor": rng.uniform(0.05, 0.9),
        "patience": rng.randint(0, 4),
        "threshold": rng.choice([1e-4, 0.01, 0.1]),
        "threshold_mode": rng.choice(["rel", "abs"]),
        "cooldown": rng.randint(0, 3),
        "min_lr": rng.choice([0, 1e-3, [1e-4, 1e-3]]),
        "eps": rng.choice([1e-8, 1e-3]),
    }
    tensor = seed % 3 == 0
    ours_opt, theirs_opt = optimizer("sgd", [0.1, 0.2], tensor), optimizer("sgd", [0.1, 0.2], tensor)
    ours, theirs = L.ReduceLROnPlateau(ours_opt, **kwargs), T.ReduceLROnPlateau(theirs_opt, **kwargs)
    metric = 1.0
    for step in range(60):
        metric += rng.uniform(-0.1, 0.12)
        ours.step(metric)
        theirs.step(metric)
        assert snapshot(ours_opt, ours) == snapshot(theirs_opt, theirs), step
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter, ours.last_epoch) == (
            theirs.best,
            theirs.num_bad_epochs,
            theirs.cooldown_counter,
            theirs.last_epoch,
        )
    assert comparable(ours.state_dict()) == comparable(theirs.state_dict())


def children(module, opt, rng):
    a = module.LinearLR(opt, start_factor=rng.uniform(0.05, 0.5), total_iters=rng.randint(1, 6))
    b = module.CosineAnnealingLR(opt, T_max=rng.randint(5, 30), eta_min=rng.uniform(0, 0.01))
    c = module.ExponentialLR(opt, gamma=rng.uniform(0.8, 0.99))
    return [a, b, c]


@pytest.mark.parametrize("seed", range(20))
def test_sequential_and_chained(seed):
    rng_state = random.Random(seed).getstate()
    for composite in ("SequentialLR", "ChainedScheduler"):
        runs = []
        for module in (L, T):
            rng = random.Random()
            rng.setstate(rng_state)
            opt = optimizer("sgd", [0.1, 0.02], seed % 4 == 0)
            kids = children(module, opt, rng)
            if composite == "SequentialLR":
                first = rng.choice([0, 1, 3])
                sched = module.SequentialLR(opt, kids, milestones=[first, first + rng.randint(0, 8)])
            else:
                sched = module.ChainedScheduler(kids, optimizer=opt)
            trace = []
            for _ in range(40):
                trace.append(snapshot(opt, sched))
                opt.step()
                sched.step()
            runs.append(trace)
        assert runs[0] == runs[1], composite


def test_sequential_lr_at_is_the_active_childs():
    opt = optimizer("sgd", [0.1], False)
    s = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=4), L.ExponentialLR(opt, gamma=0.9)], milestones=[4])
    for step in range(30):
        assert math.isclose(s.lr_at(step), opt.param_groups[0]["lr"], rel_tol=1e-15), step
        opt.step()
        s.step()


def test_lambdas_are_torchs_callables():
    for cls in ("LambdaLR", "MultiplicativeLR"):
        runs = []
        for module in (L, T):
            opt = optimizer("sgd", [0.1, 0.2], False)
            sched = getattr(module, cls)(opt, lr_lambda=[lambda e: 0.95**e, lambda e: 1 / (e + 1)])
            trace = []
            for _ in range(20):
                trace.append(snapshot(opt, sched))
                opt.step()
                sched.step()
            runs.append(trace)
            if module is L:
                assert same_bits(sched.lr_at(20), opt.param_groups[0]["lr"])
        assert runs[0] == runs[1]


def test_torchs_warnings_are_kept():
    opt = optimizer("sgd", [0.1], False)
    s = L.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_torchs_argument_errors_are_raised():
    opt = optimizer("sgd", [0.1], False)
    with pytest.raises(ValueError, match="^Tried to step 3 times. The specified number of total steps is 2$"):
        s = L.OneCycleLR(opt, max_lr=0.1, total_steps=2)
        for _ in range(3):
            opt.step()
            s.step()
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        L.CosineAnnealingWarmRestarts(opt, T_0=0)
    # What torch accepts at construction and fails on later fails at the same step here.
    s = L.StepLR(opt, step_size=0)
    opt.step()
    with pytest.raises(ZeroDivisionError, match="integer modulo by zero"):
        s.step()
    with pytest.raises(ValueError, match="step_size"):
        s.lr_at(3)

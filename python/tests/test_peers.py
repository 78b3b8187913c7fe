"""lrkit.transformers, lrkit.timm and lrkit.optax: the recorded golden vectors
(``tests/golden/sched_peers_public.json`` and every ``sched_peers_*.json`` in
``$GOLDEN_DIR``), and live against the real libraries where they are installed (each live test
skips, saying so, where its library is not): float64 families bit for bit, optax's float32 within
2 ulp (bit for bit without a transcendental function)."""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import random
import struct

import numpy as np
import pytest
import torch

import lrkit.optax as O
import lrkit.timm as M
import lrkit.transformers as H

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden")


def files() -> list[str]:
    out = [os.path.join(ROOT, "sched_peers_public.json")]
    if os.environ.get("GOLDEN_DIR"):
        out += sorted(glob.glob(os.path.join(os.environ["GOLDEN_DIR"], "sched_peers_*.json")))
    return out


def f64(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


def f32_bits(x: float) -> int:
    return int(np.float32(x).view(np.uint32))


def exact_kwargs(case: dict) -> dict:
    bits = case.get("kwargs_bits", {})
    return {k: (f64(bits[k]) if isinstance(bits.get(k), str) else v) for k, v in case["kwargs"].items()}


def optimizer(lrs):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs], lr=lrs[0])


def optax_schedule(name: str, kwargs: dict):
    if name == "join_schedules":
        parts = [optax_schedule(n, kw) for n, kw in kwargs["schedules"]]
        return O.join_schedules(parts, kwargs["boundaries"])
    if name in ("piecewise_constant_schedule", "piecewise_interpolate_schedule") and kwargs.get("boundaries_and_scales"):
        kwargs = {**kwargs, "boundaries_and_scales": {int(k): v for k, v in kwargs["boundaries_and_scales"].items()}}
    return getattr(O, name)(**kwargs)


def run_torch_family(module, case: dict) -> list[list[str]]:
    lrs = [f64(g["lr_bits"]) for g in case["groups"]]
    opt = optimizer(lrs)
    kwargs = exact_kwargs(case)
    rows = []
    row = lambda: rows.append([struct.pack(">d", g["lr"]).hex() for g in opt.param_groups])  # noqa: E731
    if module is H:
        sched = getattr(H, case["name"])(opt, **kwargs)
        row()
        for _ in range(case["steps"]):
            opt.step()
            sched.step()
            row()
    else:
        sched = getattr(M, case["name"])(opt, **kwargs)
        row()
        for t in range(1, case["steps"] + 1):
            sched.step(t)
            row()
    return rows


def test_golden_peer_vectors(capsys):
    for path in files():
        doc = json.load(open(path))
        counts = {"transformers": [0, 0], "timm": [0, 0], "optax": [0, 0]}
        max_ulp = 0
        for case in doc["cases"]:
            lib = case["library"]
            counts[lib][0] += 1
            if lib == "optax":
                s = optax_schedule(case["name"], exact_kwargs(case) if case.get("kwargs_bits") else case["kwargs"])
                got = [f32_bits(s(c)) for c in range(case["steps"] + 1)]
                want = [int(b, 16) for b in case["values_bits"]]
                ulp = max(abs(a - b) for a, b in zip(got, want, strict=True))
                assert ulp <= 2, f"{case['id']}: {ulp} ulp"
                max_ulp = max(max_ulp, ulp)
                counts[lib][1] += ulp == 0
            else:
                got = run_torch_family(H if lib == "transformers" else M, case)
                assert got == case["lrs_bits"], case["id"]
                counts[lib][1] += 1
        for case in doc.get("error_cases", []):
            lib = case["library"]
            exception, _, message = case["message"].partition(": ")
            with pytest.raises(Exception) as raised:
                if lib == "optax":
                    optax_schedule(case["name"], case["kwargs"])
                else:
                    module = H if lib == "transformers" else M
                    getattr(module, case["name"])(optimizer([g["lr"] for g in case["groups"]]), **case["kwargs"])
            assert type(raised.value).__name__ == exception, f"{case['id']}: {raised.value!r}"
            assert str(raised.value) == message, case["id"]
        line = f"golden {os.path.basename(path)} (python): " + ", ".join(
            f"{lib} {b}/{n} bitwise" for lib, (n, b) in counts.items()
        ) + f", optax max {max_ulp} ulp"
        with capsys.disabled():
            print("\n" + line)


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.mark.skipif(not have("transformers"), reason="transformers is not installed: the live check needs it")
@pytest.mark.parametrize("seed", range(30))
def test_transformers_live(seed):
    import transformers.optimization as real

    rng = random.Random(seed)
    n = rng.randint(20, 60)
    w = rng.randint(0, n // 3)
    name, kwargs = rng.choice(
        [
            ("get_constant_schedule", {}),
            ("get_constant_schedule_with_warmup", {"num_warmup_steps": w}),
            ("get_linear_schedule_with_warmup", {"num_warmup_steps": w, "num_training_steps": n}),
            ("get_cosine_schedule_with_warmup", {"num_warmup_steps": w, "num_training_steps": n, "num_cycles": rng.uniform(0.2, 3)}),
            ("get_cosine_with_hard_restarts_schedule_with_warmup", {"num_warmup_steps": w, "num_training_steps": n, "num_cycles": rng.randint(1, 4)}),
            ("get_polynomial_decay_schedule_with_warmup", {"num_warmup_steps": w, "num_training_steps": n, "lr_end": 1e-5, "power": rng.uniform(0.5, 3)}),
            ("get_inverse_sqrt_schedule", {"num_warmup_steps": w, "timescale": rng.choice([None, rng.randint(1, 50)])}),
            ("get_cosine_with_min_lr_schedule_with_warmup", {"num_warmup_steps": w, "num_training_steps": n, "min_lr": 1e-4}),
            ("get_cosine_with_min_lr_schedule_with_warmup_lr_rate", {"num_warmup_steps": w, "num_training_steps": n, "min_lr_rate": 0.05, "warmup_lr_rate": rng.choice([None, 0.1])}),
            ("get_wsd_schedule", {"num_warmup_steps": w, "num_decay_steps": rng.randint(1, 10), "num_training_steps": n, "warmup_type": rng.choice(["linear", "cosine", "1-sqrt"]), "decay_type": rng.choice(["linear", "cosine", "1-sqrt"]), "min_lr_ratio": rng.uniform(0, 0.2)}),
        ]
    )
    lrs = [rng.uniform(0.01, 0.5) for _ in range(rng.randint(1, 3))]
    a_opt, b_opt = optimizer(lrs), optimizer(lrs)
    a, b = getattr(H, name)(a_opt, **kwargs), getattr(real, name)(b_opt, **kwargs)
    assert isinstance(a, torch.optim.lr_scheduler.LambdaLR)
    for step in range(n + 5):
        assert [g["lr"] for g in a_opt.param_groups] == [g["lr"] for g in b_opt.param_groups], (name, step)
        assert a.lr_lambdas[0](step) == b.lr_lambdas[0](step)
        a_opt.step()
        b_opt.step()
        a.step()
        b.step()
    assert a.state_dict() == b.state_dict()


@pytest.mark.skipif(not have("timm"), reason="timm is not installed: the live check needs it")
@pytest.mark.parametrize("seed", range(30))
def test_timm_live(seed):
    import timm.scheduler as real

    rng = random.Random(seed)
    warm = {"warmup_t": rng.randint(0, 4), "warmup_lr_init": rng.uniform(0, 1e-3), "warmup_prefix": rng.random() < 0.5}
    cyc = {"t_initial": rng.randint(3, 15), "lr_min": rng.uniform(0, 1e-3), "cycle_mul": rng.choice([1.0, 2.0]), "cycle_decay": rng.choice([1.0, 0.5]), "cycle_limit": rng.randint(1, 3)}
    name, kwargs = rng.choice(
        [
            ("CosineLRScheduler", {**cyc, **warm, "k_decay": rng.choice([1.0, 0.5, 2.0])}),
            ("TanhLRScheduler", {**cyc, **warm}),
            ("PolyLRScheduler", {**cyc, **warm, "power": rng.uniform(0.3, 2.0)}),
            ("StepLRScheduler", {**warm, "decay_t": rng.randint(1, 8), "decay_rate": rng.uniform(0.1, 0.9)}),
            ("MultiStepLRScheduler", {**warm, "decay_t": sorted(rng.sample(range(1, 40), 3)), "decay_rate": rng.uniform(0.1, 0.9)}),
        ]
    )
    if rng.random() < 0.3:
        kwargs["noise_range_t"] = rng.randint(0, 10)
    per_update = rng.random() < 0.3
    if per_update:
        kwargs["t_in_epochs"] = False
    lrs = [rng.uniform(0.01, 0.5) for _ in range(2)]
    a_opt, b_opt = optimizer(lrs), optimizer(lrs)
    b_opt.param_groups[1]["lr_scale"] = a_opt.param_groups[1]["lr_scale"] = 0.5
    a, b = getattr(M, name)(a_opt, **kwargs), getattr(real, name)(b_opt, **kwargs)
    for t in range(60):
        assert [g["lr"] for g in a_opt.param_groups] == [g["lr"] for g in b_opt.param_groups], (name, kwargs, t)
        for s in (a, b):
            s.step_update(t) if per_update else s.step(t)
    assert sorted(a.state_dict()) == sorted(b.state_dict())


@pytest.mark.skipif(not have("optax"), reason="optax is not installed: the live check needs it")
@pytest.mark.parametrize("seed", range(30))
def test_optax_live(seed):
    import optax as real

    rng = random.Random(seed)
    name, kwargs = rng.choice(
        [
            ("constant_schedule", {"value": rng.uniform(0, 1)}),
            ("linear_schedule", {"init_value": rng.uniform(0, 1), "end_value": rng.uniform(0, 1), "transition_steps": rng.randint(1, 50), "transition_begin": rng.randint(0, 10)}),
            ("cosine_decay_schedule", {"init_value": rng.uniform(0.1, 1), "decay_steps": rng.randint(1, 60), "alpha": rng.uniform(0, 0.3)}),
            ("exponential_decay", {"init_value": 1.0, "transition_steps": rng.randint(1, 10), "decay_rate": rng.uniform(0.5, 0.99), "staircase": rng.random() < 0.5}),
            ("piecewise_constant_schedule", {"init_value": 1.0, "boundaries_and_scales": {10: 0.5, 30: 0.1}}),
            ("polynomial_schedule", {"init_value": 1.0, "end_value": 0.01, "power": rng.uniform(0.5, 3), "transition_steps": rng.randint(1, 60)}),
            ("warmup_cosine_decay_schedule", {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": rng.randint(1, 10), "decay_steps": rng.randint(20, 60)}),
            ("linear_onecycle_schedule", {"transition_steps": rng.randint(20, 60), "peak_value": 1.0}),
            ("cosine_onecycle_schedule", {"transition_steps": rng.randint(20, 60), "peak_value": 1.0}),
            ("piecewise_interpolate_schedule", {"interpolate_type": rng.choice(["linear", "cosine"]), "init_value": 1.0, "boundaries_and_scales": {5: 2.0, 20: 0.1}}),
        ]
    )
    a, b = getattr(O, name)(**kwargs), getattr(real, name)(**kwargs)
    for count in range(80):
        ours, theirs = f32_bits(a(count)), int(np.asarray(b(count), dtype=np.float32).view(np.uint32))
        assert abs(ours - theirs) <= 2, (name, kwargs, count)

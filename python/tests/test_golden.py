"""The recorded golden vectors through lrkit's scheduler classes: every case of
``tests/golden/sched_public.json`` (recorded from torch 2.11) and of every ``sched_*.json``
in ``$GOLDEN_DIR`` that needs nothing but the torch API, built with lrkit's classes and stepped
as recorded. Each trace must equal the recorded one bit for bit, or, where the installed torch
itself no longer gives the recorded values (SequentialLR with a milestone at 0 changed in torch
2.13), the installed torch's live trace."""

from __future__ import annotations

import glob
import json
import os
import struct
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as T

import lrkit.torch.lr_scheduler as L

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden")


def files() -> list[str]:
    out = [os.path.join(ROOT, "sched_public.json")]
    extra = os.environ.get("GOLDEN_DIR")
    if extra:
        names = sorted(glob.glob(os.path.join(extra, "sched_*.json")))
        out += [n for n in names if not os.path.basename(n).startswith(("sched_peers", "sched_lambda"))]
    return out


def f64(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


def lam(d: dict):
    """A lambda descriptor (SPEC.md §1.2) as the Python function it was recorded with."""
    b = lambda k: f64(d[k + "_bits"]) if k + "_bits" in d else d[k]  # noqa: E731
    kind = d["kind"]
    if kind == "constant":
        v = b("value")
        return lambda e: v
    if kind == "pow":
        base = b("base")
        return lambda e: base**e
    if kind == "floordiv":
        return lambda e: e // d["divisor"]
    if kind == "linear_warmup":
        return lambda e: min(1.0, (e + 1) / d["warmup"])
    if kind == "step_pow":
        gamma = b("gamma")
        return lambda e: gamma ** (e // d["every"])
    raise KeyError(kind)


def kwargs_of(spec: dict) -> dict:
    out = {}
    bits = spec.get("kwargs_bits", {})
    for k, v in spec.get("kwargs", {}).items():
        if k in bits:
            v = [f64(x) for x in bits[k]] if isinstance(bits[k], list) else f64(bits[k])
        if k == "lr_lambda" and isinstance(v, list):
            v = [lam(x) if isinstance(x, dict) else x for x in v]
        elif k == "lr_lambda" and isinstance(v, dict):
            v = lam(v)
        out[k] = v
    return out


def build(module, spec: dict, opt):
    kind, kw = spec["type"], kwargs_of(spec)
    if kind in ("SequentialLR", "ChainedScheduler"):
        kids = [build(module, s, opt) for s in spec["schedulers"]]
        if kind == "SequentialLR":
            return module.SequentialLR(opt, kids, **kw)
        return module.ChainedScheduler(kids, optimizer=opt)
    return getattr(module, kind)(opt, **kw)


def run(module, case: dict) -> list:
    """The case's trace with `module`'s classes: lr (and momentum) rows, stopping at an error."""
    groups = []
    for g in case["groups"]:
        lr = f64(g["lr_bits"]) if "lr_bits" in g else g["lr"]
        group = {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": torch.tensor(lr) if case.get("lr_is_tensor") else lr}
        if "momentum" in g:
            group["momentum"] = f64(g["momentum_bits"]) if "momentum_bits" in g else g["momentum"]
        if "initial_lr" in g:
            group["initial_lr"] = f64(g["initial_lr_bits"]) if "initial_lr_bits" in g else g["initial_lr"]
        groups.append(group)
    opt = torch.optim.SGD(groups, lr=0.1, **(case.get("optimizer") or {}))
    spec = case["spec"]
    scheds = [build(module, s, opt) for s in spec["schedulers"]] if spec["type"] == "Compound" else [build(module, spec, opt)]
    plan = spec.get("step_plan")
    metrics = [f64(m) for m in case["metrics_bits"]] if case.get("metrics_bits") else None
    epochs = case.get("step_epochs_bits") or case.get("step_epochs")
    rows = []

    def row():
        lrs = [struct.pack(">d", float(g["lr"])).hex() for g in opt.param_groups]
        moms = [struct.pack(">d", float(g["momentum"])).hex() for g in opt.param_groups] if case.get("record_momentum") else None
        rows.append((lrs, moms))

    row()
    for t in range(case["steps"]):
        opt.step()
        try:
            for i, s in enumerate(scheds):
                if plan is not None and i not in plan[t]:
                    continue
                if isinstance(s, T.ReduceLROnPlateau):
                    s.step(metrics[t])
                elif epochs is not None and epochs[t] is not None:
                    e = epochs[t]
                    s.step(f64(e) if isinstance(e, str) else e)
                else:
                    s.step()
        except Exception as e:  # noqa: BLE001 - the recorded error is any exception
            rows.append(("raised", type(e).__name__, t + 1))
            return rows
        row()
    return rows


def recorded(case: dict) -> list:
    r = case["records"]
    rows = []
    for i, lrs in enumerate(r["lrs_bits"]):
        moms = r["momentum_bits"][i] if case.get("record_momentum") else None
        rows.append((list(lrs), None if moms is None else list(moms)))
    if case.get("error"):
        rows.append(("raised", case["error"]["type"], case["error"]["at_step"]))
    return rows


def test_golden_scheduler_vectors(capsys):
    for path in files():
        doc = json.load(open(path))
        n = same_as_record = same_as_live = 0
        for case in doc["cases"]:
            n += 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = run(L, case)
                if ours == recorded(case):
                    same_as_record += 1
                    continue
                live = run(T, case)
            assert live != recorded(case), f"{case['id']}: torch reproduces the record, lrkit does not"
            assert ours == live, f"{case['id']}: lrkit differs from the installed torch"
            same_as_live += 1
        line = (
            f"golden {os.path.basename(path)} (python): {n} cases, {same_as_record} as recorded, "
            f"{same_as_live} as the installed torch {torch.__version__} (which differs from the record)"
        )
        with capsys.disabled():
            print("\n" + line)
        assert same_as_record + same_as_live == n
        assert same_as_record >= n - 10


def test_golden_error_cases():
    """Every recorded error case: the same exception, with the same message, at the same
    point (construction, or the recorded step)."""
    for path in files():
        doc = json.load(open(path))
        for case in doc.get("error_cases", []):
            spec = dict(case["spec"])
            kw = spec.get("kwargs", {})
            if "lr_lambda_raw" in kw:
                spec["kwargs"] = {**{k: v for k, v in kw.items() if k != "lr_lambda_raw"}, "lr_lambda": kw["lr_lambda_raw"]}
            opt = torch.optim.SGD(
                [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": g["lr"]} for g in case["groups"]], lr=0.1
            )
            epochs = case.get("step_epochs")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(Exception) as raised:
                    s = build(L, spec, opt)
                    assert case["raises_in"] == "step", f"{case['id']}: built"
                    for t in range(case["steps"]):
                        opt.step()
                        s.step() if not epochs or epochs[t] is None else s.step(epochs[t])
                        assert t + 1 < case["raises_at_step"], f"{case['id']}: stepped past the error"
            e = raised.value
            assert type(e).__name__ == case["exception"], f"{case['id']}: {e!r}"
            assert str(e) == case["message"] or str(e).startswith(case["message"]), f"{case['id']}: {e}"

"""``lrkit.schedule(spec, epochs, lr=0.1)``: the learning rate of every epoch of a schedule
written as ``lrkit schedule`` takes it, as PyTorch's tutorial loop records it.

A spec is a Python expression, as a training script writes the constructor, the optimizer
argument left out: ``"StepLR(step_size=10)"``, ``"SequentialLR([LinearLR(start_factor=0.1,
total_iters=5), CosineAnnealingLR(T_max=25)], milestones=[5])"``,
``"transformers.get_cosine_schedule_with_warmup(2, 10)"``, ``"timm.CosineLRScheduler(t_initial=10)"``,
``"optax.warmup_cosine_decay_schedule(0.0, 1.0, 5, 50)"``, ``"LambdaLR(lr_lambda=lambda e: 0.95 ** e)"``,
``"Compound([StepLR(step_size=3), ReduceLROnPlateau()], step_plan=[[0, 1], [1]])"``; or the path
of a JSON spec file in the golden vectors' format. The expression is read with Python's own
parser and only these forms are evaluated: literals, lists, dicts, calls of the schedules
(bare torch names or ``torch.``/``transformers.``/``timm.``/``optax.`` prefixed) and of the
learning-rate functions ``pow(b)``, ``floordiv(d)``, ``warmup(n)``, ``step_pow(g, n)``,
``constant(c)``, and ``lambda`` bodies, which Python itself runs (with ``math`` and the
arithmetic builtins in scope). Anything else raises ``ValueError`` naming it.

The values come from lrkit's classes (sched-core) on a ``torch.optim.SGD`` with one parameter
group per ``lr``; a ReduceLROnPlateau steps on ``metrics[epoch]``.
"""

from __future__ import annotations

import ast
import json
import math
import os

import torch

from . import optax as _optax
from . import timm as _timm
from . import transformers as _transformers
from .torch import lr_scheduler as _torch

__all__ = ["schedule"]

_LAMBDA_GLOBALS = {
    "__builtins__": {
        f.__name__: f for f in (abs, bool, divmod, float, int, max, min, pow, round)
    },
    "math": math,
}

#: The learning-rate functions of the CLI (the golden vectors' lambda descriptors).
_FUNCTIONS = {
    "constant": lambda value: (lambda e: value),
    "pow": lambda base: (lambda e: base**e),
    "floordiv": lambda divisor: (lambda e: e // divisor),
    "warmup": lambda iters: (lambda e: min(1.0, (e + 1) / iters)),
    "linear_warmup": lambda warmup: (lambda e: min(1.0, (e + 1) / warmup)),
    "step_pow": lambda gamma, every: (lambda e: gamma ** (e // every)),
}

_LIBRARIES = {"torch": _torch, "transformers": _transformers, "timm": _timm, "optax": _optax}
_OPTIMIZER_NAMES = {"optimizer", "optim", "opt"}


class _Compound:
    """Several schedulers built in order on one optimizer, stepped together (or as
    ``step_plan[t]`` says)."""

    def __init__(self, parts, step_plan=None):
        self.parts, self.step_plan = parts, step_plan


def _resolve(name: str):
    """The callable a dotted name stands for, from the schedule libraries."""
    parts = name.split(".")
    if parts[:3] == ["torch", "optim", "lr_scheduler"]:
        parts = ["torch", *parts[3:]]
    elif parts[:1] == ["lr_scheduler"]:
        parts = ["torch", *parts[1:]]
    if len(parts) == 1:
        if parts[0] in _FUNCTIONS:
            return _FUNCTIONS[parts[0]]
        if parts[0] == "Compound":
            return _Compound
        for module in (_torch, _transformers, _timm, _optax):
            if parts[0] in getattr(module, "__all__", ()):
                return getattr(module, parts[0])
    elif len(parts) == 2 and parts[0] in _LIBRARIES and parts[1] in _LIBRARIES[parts[0]].__all__:
        return getattr(_LIBRARIES[parts[0]], parts[1])
    raise ValueError(f"unknown schedule or function `{name}`")


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    raise ValueError(f"expected a name, found `{ast.unparse(node)}`")


class _Builder:
    """Evaluates a spec expression on one optimizer."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    def value(self, node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.value(node.operand)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            return {self.value(k): self.value(v) for k, v in zip(node.keys, node.values, strict=True)}
        if isinstance(node, ast.Lambda):
            code = compile(ast.Expression(node), "<lr_lambda>", "eval")
            return eval(code, dict(_LAMBDA_GLOBALS))  # noqa: S307 - the user's own lambda
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name) and node.id in ("inf", "nan"):
            return float(node.id)
        raise ValueError(f"expected a value, found `{ast.unparse(node)}`")

    def call(self, node: ast.Call):
        name = _dotted(node.func)
        target = _resolve(name)
        args = list(node.args)
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise ValueError(f"`**` arguments are not supported: `{ast.unparse(kw)}`")
            if kw.arg in _OPTIMIZER_NAMES:
                continue
            kwargs[kw.arg] = self.value(kw.value)
        if args and isinstance(args[0], ast.Name) and args[0].id in _OPTIMIZER_NAMES:
            args = args[1:]
        values = [self.value(a) for a in args]
        short = name.rsplit(".", 1)[-1]
        if target is _Compound or name in _FUNCTIONS or target.__module__ == _optax.__name__:
            return target(*values, **kwargs)
        if short == "ChainedScheduler":
            return target(*values, optimizer=self.optimizer, **kwargs)
        return target(self.optimizer, *values, **kwargs)


def _from_json(doc: dict, builder: _Builder):
    """A JSON spec (``{"type", "kwargs", "schedulers"}``, or a whole golden case)."""
    if "spec" in doc and "type" not in doc:
        doc = doc["spec"]
    if "library" in doc and "name" in doc:
        text = f"{doc['library']}.{doc['name']}(**kwargs)"
        target = _resolve(text.split("(")[0])
        kwargs = doc.get("kwargs", {})
        return target(**kwargs) if doc["library"] == "optax" else target(builder.optimizer, **kwargs)
    kind = doc["type"]
    kwargs = {}
    for k, v in doc.get("kwargs", {}).items():
        if k in ("lr_lambda", "lr_lambda_raw"):
            k, v = "lr_lambda", _json_lambda(v)
        kwargs[k] = v
    children = [_from_json(c, builder) for c in doc.get("schedulers", [])]
    if kind == "Compound":
        return _Compound(children, doc.get("step_plan"))
    target = _resolve(kind)
    if kind == "SequentialLR":
        return target(builder.optimizer, children, **kwargs)
    if kind == "ChainedScheduler":
        return target(children, optimizer=builder.optimizer, **kwargs)
    return target(builder.optimizer, **kwargs)


def _json_lambda(v):
    if isinstance(v, list):
        return [_json_lambda(x) for x in v]
    if not isinstance(v, dict):
        return v
    kind = v.get("kind")
    if kind == "expr":
        node = ast.parse(f"lambda {v['param']}: {v['body']}", mode="eval").body
        return _Builder(None).value(node)
    args = {"constant": ("value",), "pow": ("base",), "floordiv": ("divisor",), "linear_warmup": ("warmup",), "step_pow": ("gamma", "every")}
    if kind not in args:
        raise ValueError(f"unknown learning-rate function {kind!r}")
    return _FUNCTIONS[kind](*(v[a] for a in args[kind]))


def _step(sched, epoch: int, metric) -> None:
    if isinstance(sched, _Compound):
        plan = sched.step_plan
        if plan is not None and epoch >= len(plan):
            raise ValueError(f"step_plan has only {len(plan)} entries")
        for i, part in enumerate(sched.parts):
            if plan is None or i in plan[epoch]:
                _step(part, epoch, metric)
    elif isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
        if metric is None:
            raise ValueError("ReduceLROnPlateau steps on a validation metric: give metrics=[...], one per epoch")
        sched.step(metric)
    elif isinstance(sched, _timm.Scheduler):
        sched.step(epoch + 1)
    else:
        sched.step()


def schedule(spec: str, epochs: int, lr: float | list[float] = 0.1, *, metrics=None, array: bool = False):
    """The lr of every parameter group before each epoch's ``scheduler.step()``:
    ``rows[epoch][group]``, ``epochs`` rows (a NumPy array with ``array=True``). An optax
    schedule gives its value at ``count = epoch`` (one column, whatever ``lr`` is)."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs = {epochs!r}: expected a positive int")
    lrs = lr if isinstance(lr, (list, tuple)) else [lr]
    for x in lrs:
        if x < 0:
            raise ValueError(f"Invalid learning rate: {x}")
    optimizer = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": x} for x in lrs], lr=lrs[0])
    builder = _Builder(optimizer)
    if spec.endswith(".json") or (os.path.isfile(spec) and "(" not in spec):
        with open(spec) as f:
            sched = _from_json(json.load(f), builder)
    else:
        try:
            tree = ast.parse(spec.strip(), mode="eval")
        except SyntaxError as e:
            raise ValueError(f"not a spec: {e.msg} at column {e.offset}: {spec}") from None
        sched = builder.value(tree.body)
    rows = []
    for epoch in range(epochs):
        if isinstance(sched, _optax.Schedule):
            rows.append([sched(epoch)])
            continue
        rows.append([float(g["lr"]) for g in optimizer.param_groups])
        if epoch + 1 < epochs:
            if epoch == 0:
                optimizer.step()  # torch's order: optimizer.step() before the scheduler's
            _step(sched, epoch, None if metrics is None else metrics[epoch])
    if array:
        import numpy as np

        return np.asarray(rows, dtype=np.float64)
    return rows

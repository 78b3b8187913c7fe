"""The learning-rate schedules of Hugging Face transformers (``transformers.optimization``),
computed by sched-core, bitwise transformers' values.

Each function has transformers' name and signature and, as transformers' does, returns a
``torch.optim.lr_scheduler.LambdaLR`` (here a subclass whose ``get_lr()`` is sched-core's):
``scheduler.lr_lambdas[0](step)`` is transformers' ``λ(step)``, the lr is ``base_lr *
λ(step)``, ``lr_at(step)`` is the closed form, and the state dict is the one transformers'
scheduler saves. Arguments are checked as transformers checks them (same exceptions and
messages).
"""

from __future__ import annotations

import warnings
from functools import partial

from torch.optim import lr_scheduler as _torch

from .torch.lr_scheduler import _Computed

__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_wsd_schedule",
]


def _lambda(scheduler: TransformersLambdaLR, step: int) -> float:
    return scheduler._lrkit_core().transformers_lambda(step)


class TransformersLambdaLR(_Computed, _torch.LambdaLR):
    """The ``LambdaLR`` a transformers schedule function returns, computed by sched-core."""

    def __init__(self, optimizer, function: str, kwargs: dict, last_epoch: int = -1) -> None:
        self.__dict__["_lrkit_kind"] = f"transformers.{function}"
        self.__dict__["_lrkit_args"] = {k: v for k, v in kwargs.items() if v is not None}
        self.__dict__["_lrkit_lr_init"] = float(optimizer.defaults["lr"])
        # transformers passes a `partial` (saved in the state dict as its empty `__dict__`),
        # except for get_constant_schedule's plain function (saved as None): the same here.
        if function == "get_constant_schedule":

            def lr_lambda(step: int) -> float:
                return _lambda(self, step)

        else:
            lr_lambda = partial(_lambda, self)
        super().__init__(optimizer, lr_lambda, last_epoch)

    def _lrkit_kwargs(self):
        return self.__dict__["_lrkit_args"]

    def _lrkit_core(self):
        return _Computed._lrkit_core(self, lr_init=self.__dict__["_lrkit_lr_init"])


def _schedule(function: str, optimizer, last_epoch: int, **kwargs) -> TransformersLambdaLR:
    return TransformersLambdaLR(optimizer, function, kwargs, last_epoch)


def get_constant_schedule(optimizer, last_epoch: int = -1):
    return _schedule("get_constant_schedule", optimizer, last_epoch)


def get_constant_schedule_with_warmup(optimizer, num_warmup_steps: int, last_epoch: int = -1):
    return _schedule("get_constant_schedule_with_warmup", optimizer, last_epoch, num_warmup_steps=num_warmup_steps)


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, last_epoch=-1):
    return _schedule(
        "get_linear_schedule_with_warmup",
        optimizer,
        last_epoch,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
    )


def get_cosine_schedule_with_warmup(
    optimizer, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5, last_epoch: int = -1
):
    return _schedule(
        "get_cosine_schedule_with_warmup",
        optimizer,
        last_epoch,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1, last_epoch: int = -1
):
    return _schedule(
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        optimizer,
        last_epoch,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
    )


def get_polynomial_decay_schedule_with_warmup(
    optimizer, num_warmup_steps, num_training_steps, lr_end=1e-7, power=1.0, last_epoch=-1
):
    lr_init = optimizer.defaults["lr"]
    if not (lr_init > lr_end):
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    return _schedule(
        "get_polynomial_decay_schedule_with_warmup",
        optimizer,
        last_epoch,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        lr_end=lr_end,
        power=power,
    )


def get_inverse_sqrt_schedule(optimizer, num_warmup_steps: int, timescale: int | None = None, last_epoch: int = -1):
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    return _schedule(
        "get_inverse_sqrt_schedule", optimizer, last_epoch, num_warmup_steps=num_warmup_steps, timescale=timescale
    )


def _min_lr_rate(optimizer, min_lr, min_lr_rate):
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set")
    elif min_lr is not None:
        min_lr_rate = min_lr / optimizer.defaults["lr"]
    elif min_lr_rate is None:
        raise ValueError("One of min_lr or min_lr_rate should be set through the `lr_scheduler_kwargs`")
    return min_lr_rate


def get_cosine_with_min_lr_schedule_with_warmup(
    optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
):
    return _schedule(
        "get_cosine_with_min_lr_schedule_with_warmup",
        optimizer,
        last_epoch,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
        min_lr_rate=_min_lr_rate(optimizer, min_lr, min_lr_rate),
    )


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    optimizer,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    warmup_lr_rate: float | None = None,
):
    return _schedule(
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        optimizer,
        last_epoch,
        num_warmup_steps=num_warmup_steps,
        num_training_steps=num_training_steps,
        num_cycles=num_cycles,
        min_lr_rate=_min_lr_rate(optimizer, min_lr, min_lr_rate),
        warmup_lr_rate=warmup_lr_rate,
    )


def get_wsd_schedule(
    optimizer,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
):
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn("Both num_training_steps and num_stable_steps are specified. num_stable_steps will be used.")
    if warmup_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(f"Unknown warmup type: {warmup_type}, expected 'linear', 'cosine' or '1-sqrt'")
    if decay_type not in ["linear", "cosine", "1-sqrt"]:
        raise ValueError(f"Unknown decay type: {decay_type}, expected 'linear', 'cosine' or '1-sqrt'")
    if num_stable_steps is None:
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    return _schedule(
        "get_wsd_schedule",
        optimizer,
        last_epoch,
        num_warmup_steps=num_warmup_steps,
        num_decay_steps=num_decay_steps,
        num_stable_steps=num_stable_steps,
        warmup_type=warmup_type,
        decay_type=decay_type,
        min_lr_ratio=min_lr_ratio,
        num_cycles=num_cycles,
    )

"""The schedulers of ``torch.optim.lr_scheduler``, computed by sched-core.

Each class here is a subclass of torch's class of the same name, with its signature: torch's
own code runs the constructor (argument checks, ``initial_lr``, the optimizer-step wrapper),
``step()`` (its call-order warnings, ``last_epoch``, 0-dim Tensor lrs, ``_last_lr``) and keeps
the state, so ``isinstance``, ``get_last_lr()``, ``state_dict()`` and ``load_state_dict()``
behave as torch's (a checkpoint moves between torch's class and this one both ways: the
state dicts have the same keys and values). What torch computes in Python, sched-core
computes in Rust from that state: ``get_lr()``, ``_get_closed_form_lr()``, and
ReduceLROnPlateau's step. The values are bitwise torch 2.15's, for float and 0-dim float32
Tensor lrs.

Every scheduler also has ``lr_at(step, group=0)``: sched-core's closed form, O(1), including
OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts and SequentialLR, where torch has none.

LambdaLR and MultiplicativeLR take Python callables, as torch does: their factor is the
callable's value, multiplied by torch's code. A CyclicLR with a custom ``scale_fn`` is torch's
own computation too (the function is Python).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import torch
from torch import Tensor
from torch.optim import lr_scheduler as _torch

from .. import _lrkit
from .._cache import cached, forget, key_of, public

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]

LRScheduler = _torch.LRScheduler


def _lrs(optimizer) -> tuple[list[float], list[bool]]:
    """The groups' lrs as floats, and which are 0-dim Tensors."""
    groups = optimizer.param_groups
    return [float(g["lr"]) for g in groups], [isinstance(g["lr"], Tensor) for g in groups]


def _momenta(optimizer) -> list[float | None]:
    """Each group's ``momentum`` (or ``betas[0]``), ``None`` where it has neither."""
    out = []
    for g in optimizer.param_groups:
        if "betas" in g:
            out.append(float(g["betas"][0]))
        elif "momentum" in g:
            out.append(float(g["momentum"]))
        else:
            out.append(None)
    return out


class _Computed:
    """The part of a scheduler that sched-core computes: ``get_lr()`` from torch's state.

    A subclass names its torch class (``_lrkit_kind``) and gives the constructor arguments
    of its current state (``_lrkit_kwargs``). The sched-core scheduler is built once per
    distinct set of arguments, base lrs and lr types, and cached outside the state dict.
    """

    _lrkit_kind: str

    def _lrkit_kwargs(self) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    def _lrkit_cycle(self) -> tuple[float, int] | None:
        return None

    def _lrkit_key(self) -> tuple:
        """What the sched-core scheduler is built from, compared at every step."""
        return (*self._lrkit_kwargs().values(), *self.base_lrs)

    def _lrkit_core(self, lr_init: float | None = None):
        def build():
            kwargs = self._lrkit_kwargs()
            if any(v is None for v in kwargs.values()):
                # None where torch's default is a number is a value torch computes with.
                raise TypeError("an argument is None")
            base_lrs = [float(b) for b in self.base_lrs]
            _, tensor = _lrs(self.optimizer)
            momenta = _momenta(self.optimizer)
            return _lrkit.SchedulerCore(self._lrkit_kind, kwargs, base_lrs, tensor, momenta, lr_init)

        # What sched-core cannot build, torch's own code runs: what torch accepts and fails on
        # only later (ConstantLR(factor=0) divides by zero at `total_iters`, StepLR(step_size=0)
        # at the first step), ints past 64 bits, None or values of a type torch only trips over
        # when it computes. It then raises where torch raises, or gives torch's values.
        return cached(self, self._lrkit_key(), build, (ValueError, TypeError, OverflowError, ZeroDivisionError))

    def get_lr(self) -> list[float]:
        """torch's ``get_lr()``, computed by sched-core from the scheduler's state."""
        core = self._lrkit_core()
        if isinstance(core, Exception):
            return super().get_lr()
        _torch._warn_get_lr_called_within_step(self)
        momentum_key = None
        if getattr(self, "cycle_momentum", False):
            momentum_key = "betas" if getattr(self, "use_beta1", False) else "momentum"
        return core.get_lr(
            self.last_epoch,
            self.base_lrs,
            self._is_initial,
            self.optimizer.param_groups,
            self._lrkit_cycle(),
            momentum_key,
        )

    def lr_at(self, step: int, group: int = 0) -> float:
        """The lr of param group ``group`` after ``step`` steps, in O(1) (sched-core's closed
        form of the schedule as constructed, from ``base_lrs``). Raises sched-core's error for a
        configuration torch fails on later (``ValueError`` naming the parameter)."""
        core = self._lrkit_core()
        if isinstance(core, Exception):
            raise core
        return core.lr_at(group, step)

    def state_dict(self) -> dict[str, Any]:
        return public(super().state_dict())

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        forget(self)


class _ClosedForm(_Computed):
    """torch's ``_get_closed_form_lr()`` (``step(epoch)``, SequentialLR's restart at a
    milestone), computed by sched-core."""

    def _get_closed_form_lr(self) -> list[float]:
        core = self._lrkit_core()
        if self.last_epoch < 0 or isinstance(core, Exception):
            return super()._get_closed_form_lr()
        return [core.lr_at(i, self.last_epoch) for i in range(len(self.optimizer.param_groups))]


class StepLR(_ClosedForm, _torch.StepLR):
    __doc__ = _torch.StepLR.__doc__
    _lrkit_kind = "StepLR"

    def _lrkit_kwargs(self):
        return {"step_size": self.step_size, "gamma": self.gamma}


class MultiStepLR(_ClosedForm, _torch.MultiStepLR):
    __doc__ = _torch.MultiStepLR.__doc__
    _lrkit_kind = "MultiStepLR"

    def _lrkit_kwargs(self):
        return {"milestones": sorted(self.milestones.elements()), "gamma": self.gamma}


class ConstantLR(_ClosedForm, _torch.ConstantLR):
    __doc__ = _torch.ConstantLR.__doc__
    _lrkit_kind = "ConstantLR"

    def _lrkit_kwargs(self):
        return {"factor": self.factor, "total_iters": self.total_iters}


class LinearLR(_ClosedForm, _torch.LinearLR):
    __doc__ = _torch.LinearLR.__doc__
    _lrkit_kind = "LinearLR"

    def _lrkit_kwargs(self):
        return {
            "start_factor": self.start_factor,
            "end_factor": self.end_factor,
            "total_iters": self.total_iters,
        }


class ExponentialLR(_ClosedForm, _torch.ExponentialLR):
    __doc__ = _torch.ExponentialLR.__doc__
    _lrkit_kind = "ExponentialLR"

    def _lrkit_kwargs(self):
        return {"gamma": self.gamma}


class PolynomialLR(_ClosedForm, _torch.PolynomialLR):
    __doc__ = _torch.PolynomialLR.__doc__
    _lrkit_kind = "PolynomialLR"

    def _lrkit_kwargs(self):
        return {"total_iters": self.total_iters, "power": self.power}


class CosineAnnealingLR(_ClosedForm, _torch.CosineAnnealingLR):
    __doc__ = _torch.CosineAnnealingLR.__doc__
    _lrkit_kind = "CosineAnnealingLR"

    def _lrkit_kwargs(self):
        return {"T_max": self.T_max, "eta_min": self.eta_min}


class CosineAnnealingWarmRestarts(_Computed, _torch.CosineAnnealingWarmRestarts):
    __doc__ = _torch.CosineAnnealingWarmRestarts.__doc__
    _lrkit_kind = "CosineAnnealingWarmRestarts"

    def _lrkit_kwargs(self):
        return {"T_0": self.T_0, "T_mult": self.T_mult, "eta_min": self.eta_min}

    def _lrkit_cycle(self):
        return (float(self.T_cur), int(self.T_i))


class _RecordedArgs(_Computed):
    """A scheduler whose state does not give back its constructor arguments (CyclicLR keeps
    ``total_size`` and ``step_ratio``, OneCycleLR its phases): they are recorded at
    construction, outside the state dict."""

    #: The arguments whose torch default is None (left out when None).
    _lrkit_optional: tuple[str, ...] = ()

    def _lrkit_kwargs(self):
        args = self.__dict__["_lrkit_args"]
        return {k: v for k, v in args.items() if v is not None or k not in self._lrkit_optional}


class CyclicLR(_RecordedArgs, _torch.CyclicLR):
    __doc__ = _torch.CyclicLR.__doc__
    _lrkit_kind = "CyclicLR"
    _lrkit_optional = ("step_size_down",)

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up=2000,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch=-1,
    ):
        self.__dict__["_lrkit_args"] = {
            "base_lr": base_lr,
            "max_lr": max_lr,
            "step_size_up": step_size_up,
            "step_size_down": step_size_down,
            "mode": mode,
            "gamma": gamma,
            "scale_mode": scale_mode,
            "cycle_momentum": cycle_momentum,
            "base_momentum": base_momentum,
            "max_momentum": max_momentum,
        }
        super().__init__(
            optimizer,
            base_lr,
            max_lr,
            step_size_up,
            step_size_down,
            mode,
            gamma,
            scale_fn,
            scale_mode,
            cycle_momentum,
            base_momentum,
            max_momentum,
            last_epoch,
        )

    def get_lr(self):
        if self._scale_fn_custom is not None:
            return _torch.CyclicLR.get_lr(self)
        return super().get_lr()


class OneCycleLR(_RecordedArgs, _torch.OneCycleLR):
    __doc__ = _torch.OneCycleLR.__doc__
    _lrkit_kind = "OneCycleLR"
    _lrkit_optional = ("total_steps", "epochs", "steps_per_epoch")

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        self.__dict__["_lrkit_args"] = {
            "max_lr": max_lr,
            "total_steps": total_steps,
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "pct_start": pct_start,
            "anneal_strategy": anneal_strategy,
            "cycle_momentum": cycle_momentum,
            "base_momentum": base_momentum,
            "max_momentum": max_momentum,
            "div_factor": div_factor,
            "final_div_factor": final_div_factor,
            "three_phase": three_phase,
        }
        super().__init__(
            optimizer,
            max_lr,
            total_steps,
            epochs,
            steps_per_epoch,
            pct_start,
            anneal_strategy,
            cycle_momentum,
            base_momentum,
            max_momentum,
            div_factor,
            final_div_factor,
            three_phase,
            last_epoch,
        )


class LambdaLR(_torch.LambdaLR):
    __doc__ = _torch.LambdaLR.__doc__

    def lr_at(self, step: int, group: int = 0) -> float:
        """``base_lr * lr_lambda(step)`` of param group ``group``."""
        return self.base_lrs[group] * self.lr_lambdas[group](step)


class MultiplicativeLR(_torch.MultiplicativeLR):
    __doc__ = _torch.MultiplicativeLR.__doc__

    def lr_at(self, step: int, group: int = 0) -> float:
        """``base_lr * lr_lambda(1) * ... * lr_lambda(step)`` of param group ``group``, in
        torch's order (O(step): a product of arbitrary factors has no closed form)."""
        lr = self.base_lrs[group]
        for e in range(1, step + 1):
            lr = lr * self.lr_lambdas[group](e)
        return lr


class SequentialLR(_torch.SequentialLR):
    __doc__ = _torch.SequentialLR.__doc__

    def lr_at(self, step: int, group: int = 0) -> float:
        """The lr at ``step``: the active child's closed form, counted from its milestone."""
        idx = bisect_right(self._milestones, step)
        start = self._milestones[idx - 1] if idx > 0 else 0
        return self._schedulers[idx].lr_at(step - start, group)


class ChainedScheduler(_torch.ChainedScheduler):
    __doc__ = _torch.ChainedScheduler.__doc__


class ReduceLROnPlateau(_torch.ReduceLROnPlateau):
    __doc__ = _torch.ReduceLROnPlateau.__doc__

    def _lrkit_core(self):
        kwargs = {
            "mode": self.mode,
            "factor": self.factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_lr": list(self.min_lrs),
            "eps": self.eps,
        }

        def build():
            if any(v is None for v in kwargs.values()):
                raise TypeError("an argument is None")
            return _lrkit.PlateauCore(kwargs, len(self.min_lrs))

        # What sched-core refuses (a NaN factor, which torch accepts and never reduces with;
        # None, which torch trips over at a step) runs torch's own step.
        return cached(self, key_of(kwargs), build, (ValueError, TypeError, OverflowError))

    def step(self, metrics, epoch=None) -> None:  # type: ignore[override]
        """torch's ``step(metrics)``; the counters and the reduction computed by sched-core."""
        if isinstance(self._lrkit_core(), Exception):
            return super().step(metrics, epoch)
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            import warnings

            warnings.warn(_torch.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    "The number of param groups in the `optimizer` "
                    f"({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized "
                    f"({len(self.min_lrs)}), usually due to a new "
                    "param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length "
                    "of the `optimizer` param groups."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        lrs, tensor = _lrs(self.optimizer)
        new, last_epoch, best, bad, cooldown = self._lrkit_core().step(
            current, epoch - 1, self.best, self.num_bad_epochs, self.cooldown_counter, lrs, tensor
        )
        self.last_epoch, self.best = last_epoch, best
        self.num_bad_epochs, self.cooldown_counter = bad, cooldown
        for group, old, lr in zip(groups, lrs, new, strict=True):
            if lr != old:
                _torch._update_param_group_val(group, "lr", lr)
        self._last_lr = _torch._param_groups_val_list(self.optimizer, "lr")

    def state_dict(self) -> dict[str, Any]:
        return public(super().state_dict())

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        forget(self)

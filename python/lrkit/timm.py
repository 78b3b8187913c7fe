"""The schedulers of timm (``timm.scheduler``), computed by sched-core: the five classes with
timm's names, signatures and protocol (``step(epoch, metric=None)`` at the end of an epoch,
``step_update(num_updates, metric=None)`` after an optimizer update, ``t_in_epochs``,
``initial_lr`` in the param groups, a group's ``lr_scale``, the noise of ``noise_range_t``
drawn from torch's generator as timm draws it, ``state_dict()`` with timm's keys). The
schedule value ``_get_lr(t)`` is sched-core's closed form, bitwise timm's. No timm needed.
"""

from __future__ import annotations

from typing import Any

import torch

from . import _lrkit
from ._cache import cached, forget, key_of, public

__all__ = [
    "CosineLRScheduler",
    "MultiStepLRScheduler",
    "PolyLRScheduler",
    "Scheduler",
    "StepLRScheduler",
    "TanhLRScheduler",
]


class Scheduler:
    """timm's ``Scheduler`` protocol, with ``_get_lr`` computed by sched-core."""

    _name: str
    #: The constructor arguments that define the schedule (given to sched-core).
    _schedule_args: tuple[str, ...]

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        args: dict[str, Any],
        t_in_epochs: bool = True,
        noise_range_t=None,
        noise_type: str = "normal",
        noise_pct: float = 0.67,
        noise_std: float = 1.0,
        noise_seed: int | None = None,
        initialize: bool = True,
    ) -> None:
        self.optimizer = optimizer
        self.param_group_field = "lr"
        self._initial_param_group_field = "initial_lr"
        if initialize:
            for i, group in enumerate(self.optimizer.param_groups):
                if "lr" not in group:
                    raise KeyError(f"lr missing from param_groups[{i}]")
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(self.optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"initial_lr missing from param_groups[{i}]")
        self.base_values = [group["initial_lr"] for group in self.optimizer.param_groups]
        self.metric = None
        self.t_in_epochs = t_in_epochs
        self.noise_range_t = noise_range_t
        self.noise_pct = noise_pct
        self.noise_type = noise_type
        self.noise_std = noise_std
        self.noise_seed = noise_seed if noise_seed is not None else 42
        self.update_groups(self.base_values)
        for k, v in args.items():
            setattr(self, k, v)

    def _finish_init(self) -> None:
        """The warmup set-up every timm scheduler ends its constructor with."""
        if self.warmup_t:
            self.warmup_steps = [(v - self.warmup_lr_init) / self.warmup_t for v in self.base_values]
            self.update_groups(self.warmup_lr_init)
        else:
            self.warmup_steps = [1 for _ in self.base_values]

    def _lrkit_core(self):
        args = {k: getattr(self, k) for k in self._schedule_args}
        n = len(self.base_values)

        def build():
            base = [float(v) for v in self.base_values]
            return _lrkit.SchedulerCore(f"timm.{self._name}", args, base, [False] * n, [None] * n)

        return cached(self, key_of(args, tuple(self.base_values)), build)

    def _get_lr(self, t: int) -> list[float]:
        """The schedule's value of every group at ``t`` (sched-core's closed form)."""
        if t != int(t) or t < 0:
            raise ValueError(f"t = {t}: lrkit's timm schedulers take non-negative integer steps")
        core = self._lrkit_core()
        return [core.lr_at(i, int(t)) for i in range(len(self.base_values))]

    def lr_at(self, t: int, group: int = 0) -> float:
        """The schedule's value of param group ``group`` at ``t``, in O(1) (no noise)."""
        return self._lrkit_core().lr_at(group, int(t))

    def state_dict(self) -> dict[str, Any]:
        return public({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        forget(self)

    def _get_values(self, t: int, on_epoch: bool = True):
        proceed = (on_epoch and self.t_in_epochs) or (not on_epoch and not self.t_in_epochs)
        if not proceed:
            return None
        return self._get_lr(t)

    def step(self, epoch: int, metric: float | None = None) -> None:
        self.metric = metric
        values = self._get_values(epoch, on_epoch=True)
        if values is not None:
            values = self._add_noise(values, epoch)
            self.update_groups(values)

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        self.metric = metric
        values = self._get_values(num_updates, on_epoch=False)
        if values is not None:
            values = self._add_noise(values, num_updates)
            self.update_groups(values)

    def update_groups(self, values) -> None:
        if not isinstance(values, (list, tuple)):
            values = [values] * len(self.optimizer.param_groups)
        for param_group, value in zip(self.optimizer.param_groups, values):
            if "lr_scale" in param_group:
                param_group["lr"] = value * param_group["lr_scale"]
            else:
                param_group["lr"] = value

    def _add_noise(self, lrs: list[float], t: int) -> list[float]:
        if self._is_apply_noise(t):
            noise = self._calculate_noise(t)
            lrs = [v + v * noise for v in lrs]
        return lrs

    def _is_apply_noise(self, t: int) -> bool:
        if self.noise_range_t is None:
            return False
        if isinstance(self.noise_range_t, (list, tuple)):
            return self.noise_range_t[0] <= t < self.noise_range_t[1]
        return t >= self.noise_range_t

    def _calculate_noise(self, t) -> float:
        g = torch.Generator()
        g.manual_seed(self.noise_seed + t)
        if self.noise_type == "normal":
            while True:
                noise = torch.randn(1, generator=g).item()
                if abs(noise) < self.noise_pct:
                    return noise
        return 2 * (torch.rand(1, generator=g).item() - 0.5) * self.noise_pct


_CYCLE = ("t_initial", "lr_min", "cycle_mul", "cycle_decay", "cycle_limit", "warmup_t", "warmup_lr_init", "warmup_prefix")


class CosineLRScheduler(Scheduler):
    """timm's ``CosineLRScheduler`` (SGDR cycles with warmup, ``k_decay``)."""

    _name = "CosineLRScheduler"
    _schedule_args = (*_CYCLE, "k_decay")

    def __init__(self, optimizer, t_initial: int, lr_min: float = 0.0, cycle_mul: float = 1.0, cycle_decay: float = 1.0,
                 cycle_limit: int = 1, warmup_t: int = 0, warmup_lr_init: float = 0.0, warmup_prefix: bool = False,
                 t_in_epochs: bool = True, noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0,
                 noise_seed: int = 42, k_decay: float = 1.0, initialize: bool = True) -> None:  # fmt: skip
        super().__init__(optimizer, {}, t_in_epochs, noise_range_t, "normal", noise_pct, noise_std, noise_seed, initialize)
        assert t_initial > 0
        assert lr_min >= 0
        for k, v in dict(t_initial=t_initial, lr_min=lr_min, cycle_mul=cycle_mul, cycle_decay=cycle_decay,
                         cycle_limit=cycle_limit, warmup_t=warmup_t, warmup_lr_init=warmup_lr_init,
                         warmup_prefix=warmup_prefix, k_decay=k_decay).items():  # fmt: skip
            setattr(self, k, v)
        self._finish_init()


class TanhLRScheduler(Scheduler):
    """timm's ``TanhLRScheduler`` (hyperbolic-tangent decay from ``ub`` to ``lb``)."""

    _name = "TanhLRScheduler"
    _schedule_args = ("lb", "ub", *_CYCLE)

    def __init__(self, optimizer, t_initial: int, lb: float = -7.0, ub: float = 3.0, lr_min: float = 0.0,
                 cycle_mul: float = 1.0, cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: int = 0,
                 warmup_lr_init: float = 0.0, warmup_prefix: bool = False, t_in_epochs: bool = True,
                 noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
                 initialize: bool = True) -> None:  # fmt: skip
        super().__init__(optimizer, {}, t_in_epochs, noise_range_t, "normal", noise_pct, noise_std, noise_seed, initialize)
        assert t_initial > 0
        assert lr_min >= 0
        assert lb < ub
        assert cycle_limit >= 0
        assert warmup_t >= 0
        assert warmup_lr_init >= 0
        for k, v in dict(lb=lb, ub=ub, t_initial=t_initial, lr_min=lr_min, cycle_mul=cycle_mul, cycle_decay=cycle_decay,
                         cycle_limit=cycle_limit, warmup_t=warmup_t, warmup_lr_init=warmup_lr_init,
                         warmup_prefix=warmup_prefix).items():  # fmt: skip
            setattr(self, k, v)
        if self.warmup_t:
            t_v = self.base_values if self.warmup_prefix else self._get_lr(self.warmup_t)
            self.warmup_steps = [(v - warmup_lr_init) / self.warmup_t for v in t_v]
            self.update_groups(self.warmup_lr_init)
        else:
            self.warmup_steps = [1 for _ in self.base_values]


class PolyLRScheduler(Scheduler):
    """timm's ``PolyLRScheduler`` (polynomial decay cycles with warmup, ``k_decay``)."""

    _name = "PolyLRScheduler"
    _schedule_args = ("power", *_CYCLE, "k_decay")

    def __init__(self, optimizer, t_initial: int, power: float = 0.5, lr_min: float = 0.0, cycle_mul: float = 1.0,
                 cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: int = 0, warmup_lr_init: float = 0.0,
                 warmup_prefix: bool = False, t_in_epochs: bool = True, noise_range_t=None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, k_decay: float = 1.0, initialize: bool = True) -> None:  # fmt: skip
        super().__init__(optimizer, {}, t_in_epochs, noise_range_t, "normal", noise_pct, noise_std, noise_seed, initialize)
        assert t_initial > 0
        assert lr_min >= 0
        for k, v in dict(t_initial=t_initial, power=power, lr_min=lr_min, cycle_mul=cycle_mul, cycle_decay=cycle_decay,
                         cycle_limit=cycle_limit, warmup_t=warmup_t, warmup_lr_init=warmup_lr_init,
                         warmup_prefix=warmup_prefix, k_decay=k_decay).items():  # fmt: skip
            setattr(self, k, v)
        self._finish_init()


class StepLRScheduler(Scheduler):
    """timm's ``StepLRScheduler`` (``decay_rate ** (t // decay_t)``, warmup)."""

    _name = "StepLRScheduler"
    _schedule_args = ("decay_t", "decay_rate", "warmup_t", "warmup_lr_init", "warmup_prefix")

    def __init__(self, optimizer, decay_t: float, decay_rate: float = 1.0, warmup_t: int = 0, warmup_lr_init: float = 0.0,
                 warmup_prefix: bool = True, t_in_epochs: bool = True, noise_range_t=None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, initialize: bool = True) -> None:  # fmt: skip
        super().__init__(optimizer, {}, t_in_epochs, noise_range_t, "normal", noise_pct, noise_std, noise_seed, initialize)
        for k, v in dict(decay_t=decay_t, decay_rate=decay_rate, warmup_t=warmup_t, warmup_lr_init=warmup_lr_init,
                         warmup_prefix=warmup_prefix).items():  # fmt: skip
            setattr(self, k, v)
        self._finish_init()


class MultiStepLRScheduler(StepLRScheduler):
    """timm's ``MultiStepLRScheduler`` (``decay_rate ** (milestones passed)``, warmup)."""

    _name = "MultiStepLRScheduler"

    def __init__(self, optimizer, decay_t: list[int], decay_rate: float = 1.0, warmup_t: int = 0,
                 warmup_lr_init: float = 0.0, warmup_prefix: bool = True, t_in_epochs: bool = True,
                 noise_range_t=None, noise_pct: float = 0.67, noise_std: float = 1.0, noise_seed: int = 42,
                 initialize: bool = True) -> None:  # fmt: skip
        super().__init__(optimizer, decay_t, decay_rate, warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs,
                         noise_range_t, noise_pct, noise_std, noise_seed, initialize)  # fmt: skip

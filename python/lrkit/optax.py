"""The schedules of optax (``optax.schedules``), computed by sched-core: each function has
optax's name and signature and returns a callable ``count -> float``, the float32 value optax
computes (bit for bit where no transcendental function is involved; XLA's float32 ``cos`` and
``exp`` are its own approximations, within 2 ulp: sched-core's README gives the measured
distance). Schedules compose with :func:`join_schedules` as optax's do. No jax needed.
"""

from __future__ import annotations

from . import _lrkit

__all__ = [
    "Schedule",
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]


class Schedule:
    """An optax schedule: ``schedule(count)`` is its float32 value at the int32 ``count``."""

    __slots__ = ("_core", "name")

    def __init__(self, core, name: str) -> None:
        self._core, self.name = core, name

    def __call__(self, count) -> float:
        return self._core.value(int(count))

    def __repr__(self) -> str:
        return f"<lrkit.optax.{self.name}>"


def _schedule(name: str, **kwargs) -> Schedule:
    return Schedule(_lrkit.OptaxCore(name, {k: v for k, v in kwargs.items() if v is not None}), name)


def constant_schedule(value):
    return _schedule("constant_schedule", value=value)


def linear_schedule(init_value, end_value, transition_steps: int, transition_begin: int = 0):
    return _schedule(
        "linear_schedule",
        init_value=init_value,
        end_value=end_value,
        transition_steps=transition_steps,
        transition_begin=transition_begin,
    )


def cosine_decay_schedule(init_value, decay_steps: int, alpha=0.0, exponent=1.0):
    return _schedule("cosine_decay_schedule", init_value=init_value, decay_steps=decay_steps, alpha=alpha, exponent=exponent)


def exponential_decay(
    init_value, transition_steps: int, decay_rate: float, transition_begin: int = 0, staircase: bool = False, end_value=None
):
    return _schedule(
        "exponential_decay",
        init_value=init_value,
        transition_steps=transition_steps,
        decay_rate=decay_rate,
        transition_begin=transition_begin,
        staircase=staircase,
        end_value=end_value,
    )


def piecewise_constant_schedule(init_value, boundaries_and_scales: dict[int, float] | None = None):
    return _schedule("piecewise_constant_schedule", init_value=init_value, boundaries_and_scales=boundaries_and_scales)


def polynomial_schedule(init_value, end_value, power, transition_steps: int, transition_begin: int = 0):
    return _schedule(
        "polynomial_schedule",
        init_value=init_value,
        end_value=end_value,
        power=power,
        transition_steps=transition_steps,
        transition_begin=transition_begin,
    )


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps: int, decay_steps: int, end_value=0.0, exponent=1.0):
    return _schedule(
        "warmup_cosine_decay_schedule",
        init_value=init_value,
        peak_value=peak_value,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps,
        end_value=end_value,
        exponent=exponent,
    )


def warmup_exponential_decay_schedule(
    init_value,
    peak_value,
    warmup_steps: int,
    transition_steps: int,
    decay_rate,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value=None,
):
    return _schedule(
        "warmup_exponential_decay_schedule",
        init_value=init_value,
        peak_value=peak_value,
        warmup_steps=warmup_steps,
        transition_steps=transition_steps,
        decay_rate=decay_rate,
        transition_begin=transition_begin,
        staircase=staircase,
        end_value=end_value,
    )


def linear_onecycle_schedule(
    transition_steps: int, peak_value, pct_start: float = 0.3, pct_final: float = 0.85, div_factor: float = 25.0, final_div_factor: float = 1e4
):
    return _schedule(
        "linear_onecycle_schedule",
        transition_steps=transition_steps,
        peak_value=peak_value,
        pct_start=pct_start,
        pct_final=pct_final,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )


def cosine_onecycle_schedule(
    transition_steps: int, peak_value, pct_start: float = 0.3, div_factor: float = 25.0, final_div_factor: float = 1e4
):
    return _schedule(
        "cosine_onecycle_schedule",
        transition_steps=transition_steps,
        peak_value=peak_value,
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )


def piecewise_interpolate_schedule(interpolate_type: str, init_value, boundaries_and_scales: dict[int, float] | None = None):
    return _schedule(
        "piecewise_interpolate_schedule",
        interpolate_type=interpolate_type,
        init_value=init_value,
        boundaries_and_scales=boundaries_and_scales,
    )


def join_schedules(schedules, boundaries) -> Schedule:
    """optax's ``join_schedules``: ``schedules[i]`` runs from ``boundaries[i - 1]``, at
    ``count - boundaries[i - 1]``. The schedules are this module's."""
    cores = []
    for i, s in enumerate(schedules):
        if not isinstance(s, Schedule):
            raise TypeError(f"schedules[{i}]: expected an lrkit.optax schedule, got {type(s).__name__}")
        cores.append(s._core)
    return Schedule(_lrkit.OptaxCore.join(cores, [int(b) for b in boundaries]), "join_schedules")


def sgdr_schedule(cosine_kwargs) -> Schedule:
    """optax's ``sgdr_schedule``: warmup-cosine cycles joined end to end."""
    boundaries, schedules, step = [], [], 0
    for kwargs in cosine_kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kwargs))
        boundaries.append(step + kwargs["decay_steps"])
        step += kwargs["decay_steps"]
    return join_schedules(schedules, boundaries[:-1])

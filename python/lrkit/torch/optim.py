"""``FusedSGD``: ``torch.optim.SGD`` as one fused step of sgd-cpu (SIMD, multi-threaded).

CPU tensors step through sgd-cpu's typed step, all groups in one call, with the GIL released:
float32 and float64 bitwise ``torch.optim.SGD(foreach=False)``'s (and so ``foreach=True``'s);
bfloat16 and float16 (param, grad and buffer in that dtype) bitwise torch's fused CPU SGD
(each element widened to f32, the float32 rule, one rounding per stored value). Every
tensor is checked before anything is written: a bad tensor raises ``TypeError`` (dtype,
layout, device) or ``ValueError`` (shape, overlap, a bad hyperparameter), naming it as
``param_groups[g]['params'][i]``, and no tensor is modified.

The state is ``torch.optim.SGD``'s: ``state[p]["momentum_buffer"]`` (a tensor like ``p``,
created at ``p``'s first step, as torch creates it), and ``param_groups`` with SGD's keys, so
a checkpoint moves between ``torch.optim.SGD`` and ``FusedSGD`` both ways. ``param_groups``
may be edited between steps (an lr as a float or a 0-dim Tensor, set by any scheduler);
gradients are read afresh at every step (``zero_grad(set_to_none=True)`` replaces them).

Mixed precision: ``_step_supports_amp_scaling``: ``torch.amp.GradScaler.step`` hands over
``grad_scale`` and ``found_inf``; the gradients are divided by the scale inside the pass
(they are not modified), and a step with ``found_inf`` writes nothing, not even the buffers
of a first step.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import _lrkit

__all__ = ["FusedSGD"]


def _scalar(x) -> float:
    return float(x.item()) if isinstance(x, Tensor) else float(x)


class FusedSGD(torch.optim.Optimizer):
    """``torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, *,
    maximize)``, fused. See the module's documentation."""

    _step_supports_amp_scaling = True

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            # torch.optim.SGD's keys, so that its state dicts load here and ours there.
            "foreach": None,
            "differentiable": False,
            "fused": None,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    @torch.no_grad()
    def step(self, closure=None):
        """One step of every group (``torch.optim.SGD.step``)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grad_scale = getattr(self, "grad_scale", None)
        found_inf = getattr(self, "found_inf", None)
        # Every tensor is read and checked in Rust (param_groups and state are torch's).
        cache = self.__dict__.setdefault("_lrkit_tensors", _lrkit.TensorCache())
        _lrkit.fused_step(
            self.param_groups,
            self.state,
            cache,
            torch,
            torch.get_num_threads(),
            None if grad_scale is None else _scalar(grad_scale),
            found_inf is not None and _scalar(found_inf) != 0.0,
        )
        return loss

"""``FusedSGD``: ``torch.optim.SGD`` as one fused step of sgd-cpu (SIMD, multi-threaded).

CPU float32 tensors step through sgd-cpu, all groups in one call, with the GIL released;
results are bitwise ``torch.optim.SGD(foreach=False)``'s (and so ``foreach=True``'s). Every
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

    def _collect(self):
        """The step's arguments for ``_lrkit.sgd_step``, every tensor checked, the tensors kept
        alive, and the momentum buffers to create for first steps."""
        groups, keep, created = [], [], []
        for gi, group in enumerate(self.param_groups):
            lr = _scalar(group["lr"])
            momentum = _scalar(group["momentum"])
            tensors, device = [], None
            for pi, p in enumerate(group["params"]):
                g = p.grad
                if g is None:
                    continue
                name = f"param_groups[{gi}]['params'][{pi}]"
                if g.is_sparse or p.is_sparse:
                    raise TypeError(f"{name}: FusedSGD does not support sparse tensors")
                if p.dtype != torch.float32:
                    raise TypeError(f"{name}: dtype {p.dtype}: FusedSGD steps torch.float32")
                if g.dtype != p.dtype:
                    raise TypeError(f"{name}: its grad has dtype {g.dtype}, the param {p.dtype}")
                if p.device.type != "cpu":
                    raise TypeError(
                        f"{name}: device {p.device}: this build of FusedSGD steps CPU tensors"
                    )
                if g.device != p.device:
                    raise TypeError(f"{name}: its grad is on {g.device}, the param on {p.device}")
                if device is not None and p.device != device:
                    raise ValueError(f"{name}: device {p.device} in a group on {device}")
                device = p.device
                if g.shape != p.shape:
                    raise ValueError(
                        f"{name}: its grad has shape {tuple(g.shape)}, the param {tuple(p.shape)}"
                    )
                for what, t in (("param", p), ("grad", g)):
                    if not t.is_contiguous():
                        raise ValueError(f"{name}: the {what} is not contiguous")
                buf, initialized = None, False
                if momentum != 0:
                    buf = self.state[p].get("momentum_buffer")
                    if buf is None:
                        buf = torch.empty_like(p, memory_format=torch.contiguous_format)
                        created.append((p, buf))
                    else:
                        initialized = True
                        if buf.dtype != p.dtype or buf.shape != p.shape or buf.device != p.device:
                            raise ValueError(
                                f"{name}: its momentum_buffer is {buf.dtype} {tuple(buf.shape)} "
                                f"on {buf.device}, the param {p.dtype} {tuple(p.shape)} on {p.device}"
                            )
                        if not buf.is_contiguous():
                            raise ValueError(f"{name}: its momentum_buffer is not contiguous")
                    keep.append(buf)
                keep.extend((p, g))
                tensors.append(
                    (
                        p.data_ptr(),
                        g.data_ptr(),
                        0 if buf is None else buf.data_ptr(),
                        initialized,
                        p.numel(),
                    )
                )
            groups.append(
                (
                    lr,
                    momentum,
                    _scalar(group["dampening"]),
                    _scalar(group["weight_decay"]),
                    bool(group["nesterov"]),
                    bool(group["maximize"]),
                    tensors,
                )
            )
        return groups, keep, created

    @torch.no_grad()
    def step(self, closure=None):
        """One step of every group (``torch.optim.SGD.step``)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        groups, keep, created = self._collect()
        grad_scale = getattr(self, "grad_scale", None)
        found_inf = getattr(self, "found_inf", None)
        skipped = found_inf is not None and _scalar(found_inf) != 0.0
        _lrkit.sgd_step(
            groups,
            torch.get_num_threads(),
            None if grad_scale is None else _scalar(grad_scale),
            skipped,
        )
        if not skipped:
            for p, buf in created:
                self.state[p]["momentum_buffer"] = buf
        del keep
        return loss

"""lrkit for PyTorch: drop-in schedulers (:mod:`lrkit.torch.lr_scheduler`) and a fused SGD
(:class:`FusedSGD`)."""

from . import lr_scheduler
from .optim import FusedSGD

__all__ = ["FusedSGD", "lr_scheduler"]

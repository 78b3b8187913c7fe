"""lrkit: PyTorch's learning-rate schedulers and ``torch.optim.SGD``, bit for bit, computed by
Rust (sched-core and sgd-cpu).

- :mod:`lrkit.torch.lr_scheduler`: the 15 schedulers of ``torch.optim.lr_scheduler``, each a
  subclass of torch's own class, with a closed form ``lr_at(step)``.
- :class:`lrkit.torch.FusedSGD`: ``torch.optim.SGD`` as one fused, multi-threaded SIMD step.
- :mod:`lrkit.transformers`, :mod:`lrkit.timm`, :mod:`lrkit.optax`: those libraries' schedules.
- :func:`lrkit.schedule`: the lrs of a schedule written as ``lrkit schedule`` takes it.
"""

from . import _lrkit
from .spec import schedule

__version__ = "0.1.0"
MAX_GROUPS: int = _lrkit.MAX_GROUPS

__all__ = ["MAX_GROUPS", "__version__", "schedule"]

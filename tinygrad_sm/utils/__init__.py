"""``tinygrad_sm.utils``, as ``torch.utils``: ``data`` holds ``Dataset``, ``TensorDataset`` and
``DataLoader``, so that ``from torch.utils import data`` becomes
``from tinygrad_sm.utils import data``."""
from . import data

__all__ = ["data"]

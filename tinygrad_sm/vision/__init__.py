"""``tinygrad_sm.vision``, for torchvision: ``datasets.FashionMNIST`` and ``transforms``
(``ToTensor``, ``Resize``, ``Normalize``, ``Lambda``, ``Compose``).

The book's import lines become::

    from tinygrad_sm import vision as torchvision        # import torchvision
    from tinygrad_sm.vision import transforms            # from torchvision import transforms
"""
from . import datasets, transforms

__all__ = ["datasets", "transforms"]

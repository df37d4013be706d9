"""Building blocks for models: ``Module`` and ``Parameter``, layers, losses, and initialisers.

    >>> import tinygrad_sm as tg
    >>> from tinygrad_sm import nn
    >>> tg.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    >>> [name for name, _ in model.named_parameters()]
    ['1.weight', '1.bias']

``nn.functional`` (often imported as ``F``) holds the same operations as plain functions, and
``nn.init`` the in-place initialisers.
"""
from . import functional, init
from .layers import (GELU, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten,
                     LeakyReLU, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, Tanh)
from .loss import CrossEntropyLoss, HuberLoss, MSELoss
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Linear", "Sequential", "Flatten", "ReLU", "CrossEntropyLoss",
           "MSELoss", "HuberLoss", "functional", "init",
           "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
           "LeakyReLU", "Sigmoid", "Tanh", "GELU"]

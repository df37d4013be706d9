"""Optimizers: ``SGD`` (with momentum, weight decay, Nesterov) and ``Adam``, with PyTorch's rules.

The training loop they serve::

    opt = optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

``step()`` runs on every batch, so it updates each parameter's array in place with array
operations (NumPy or CuPy, whichever holds the parameter): no graph is recorded, no Tensor is
made, and few temporaries are allocated. Each update counts as an in-place write
(``autograd.mark_written``), so a graph recorded before ``step()`` cannot be differentiated after
it with the new values by mistake. Parameters whose ``.grad`` is None are left alone.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from . import backend
from .autograd import mark_written
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """The base class: holds the parameters and one dict of state per parameter.

    Subclasses list their ``hyperparameters`` (the constructor arguments saved in
    ``state_dict``), the names of their per-parameter ``buffers`` (arrays shaped like the
    parameter) and ``counters`` (ints), and implement ``_set_hyperparameters`` and ``step``.
    """

    hyperparameters: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params: list[Tensor] = _parameter_list(params, type(self).__name__)
        # state[i] belongs to params[i]; it stays empty until the first step that updates it.
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``) before the next backward."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError

    def _set_hyperparameters(self, **values: Any) -> None:
        """Check every value, then assign them all (so a bad value changes nothing)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """``{"hyperparameters": {name: value}, "state": [per-parameter dict]}``; the buffers are
        copied to NumPy arrays on the host, the counters are ints."""
        return {
            "hyperparameters": {name: getattr(self, name) for name in self.hyperparameters},
            "state": [{name: (value if name in self.counters else
                              np.array(backend.to_device(value, "cpu"), copy=True))
                       for name, value in entry.items()} for entry in self.state],
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, for an optimizer over the same parameters.

        Strict: the hyperparameter names, the number of parameters, the buffer names and their
        shapes must all match. Everything is checked before anything changes.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name}.load_state_dict expects the dict from state_dict(), got "
                            f"{type(state_dict).__name__}")
        _check_keys(state_dict, ("hyperparameters", "state"), f"{name}.load_state_dict")
        hyper = state_dict["hyperparameters"]
        _check_keys(hyper, self.hyperparameters, f"{name}.load_state_dict: hyperparameters")
        entries = list(state_dict["state"])
        if len(entries) != len(self.params):
            raise ValueError(f"{name}.load_state_dict: the state holds {len(entries)} parameters "
                             f"but this optimizer has {len(self.params)}; build the optimizer "
                             "over the parameters of the same model")
        new_state = [self._entry_from_saved(i, p, entry)
                     for i, (p, entry) in enumerate(zip(self.params, entries))]
        self._set_hyperparameters(**hyper)
        self.state = new_state

    def _entry_from_saved(self, i: int, p: Tensor, entry: Mapping[str, Any]) -> dict[str, Any]:
        """One saved per-parameter entry, checked and converted to ``p``'s device and dtype."""
        expected = self.counters + self.buffers
        if not isinstance(entry, Mapping):
            raise TypeError(f"{type(self).__name__}.load_state_dict: the state of parameter {i} "
                            f"must be a dict, got {type(entry).__name__}")
        if entry and sorted(entry) != sorted(expected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: the state of parameter {i} "
                           f"has keys {sorted(entry)}, expected {sorted(expected)} (or none)")
        result: dict[str, Any] = {}
        for key, value in entry.items():
            if key in self.counters:
                result[key] = int(value)
                continue
            array = value._array if isinstance(value, Tensor) else value
            if not hasattr(array, "shape"):
                array = np.asarray(array)
            if tuple(array.shape) != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: {key!r} of parameter {i} has shape "
                    f"{tuple(array.shape)} but the parameter has shape {p.shape}; build the "
                    "optimizer over the parameters of the same model, in the same order")
            # astype copies, so the optimizer never shares an array with the saved dict.
            result[key] = backend.to_device(array, p.device).astype(p.dtype)
        return result

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's update rule. For each parameter p with
    gradient g:

        g = g + weight_decay * p
        buf = g on the first step, else momentum * buf + g      (only when momentum > 0)
        g = g + momentum * buf if nesterov else buf             (only when momentum > 0)
        p = p - lr * g
    """

    hyperparameters = ("lr", "momentum", "weight_decay", "nesterov")
    buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params)
        self._set_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                  nesterov=nesterov)

    def _set_hyperparameters(self, lr: float, momentum: float, weight_decay: float,
                             nesterov: bool) -> None:
        _check_number("SGD", "lr", lr, "> 0", lambda v: v > 0)
        _check_number("SGD", "momentum", momentum, ">= 0", lambda v: v >= 0)
        _check_number("SGD", "weight_decay", weight_decay, ">= 0", lambda v: v >= 0)
        if nesterov and not momentum > 0:
            raise ValueError(f"SGD: nesterov=True needs momentum > 0, got momentum={momentum}")
        self.lr, self.momentum = float(lr), float(momentum)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def step(self) -> None:
        lr, momentum, weight_decay = self.lr, self.momentum, self.weight_decay
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad._array  # may share memory with other gradients: never written to
            if weight_decay != 0:
                g = g + weight_decay * p._array
            if momentum != 0:
                buf = state.get("momentum_buffer")
                if buf is None:  # an array even when g is a NumPy scalar (0-d parameters)
                    xp = backend.array_module(p.device)
                    buf = state["momentum_buffer"] = xp.array(g, copy=True)
                else:
                    buf *= momentum
                    buf += g
                g = g + momentum * buf if self.nesterov else buf
            p._array -= lr * g
            mark_written(p)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with PyTorch's update rule. For each parameter p with gradient
    g, at its t-th step (t = 1, 2, ...):

        g = g + weight_decay * p                    (L2 penalty; AdamW would decay p directly)
        m = beta1 * m + (1 - beta1) * g             (m and v start at 0)
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    The factors 1 / (1 - beta**t) undo the bias of m and v towards their zero start.
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    buffers = ("exp_avg", "exp_avg_sq")
    counters = ("step",)

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params)
        self._set_hyperparameters(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _set_hyperparameters(self, lr: float, betas: tuple[float, float], eps: float,
                             weight_decay: float) -> None:
        _check_number("Adam", "lr", lr, "> 0", lambda v: v > 0)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            _check_number("Adam", f"betas[{i}]", beta, "in [0, 1)", lambda v: 0 <= v < 1)
        _check_number("Adam", "eps", eps, ">= 0", lambda v: v >= 0)
        _check_number("Adam", "weight_decay", weight_decay, ">= 0", lambda v: v >= 0)
        self.lr, self.betas = float(lr), (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def step(self) -> None:
        lr, (beta1, beta2), eps, weight_decay = self.lr, self.betas, self.eps, self.weight_decay
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            xp = backend.array_module(p.device)
            g = p.grad._array  # may share memory with other gradients: never written to
            if weight_decay != 0:
                g = g + weight_decay * p._array
            if not state:
                state["step"] = 0
                state["exp_avg"] = xp.zeros_like(p._array)
                state["exp_avg_sq"] = xp.zeros_like(p._array)
            state["step"] += 1
            t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            squared = g * g
            squared *= 1 - beta2
            v += squared
            denom = xp.sqrt(v)
            denom /= math.sqrt(1 - beta2 ** t)
            denom += eps
            update = m / denom
            update *= lr / (1 - beta1 ** t)
            p._array -= update
            mark_written(p)


# ---------------------------------------------------------------------- checks

def _parameter_list(params: Iterable[Tensor], owner: str) -> list[Tensor]:
    """``params`` as a list of distinct leaf tensors that require grad, in their given order."""
    if isinstance(params, Tensor):
        raise TypeError(f"{owner}: params must be an iterable of tensors such as "
                        "model.parameters(), got a single Tensor; wrap it in a list: [w]")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{owner}: params must be an iterable of tensors such as "
                        f"model.parameters(), got {type(params).__name__}") from None
    if not params:
        raise ValueError(f"{owner} got an empty parameter list; pass model.parameters() (note "
                         "that a generator is used up after one pass: make a list to reuse it)")
    unique: dict[int, Tensor] = {}  # a parameter listed twice would be updated twice
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: params[{i}] is a {type(p).__name__}, not a Tensor")
        if not p.requires_grad:
            raise ValueError(f"{owner}: params[{i}] (shape {p.shape}) does not require grad, so "
                             "it would never be updated; create it with requires_grad=True or "
                             "as an nn.Parameter")
        if not p.is_leaf:
            raise ValueError(f"{owner}: params[{i}] (shape {p.shape}) was computed by an op "
                             f"({p.grad_fn!r}), so backward never fills its .grad; pass the "
                             "leaf tensors it was computed from")
        unique.setdefault(id(p), p)
    return list(unique.values())


def _check_number(owner: str, name: str, value: Any, requirement: str,
                  holds: Callable[[float], bool]) -> None:
    """Raise unless ``value`` is a real number for which ``holds`` is true (never for NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if not holds(value):
        raise ValueError(f"{owner}: {name} must be {requirement}, got {value}")


def _check_keys(mapping: Any, expected: tuple[str, ...], where: str) -> None:
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{where}: expected a dict, got {type(mapping).__name__}")
    missing = [k for k in expected if k not in mapping]
    unexpected = [k for k in mapping if k not in expected]
    if missing or unexpected:
        raise KeyError(f"{where}: missing keys {missing}, unexpected keys {unexpected}; pass the "
                       "dict that state_dict() of the same kind of optimizer returned")

"""Optimizers: ``SGD`` (with momentum, weight decay, Nesterov), ``Adam``, ``RMSprop`` and
``AdamW``, with PyTorch's rules.

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
import os
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from . import backend, serialization, tracing
from .backend import array_module_of
from .autograd import mark_written
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "AdamW"]


class Optimizer:
    """The base class: holds the parameters and one dict of state per parameter.

    Subclasses list their ``hyperparameters`` (the constructor arguments saved in
    ``state_dict``), the names of their per-parameter ``buffers`` (arrays shaped like the
    parameter) and ``counters`` (ints), and implement ``_set_hyperparameters``, ``_prepare``
    (make a parameter's state ready: zeros before its first update) and ``_update`` (one
    parameter's update, on arrays). ``step`` calls them for every parameter with a gradient:
    so every step does the same array work, the first one included, which is what lets
    ``tinygrad_sm.jit`` record one step and replay it.
    """

    hyperparameters: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()
    nonnegative_buffers: tuple[str, ...] = ()  # checked when a state is loaded
    # Buffers that only some values of the hyperparameters call for (RMSprop's momentum and
    # centered): a saved file may hold them or not, and load_state_dict checks them against
    # the file's own hyperparameters.
    optional_buffers: tuple[str, ...] = ()

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
        capture = tracing.capture.active
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            if capture is None:
                self._prepare(p, state)
            else:  # tinygrad_sm.jit records the update (and prepares the state unrecorded)
                capture.lift_optimizer(self, p, state)
            self._update(p._array, p.grad._array, state)
            mark_written(p)

    def _prepare(self, p: Tensor, state: dict[str, Any]) -> None:
        """Make ``state`` ready for an update of ``p``: its zero start, on the first step."""
        raise NotImplementedError

    def _update(self, param: Any, grad: Any, state: dict[str, Any]) -> None:
        """Update the array ``param`` in place from its gradient ``grad`` and ``state``. Reads
        the gradient only: it may share memory with other gradients."""
        raise NotImplementedError

    def to(self, device: str) -> Optimizer:
        """Move the state (momentum buffers, Adam's moments, ...) to ``device``, in place; return
        self. Move the model first (``model.to(device)``, which moves the parameters in place):
        the state must live where its parameters do, and a parameter elsewhere is an error.

            model.to("cuda"); optimizer.to("cuda")      # e.g. after loading on the CPU
        """
        device = backend.check_device(device)
        for i, p in enumerate(self.params):
            if p.device != device:
                raise RuntimeError(
                    f"{type(self).__name__}.to({device!r}): parameter {i} (shape {p.shape}) is on "
                    f"{p.device!r}; move the model first (model.to({device!r})), then the optimizer")
        for entry in self.state:
            for name, value in entry.items():
                if name not in self.counters and hasattr(value, "shape"):
                    entry[name] = backend.to_device(value, device)
        return self

    def _set_hyperparameters(self, **values: Any) -> None:
        """Check every value, then assign them all (so a bad value changes nothing)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """``{"hyperparameters": {name: value}, "state": [per-parameter dict]}``; the buffers are
        copied to NumPy arrays on the host, the counters are ints."""
        return {
            "hyperparameters": {name: getattr(self, name) for name in self.hyperparameters},
            # A counter is an int, or a 0-d array once a jitted step counts in place.
            "state": [{name: (int(value) if name in self.counters else
                              np.array(backend.to_device(value, "cpu"), copy=True))
                       for name, value in entry.items()} for entry in self.state],
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, for an optimizer over the same parameters.

        Strict, and every field is checked before anything changes:

        - the hyperparameter names match, and their values pass the constructor's checks (and
          a flag such as ``nesterov`` is a bool, not a number);
        - the state holds one dict per parameter, each empty (no step yet) or complete;
        - counters (Adam's ``step``) are non-negative ints;
        - buffers are real numbers of the parameter's shape that stay finite when cast to its
          dtype (and Adam's ``exp_avg_sq``, a mean of squares, is not negative).
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name}.load_state_dict expects the dict from state_dict(), got "
                            f"{type(state_dict).__name__}")
        _check_keys(state_dict, ("hyperparameters", "state"), f"{name}.load_state_dict")
        hyper = state_dict["hyperparameters"]
        _check_keys(hyper, self.hyperparameters, f"{name}.load_state_dict: hyperparameters")
        for key in self.hyperparameters:
            if isinstance(getattr(self, key), bool) and not isinstance(hyper[key], (bool, np.bool_)):
                raise TypeError(f"{name}.load_state_dict: hyperparameter {key!r} must be True or "
                                f"False, got {hyper[key]!r}")
        entries = state_dict["state"]
        if not isinstance(entries, (list, tuple)):
            raise TypeError(f"{name}.load_state_dict: 'state' must be a list with one dict per "
                            f"parameter, got {type(entries).__name__}")
        if len(entries) != len(self.params):
            raise ValueError(f"{name}.load_state_dict: the state holds {len(entries)} parameters "
                             f"but this optimizer has {len(self.params)}; build the optimizer "
                             "over the parameters of the same model")
        new_state = [self._entry_from_saved(i, p, entry)
                     for i, (p, entry) in enumerate(zip(self.params, entries))]
        self._set_hyperparameters(**{key: hyper[key] for key in self.hyperparameters})
        self.state = new_state

    def _entry_from_saved(self, i: int, p: Tensor, entry: Mapping[str, Any]) -> dict[str, Any]:
        """One saved per-parameter entry, checked and converted to ``p``'s device and dtype."""
        where = f"{type(self).__name__}.load_state_dict"
        expected = self.counters + self.buffers
        if not isinstance(entry, Mapping):
            raise TypeError(f"{where}: the state of parameter {i} must be a dict, got "
                            f"{type(entry).__name__}")
        if entry and sorted(entry) != sorted(expected):
            raise KeyError(f"{where}: the state of parameter {i} has keys {sorted(entry)}, "
                           f"expected {sorted(expected)} (or none)")
        result: dict[str, Any] = {}
        for key in expected:
            if key not in entry:
                continue
            value = entry[key]
            if key in self.counters:
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
                        or value < 0:
                    raise ValueError(f"{where}: {key!r} of parameter {i} must be a non-negative "
                                     f"integer (the number of steps taken), got {value!r}")
                result[key] = int(value)
                continue
            array = value._array if isinstance(value, Tensor) else value
            if not (hasattr(array, "shape") and hasattr(array, "dtype")):
                array = np.asarray(array)
            allowed = "iufc" if p.dtype.kind == "c" else "iuf"
            if array.dtype.kind not in allowed:
                raise TypeError(f"{where}: {key!r} of parameter {i} has dtype {array.dtype}, but "
                                f"the parameter is {p.dtype}; expected real numbers")
            if tuple(array.shape) != p.shape:
                raise ValueError(
                    f"{where}: {key!r} of parameter {i} has shape {tuple(array.shape)} but the "
                    f"parameter has shape {p.shape}; build the optimizer over the parameters of "
                    "the same model, in the same order")
            # astype copies, so the optimizer never shares an array with the saved dict.
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
                converted = backend.to_device(array, p.device).astype(p.dtype)
            xp = backend.array_module(p.device)
            if not bool(xp.isfinite(converted).all()):
                raise ValueError(f"{where}: {key!r} of parameter {i} holds NaN or inf (once cast "
                                 f"to {p.dtype}); an optimizer's buffers must be finite")
            if key in self.nonnegative_buffers and bool((converted < 0).any()):
                raise ValueError(f"{where}: {key!r} of parameter {i} holds negative values; it "
                                 "is a running mean of squares, so it cannot be negative")
            result[key] = converted
        return result

    def save(self, path: str | os.PathLike) -> None:
        """Write ``state_dict()`` to ``path`` as an ``.npz`` file, atomically, as ``Module.save`` does.

        The nested state is flattened into named arrays: ``hyperparameters.lr``,
        ``hyperparameters.betas`` (an array of 2), ``state.0.step``, ``state.0.exp_avg``, ...
        (``serialization.flatten_state``). No pickle is involved, so loading runs no code.
        """
        serialization.save_npz(path, serialization.flatten_state(self.state_dict()))

    def load(self, path: str | os.PathLike) -> Optimizer:
        """Read a file written by ``save`` and restore it with ``load_state_dict``; return self.

        As ``Module.load``: the names (from the zip directory) and each array's dtype and shape
        (from its header) are checked against this optimizer before any data is read, then
        ``load_state_dict`` checks every value. A failed load changes nothing.
        """
        path = os.fspath(path)
        name = type(self).__name__
        where = f"cannot load optimizer state {path!r} into {name}"
        layout = self._file_layout()
        sizes = [math.prod(shape) for shape, _ in layout.values()]
        try:
            with serialization.NpzReader(path, max_size=serialization.max_npz_size(sizes)) as npz:
                self._check_file_names(npz.names, layout, where)
                for key, header in npz.headers().items():
                    shape, kinds = layout[key]
                    if header.dtype.kind not in kinds:
                        raise TypeError(f"{where}: {key!r} has dtype {header.dtype}; expected "
                                        f"{'a bool' if kinds == 'b' else 'real numbers'}")
                    if header.shape != shape:
                        raise ValueError(f"{where}: {key!r} has shape {header.shape}, expected "
                                         f"{shape}; the file must come from a {name} over the "
                                         "parameters of the same model")
                arrays = npz.read_all()
        except FileNotFoundError:
            raise FileNotFoundError(f"no optimizer state at {path!r}: check the path, or call "
                                    "optimizer.save(path) first") from None
        hyper = {}
        for key in self.hyperparameters:
            value = arrays[f"hyperparameters.{key}"]
            hyper[key] = value.item() if value.ndim == 0 else tuple(value.tolist())
        entries: list[dict[str, Any]] = [{} for _ in self.params]
        for key, value in arrays.items():
            if key.startswith("state."):
                _, index, field = key.split(".")
                entries[int(index)][field] = value.item() if field in self.counters else value
        try:
            self.load_state_dict({"hyperparameters": hyper, "state": entries})
        except (KeyError, ValueError, TypeError) as e:  # the same error, naming the file
            message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            raise type(e)(f"{where}: {message}") from None
        return self

    def _file_layout(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Every name a saved file may hold, with its shape and the dtype kinds allowed."""
        layout: dict[str, tuple[tuple[int, ...], str]] = {}
        for key in self.hyperparameters:
            value = getattr(self, key)
            layout[f"hyperparameters.{key}"] = (np.shape(value), "b" if isinstance(value, bool) else "iuf")
        for i, p in enumerate(self.params):
            for key in self.counters:
                layout[f"state.{i}.{key}"] = ((), "iu")
            for key in dict.fromkeys(self.buffers + self.optional_buffers):
                layout[f"state.{i}.{key}"] = (p.shape, "iufc" if p.dtype.kind == "c" else "iuf")
        return layout

    def _check_file_names(self, names: list[str], layout: Mapping[str, Any], where: str) -> None:
        """Every hyperparameter, and for each parameter its whole state or none of it."""
        present = set(names)
        unexpected = [key for key in names if key not in layout]
        missing = [f"hyperparameters.{key}" for key in self.hyperparameters
                   if f"hyperparameters.{key}" not in present]
        for i in range(len(self.params)):
            group = [f"state.{i}.{key}" for key in self.counters + self.buffers
                     if key not in self.optional_buffers]
            optional = [f"state.{i}.{key}" for key in self.optional_buffers]
            if any(key in present for key in group + optional):
                missing += [key for key in group if key not in present]
        if missing or unexpected:
            raise KeyError(f"{where}: missing keys {missing}, unexpected keys {unexpected}; the "
                           f"file must come from the save() of a {type(self).__name__} "
                           "optimizer over the parameters of the same model")

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

    def _prepare(self, p: Tensor, state: dict[str, Any]) -> None:
        # PyTorch starts the buffer at the first gradient; momentum * 0 + g is that gradient.
        if self.momentum != 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = backend.array_module(p.device).zeros_like(p._array)

    def _update(self, param: Any, grad: Any, state: dict[str, Any]) -> None:
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        if self.momentum != 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g
            g = g + self.momentum * buf if self.nesterov else buf
        param -= self.lr * g


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
    nonnegative_buffers = ("exp_avg_sq",)

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

    def _prepare(self, p: Tensor, state: dict[str, Any]) -> None:
        if not state:
            xp = backend.array_module(p.device)
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p._array)
            state["exp_avg_sq"] = xp.zeros_like(p._array)

    def _update(self, param: Any, grad: Any, state: dict[str, Any]) -> None:
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        _adam_moments(param, g, state, self.lr, self.betas, self.eps)


def _adam_moments(param: Any, g: Any, state: dict[str, Any], lr: float,
                  betas: tuple[float, float], eps: float) -> None:
    """Adam's update of ``param`` from gradient ``g``: the moments, their bias corrections and
    the step (shared by Adam and AdamW).

    ``state["step"] += 1`` counts in place once a captured step has made the count an array
    (jit.py). The corrections are computed with ``** 0.5`` rather than math.sqrt so that they
    work on that array too, and are cast to the parameter's dtype before they are used, as a
    Python float would be: the same float32 steps either way.
    """
    beta1, beta2 = betas
    xp = array_module_of(v := state["exp_avg_sq"])
    state["step"] += 1
    t, m = state["step"], state["exp_avg"]
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    squared = g * g
    squared *= 1 - beta2
    v += squared
    denom = xp.sqrt(v)
    denom /= xp.asarray((1 - beta2 ** t) ** 0.5, dtype=denom.dtype)
    denom += eps
    update = m / denom
    update *= xp.asarray(lr / (1 - beta1 ** t), dtype=update.dtype)
    param -= update


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e, 2012), with PyTorch's update rule. For each parameter p
    with gradient g (``square_avg``, ``grad_avg`` and ``momentum_buffer`` start at 0):

        g = g + weight_decay * p
        square_avg = alpha * square_avg + (1 - alpha) * g**2
        grad_avg = alpha * grad_avg + (1 - alpha) * g              (only when centered)
        avg = sqrt(square_avg - grad_avg**2) + eps if centered else sqrt(square_avg) + eps
        buf = momentum * buf + g / avg;  p = p - lr * buf           (when momentum > 0)
        p = p - lr * g / avg                                        (otherwise)

    Each coordinate's step is scaled by a running estimate of its gradient's size (``centered``:
    of its standard deviation), so steep and flat directions move at comparable speeds. Unlike
    Adam there is no bias correction: the first steps are larger, by up to 1 / sqrt(1 - alpha).

    The state holds ``step``, ``square_avg``, and ``momentum_buffer`` when momentum > 0 and
    ``grad_avg`` when centered, as PyTorch's does. Setting ``opt.momentum`` or ``opt.centered``
    later is allowed: a newly needed buffer starts at zero, as on a first step, and one no
    longer needed is dropped.
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    counters = ("step",)
    nonnegative_buffers = ("square_avg",)
    optional_buffers = ("momentum_buffer", "grad_avg")

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        self._loading_buffers: tuple[str, ...] | None = None
        super().__init__(params)
        self._set_hyperparameters(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                  momentum=momentum, centered=centered)

    @property
    def buffers(self) -> tuple[str, ...]:  # type: ignore[override]
        """The per-parameter arrays the hyperparameters call for (while a state is loaded:
        those its saved hyperparameters call for)."""
        if self._loading_buffers is not None:
            return self._loading_buffers
        return _rmsprop_buffers(self.momentum, self.centered)

    def _set_hyperparameters(self, lr: float, alpha: float, eps: float, weight_decay: float,
                             momentum: float, centered: bool) -> None:
        self._check_hyperparameters(lr, alpha, eps, weight_decay, momentum, centered)
        self.lr, self.alpha, self.eps = float(lr), float(alpha), float(eps)
        self.weight_decay, self.momentum = float(weight_decay), float(momentum)
        self.centered = bool(centered)

    @staticmethod
    def _check_hyperparameters(lr: float, alpha: float, eps: float, weight_decay: float,
                               momentum: float, centered: bool) -> None:
        _check_number("RMSprop", "lr", lr, "> 0", lambda v: v > 0)
        # alpha = 1 would freeze square_avg at 0, and every step would be g / eps.
        _check_number("RMSprop", "alpha", alpha, "in [0, 1)", lambda v: 0 <= v < 1)
        _check_number("RMSprop", "eps", eps, ">= 0", lambda v: v >= 0)
        _check_number("RMSprop", "weight_decay", weight_decay, ">= 0", lambda v: v >= 0)
        _check_number("RMSprop", "momentum", momentum, ">= 0", lambda v: v >= 0)
        if not isinstance(centered, (bool, np.bool_)):
            raise TypeError(f"RMSprop: centered must be True or False, got {centered!r}")

    def _fit_state(self, p: Tensor, state: dict[str, Any]) -> None:
        """Give a started state exactly the buffers the hyperparameters call for now."""
        needed = self.buffers
        for name in self.optional_buffers:
            if name in needed and name not in state:
                state[name] = backend.array_module(p.device).zeros_like(p._array)
            elif name not in needed:
                state.pop(name, None)

    def state_dict(self) -> dict[str, Any]:
        for p, state in zip(self.params, self.state):
            if state:
                self._fit_state(p, state)  # as the next step would: the saved state fits
        return super().state_dict()

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """As ``Optimizer.load_state_dict``; each parameter's saved state must hold the buffers
        that the *saved* momentum and centered call for."""
        hyper = state_dict.get("hyperparameters") if isinstance(state_dict, Mapping) else None
        if isinstance(hyper, Mapping) and set(hyper) == set(self.hyperparameters):
            # The saved values are checked first, so that a bad one is reported as itself
            # rather than as the buffers it calls for.
            self._check_hyperparameters(**hyper)
            self._loading_buffers = _rmsprop_buffers(hyper["momentum"], hyper["centered"])
        # Otherwise Optimizer.load_state_dict reports the missing or unexpected names.
        try:
            super().load_state_dict(state_dict)
        finally:
            self._loading_buffers = None

    def _prepare(self, p: Tensor, state: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = backend.array_module(p.device).zeros_like(p._array)
        self._fit_state(p, state)

    def _update(self, param: Any, grad: Any, state: dict[str, Any]) -> None:
        lr, alpha, eps = self.lr, self.alpha, self.eps
        xp = array_module_of(param)
        g = grad
        if self.weight_decay != 0:
            g = g + self.weight_decay * param
        state["step"] += 1
        square_avg = state["square_avg"]
        square_avg *= alpha
        squared = g * g
        squared *= 1 - alpha
        square_avg += squared
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (g - grad_avg)  # = alpha * grad_avg + (1 - alpha) * g
            # An uncentered second moment minus the squared mean: a variance, never negative
            # in exact arithmetic; rounding could make it -1e-20, whose sqrt is NaN.
            avg = xp.sqrt(xp.maximum(square_avg - grad_avg * grad_avg, 0))
        else:
            avg = xp.sqrt(square_avg)
        avg += eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / avg
            param -= lr * buf
        else:
            update = g / avg
            update *= lr
            param -= update


def _rmsprop_buffers(momentum: float, centered: bool) -> tuple[str, ...]:
    """The per-parameter arrays of an RMSprop state, as PyTorch keeps them."""
    return (("square_avg",) + (("momentum_buffer",) if momentum > 0 else ())
            + (("grad_avg",) if centered else ()))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), with PyTorch's update rule.
    For each parameter p with gradient g, at its t-th step (t = 1, 2, ...):

        p = p - lr * weight_decay * p               (the decay, apart from the gradient)
        m = beta1 * m + (1 - beta1) * g             (m and v start at 0)
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Adam's ``weight_decay`` adds ``weight_decay * p`` to the gradient, so the decay is divided
    by sqrt(v) like the gradient is, and weights with large gradients are hardly decayed.
    AdamW shrinks every weight by the same factor ``1 - lr * weight_decay`` instead, and the
    moments see the loss's gradient alone. Hence its default ``weight_decay=1e-2`` (Adam's is 0).
    The state and its checks are Adam's (``step``, ``exp_avg``, ``exp_avg_sq``).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _set_hyperparameters(self, lr: float, betas: tuple[float, float], eps: float,
                             weight_decay: float) -> None:
        _check_number("AdamW", "lr", lr, "> 0", lambda v: v > 0)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"AdamW: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            _check_number("AdamW", f"betas[{i}]", beta, "in [0, 1)", lambda v: 0 <= v < 1)
        _check_number("AdamW", "eps", eps, ">= 0", lambda v: v >= 0)
        _check_number("AdamW", "weight_decay", weight_decay, ">= 0", lambda v: v >= 0)
        self.lr, self.betas = float(lr), (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def _update(self, param: Any, grad: Any, state: dict[str, Any]) -> None:
        if self.weight_decay != 0:  # before the moments, on the weights as they were
            param *= 1 - self.lr * self.weight_decay
        _adam_moments(param, grad, state, self.lr, self.betas, self.eps)


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

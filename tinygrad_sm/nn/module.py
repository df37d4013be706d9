"""``Parameter`` and ``Module``: the containers that hold a model's weights.

A ``Module`` registers every ``Parameter`` and sub-``Module`` assigned to one of its attributes,
in the order of assignment, so ``parameters()`` and ``state_dict()`` always list them in the
same order:

    >>> import tinygrad_sm as tg
    >>> from tinygrad_sm import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = nn.Parameter(tg.ones(3))
    ...         self.b = nn.Parameter(tg.zeros(1))
    ...     def forward(self, x):
    ...         return x * self.w + self.b
    >>> [name for name, _ in Affine().named_parameters()]
    ['w', 'b']

Parameters and sub-modules are stored as ordinary instance attributes (so ``self.w`` costs a
plain attribute lookup in ``forward``), and their names are also kept in two dicts,
``_parameters`` and ``_modules``, which give the order.
"""
from __future__ import annotations

import difflib
import math
import os
from typing import Any, Iterator, Mapping

import numpy as np

from .. import backend, tracing, serialization
from ..autograd import mark_written
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a ``Module`` registers as one of its weights; it requires grad by default.

    ``Parameter(data, requires_grad=True)`` takes a number, a list, an array, or a Tensor, and
    keeps its dtype and device. Like every ``Tensor(...)`` it owns a copy of the data: optimizers
    write into a parameter's memory, and should never write into the caller's array or tensor.
    """

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """The base class of layers and models: subclass it, assign parameters and sub-modules in
    ``__init__`` (after ``super().__init__()``), and write ``forward``; ``module(x)`` runs it."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__ because our own __setattr__ needs these two dicts to exist already.
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})  # register_buffer: name -> Tensor (or None)
        object.__setattr__(self, "_non_persistent_buffers", {})  # names, as an ordered set
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() has run: call "
                f"super().__init__() first in {type(self).__name__}.__init__")
        if name in self._buffers:  # a buffer stays a buffer: it takes a new Tensor, or None
            if isinstance(value, (Parameter, Module)) or not (value is None
                                                               or isinstance(value, Tensor)):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to {name!r} of "
                    f"{type(self).__name__}, which holds a buffer: assign a Tensor (or None), "
                    "or change the buffer's values in place (buffer.copy_(...))")
            self._buffers[name] = value
        elif isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        elif value is None:  # e.g. ``self.bias = None``: no longer registered
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        elif name in self._parameters or name in self._modules:
            # ``self.weight = self.weight * 2`` would otherwise drop the parameter silently.
            kind = "parameter" if name in self._parameters else "sub-module"
            raise TypeError(
                f"cannot assign a {type(value).__name__} to {name!r} of {type(self).__name__}, "
                f"which holds a {kind}: assign an nn.Parameter or a Module (or None to remove "
                f"it), or change a parameter's values in place through .data")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent_buffers.pop(name, None)
        object.__delattr__(self, name)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: a misspelt name is an error, never None.
        if name.startswith("__") or "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        known = list(self._parameters) + list(self._modules)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (
            f"; its parameters and sub-modules are {known}" if known else "")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}{hint}")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as a buffer: state of the module that is not a parameter, such as
        batch normalisation's running statistics. Buffers get no gradient and no optimizer
        updates; ``to()`` moves them with the parameters, and ``named_buffers()`` lists them.
        ``self.name`` reads it, and assigning a Tensor to ``self.name`` replaces it.
        ``persistent=False`` marks one that checkpoints should leave out, as in PyTorch.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: the name must be a non-empty string without '.', "
                           f"got {name!r}")
        if "_buffers" not in self.__dict__:
            raise AttributeError(f"cannot register buffer {name!r} before Module.__init__() has "
                                 f"run: call super().__init__() first in "
                                 f"{type(self).__name__}.__init__")
        if name not in self._buffers and (name in self._parameters or name in self._modules
                                          or name in self.__dict__):
            raise KeyError(f"register_buffer: {type(self).__name__} already has an attribute "
                           f"{name!r}; pick another name for the buffer")
        if tensor is not None and (not isinstance(tensor, Tensor) or isinstance(tensor, Parameter)):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor (not a Parameter) or "
                            f"None, got {type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.pop(name, None)
        else:
            self._non_persistent_buffers[name] = None
        object.__setattr__(self, name, tensor)

    # ------------------------------------------------------------------ traversal

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their attribute names, in the order they were assigned."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every module inside it, depth first, each once."""
        seen: dict[int, None] = {}
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen[id(module)] = None
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (``"net.0.weight"``), in registration order:
        a module's own parameters first, then those of its sub-modules. A parameter shared by
        two modules is listed once, under its first name."""
        seen: dict[int, None] = {}
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue
                seen[id(p)] = None
                yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter, in the order of ``named_parameters()``: pass it to an optimizer."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every buffer (``register_buffer``) with its dotted name (``"bn.running_mean"``), in
        registration order, module by module as ``named_parameters()``; None buffers are
        skipped, and a buffer shared by two modules is listed once."""
        seen: dict[int, None] = {}
        for module_name, module in self.named_modules(prefix):
            for name, t in module._buffers.items():
                if t is None or id(t) in seen:
                    continue
                seen[id(t)] = None
                yield (f"{module_name}.{name}" if module_name else name), t

    def buffers(self) -> Iterator[Tensor]:
        """Every buffer, in the order of ``named_buffers()``."""
        for _, t in self.named_buffers():
            yield t

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every sub-module, then on this one, as PyTorch does; return
        self. The book initialises weights this way: ``net.apply(init_weights)``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ training helpers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing.capture.active is not None:  # tinygrad_sm.jit notes the train/eval mode
            tracing.capture.active.saw_module(self)
        return self.forward(*args, **kwargs)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set ``.grad`` to None) before the next backward."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every module inside it; return self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Same as ``train(False)``."""
        return self.train(False)

    def to(self, device: str) -> Module:
        """Move every parameter (and its gradient) and buffer to ``device``, in place; return self.

        The Parameter objects stay the same, only their arrays move. Move a model before
        creating its optimizer: an optimizer's buffers stay on the device they were made on.
        """
        device = backend.check_device(device)
        for p in self.parameters():
            p._array = backend.to_device(p._array, device)
            mark_written(p)
            p.device = device
            if p.grad is not None:
                p.grad = p.grad.to(device)
        for t in self.buffers():  # moved in place too: a layer's references stay valid
            t._array = backend.to_device(t._array, device)
            mark_written(t)
            t.device = device
        return self

    # ------------------------------------------------------------------ state

    def _named_state(self) -> Iterator[tuple[str, Tensor]]:
        """What a checkpoint holds, in PyTorch's order: module by module (``named_modules()``),
        each module's own parameters, then its persistent buffers that are not None. A tensor
        shared by two modules comes once, under its first name; buffers registered with
        ``persistent=False`` never come."""
        seen: dict[int, None] = {}
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen[id(p)] = None
                    yield prefix + name, p
            for name, t in module._buffers.items():
                if t is None or name in module._non_persistent_buffers or id(t) in seen:
                    continue
                seen[id(t)] = None
                yield prefix + name, t

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and persistent buffer (``register_buffer``) as a NumPy
        array, keyed by dotted name, in order: each module's parameters, then its buffers
        (``"0.weight"``, ``"0.bias"``, ``"0.running_mean"``, ...), as PyTorch orders them.
        Buffers keep their dtype (BatchNorm's ``num_batches_tracked`` is an int64)."""
        return {name: np.array(t.numpy(), copy=True) for name, t in self._named_state()}

    def _check_layout(self, layout: Mapping[str, tuple[tuple[int, ...], np.dtype] | None],
                      where: str, source: str) -> None:
        """Check names, dtypes and shapes (``layout``: name -> (shape, dtype)) against the
        parameters and persistent buffers (``_named_state``), before any value is looked at.
        ``layout`` values may be None to check the names alone. ``load_state_dict`` passes the
        arrays' layout, ``load`` the file's headers.

        Raises ``KeyError`` for missing or unexpected names, ``TypeError`` for a dtype that is
        not a number of the tensor's kind (a complex value for a real tensor, a float for an
        integer buffer such as a batch count, a bool for a number), ``ValueError`` for a wrong
        shape; each message names the culprit and the fix.
        """
        tensors = dict(self._named_state())
        missing = [name for name in tensors if name not in layout]
        unexpected = [name for name in layout if name not in tensors]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(
                f"{where}: {' and '.join(parts)}; the {source} must come from a model of the "
                f"same architecture (its keys are {list(tensors)})")
        for name, t in tensors.items():
            if layout[name] is None:
                continue
            shape, dtype = layout[name]
            kind = _kind_of(t)
            allowed, expected = _LOADABLE_KINDS[t.dtype.kind]
            if dtype.kind not in allowed:
                raise TypeError(
                    f"{where}: {name!r} has dtype {dtype} in the {source}, but the {kind} is "
                    f"{t.dtype}; expected {expected}")
            if tuple(shape) != t.shape:
                raise ValueError(
                    f"{where}: {name!r} has shape {tuple(shape)} in the {source} but {t.shape} in "
                    f"the model; build the model with the same layer sizes as the one that was saved")

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy ``state`` (as returned by ``state_dict()``) into the parameters and persistent
        buffers, in place.

        Strict: every parameter and persistent buffer must be present with its exact shape, and
        nothing else may be; the values must be real numbers (complex ones too for a complex
        tensor; integers that fit for an integer buffer such as ``num_batches_tracked``) that
        stay finite when cast to the tensor's dtype (NaN and inf are the mark of a diverged run or
        a damaged file; a float64 1e300 would silently become inf in float32).
        Everything is checked before anything is copied, so a failed load changes nothing.
        Values are cast to each tensor's dtype and moved to its device, and written into the
        existing arrays, so an optimizer that holds these parameters (and a layer that holds
        its buffers) keeps working.
        """
        where = f"load_state_dict for {type(self).__name__}"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where} expects a dict of name -> array, got {type(state).__name__}")
        self._load_state(state, where, "state")

    def _load_state(self, state: Mapping[str, Any], where: str, source: str) -> None:
        """``load_state_dict``'s work; ``where`` and ``source`` word its errors."""
        arrays = {}
        for name, value in state.items():
            array = value._array if isinstance(value, Tensor) else value
            arrays[name] = array if hasattr(array, "shape") and hasattr(array, "dtype") else np.asarray(array)
        self._check_layout({name: (tuple(a.shape), a.dtype) for name, a in arrays.items()}, where, source)
        converted = {}
        for name, t in self._named_state():
            array = arrays[name]
            if t.dtype.kind in "iu":  # an integer buffer (a count): every value must fit exactly
                info = np.iinfo(t.dtype)
                host = backend.to_device(array, "cpu")
                if host.size and (int(host.min()) < info.min or int(host.max()) > info.max):
                    raise ValueError(
                        f"{where}: {name!r} holds values outside the range of {t.dtype} in the "
                        f"{source} (from {int(host.min())} to {int(host.max())}); they would wrap "
                        "around: the file must come from a model of the same kind")
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
                value = backend.to_device(array, t.device).astype(t.dtype, copy=False)
            if t.dtype.kind in "fc" and not bool(backend.array_module(t.device).isfinite(value).all()):
                raise ValueError(f"{where}: {name!r} holds NaN or inf in the {source} (once cast to "
                                 f"{t.dtype}); a model's weights and running statistics must be "
                                 "finite: load a checkpoint saved before training diverged")
            converted[name] = value
        for name, t in self._named_state():
            t._array[...] = converted[name]
            mark_written(t)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``state_dict()`` to ``path`` as an ``.npz`` file, atomically.

        The file is written next to ``path`` under a temporary name and then renamed over it,
        so a crash midway leaves the previous checkpoint intact, never a half-written one
        (``tinygrad_sm.serialization.atomic_write`` tells the details: the temporary name, its
        clean-up, the file's permissions).
        """
        serialization.save_npz(path, self.state_dict())

    def load(self, path: str | os.PathLike) -> Module:
        """Read a checkpoint written by ``save`` and load it (strictly); return self.

        Nothing is read that has not been checked first: the names (from the zip directory),
        then each array's dtype and shape (from its ``.npy`` header), must match the model before
        any array data is read, so a damaged or crafted file costs at most the model's size.
        Raises ``FileNotFoundError`` for a missing file, ``ValueError`` for a damaged one,
        and the errors of ``load_state_dict`` for one that does not fit the model; each names
        the path.
        """
        path = os.fspath(path)
        where = f"cannot load checkpoint {path!r} into {type(self).__name__}"
        sizes = [math.prod(t.shape) for _, t in self._named_state()]
        try:
            with serialization.NpzReader(path, max_size=serialization.max_npz_size(sizes)) as npz:
                self._check_layout(dict.fromkeys(npz.names), where, "checkpoint")
                self._check_layout({name: (h.shape, h.dtype) for name, h in npz.headers().items()},
                                   where, "checkpoint")
                state = npz.read_all()
        except FileNotFoundError:
            raise FileNotFoundError(f"no checkpoint at {path!r}: check the path, or call "
                                    "model.save(path) first") from None
        self._load_state(state, where, "checkpoint")
        return self

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr``; layers override it."""
        return ""

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        if self.extra_repr():
            lines.append("  " + self.extra_repr())
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        lines.append(")")
        return "\n".join(lines)



# What a value loaded into a tensor of each dtype kind may be (numbers of a kind that converts
# without losing meaning), and how an error says it.
_LOADABLE_KINDS: dict[str, tuple[str, str]] = {
    "c": ("iufc", "numbers (integer, float or complex)"),
    "f": ("iuf", "real numbers (integer or float)"),
    "i": ("iu", "integers (a float would be truncated)"),
    "u": ("iu", "integers (a float would be truncated)"),
    "b": ("b", "booleans"),
}


def _kind_of(t: Tensor) -> str:
    return "parameter" if isinstance(t, Parameter) else "buffer"

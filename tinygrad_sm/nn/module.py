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
import os
import tempfile
import zipfile
from typing import Any, Iterator, Mapping

import numpy as np

from .. import backend
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
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() has run: call "
                f"super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
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
        """Move every parameter (and its gradient) to ``device``, in place; return self.

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
        return self

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter as a NumPy array, keyed by dotted name, in order."""
        return {name: np.array(p.numpy(), copy=True) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy ``state`` (as returned by ``state_dict()``) into the parameters, in place.

        Strict: every parameter must be present with its exact shape, and nothing else may be.
        Everything is checked before anything is copied, so a failed load changes nothing.
        Values are cast to each parameter's dtype and moved to its device, and written into the
        existing arrays, so an optimizer that holds these parameters keeps working.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a dict of name -> array, got "
                            f"{type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: {' and '.join(parts)}; the state "
                f"must come from a model of the same architecture (its keys are "
                f"{list(params)})")
        arrays = {}
        for name, p in params.items():
            value = state[name]
            array = value._array if isinstance(value, Tensor) else value
            if not hasattr(array, "shape"):
                array = np.asarray(array)
            if array.dtype.kind not in "biuf":
                raise TypeError(f"load_state_dict for {type(self).__name__}: {name!r} has dtype "
                                f"{array.dtype} in the state; expected numbers")
            if tuple(array.shape) != p.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: {name!r} has shape "
                    f"{tuple(array.shape)} in the state but {p.shape} in the model; build the "
                    f"model with the same layer sizes as the one that was saved")
            arrays[name] = array
        for name, p in params.items():
            p._array[...] = backend.to_device(arrays[name], p.device).astype(p.dtype, copy=False)
            mark_written(p)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``state_dict()`` to ``path`` as an ``.npz`` file, atomically.

        The file is written next to ``path`` under a temporary name and then renamed over it,
        so a crash midway leaves the previous checkpoint intact, never a half-written one.
        """
        path = os.fspath(path)
        state = self.state_dict()
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"cannot save a checkpoint to {path!r}: the directory "
                                    f"{directory!r} does not exist; create it first")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                                   suffix=".tmp")
        try:
            # Through a file handle: given a name, numpy would append ".npz" to the temp name.
            with os.fdopen(fd, "wb") as f:
                _write_npz(f, state)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load(self, path: str | os.PathLike) -> Module:
        """Read a checkpoint written by ``save`` and load it (strictly); return self."""
        path = os.fspath(path)
        try:
            loaded = np.load(path, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy file holds one bare array
                raise ValueError(f"it holds a single {type(loaded).__name__}, not named "
                                 "weights; save checkpoints with model.save(path)")
            with loaded as npz:
                state = {name: npz[name] for name in npz.files}
        except FileNotFoundError:
            raise FileNotFoundError(f"no checkpoint at {path!r}: check the path, or call "
                                    "model.save(path) first") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"cannot read checkpoint {path!r}: it is not a valid .npz file "
                             f"(truncated or corrupt?): {e}") from e
        self.load_state_dict(state)
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


def _write_npz(f: Any, state: Mapping[str, np.ndarray]) -> None:
    """The layout ``np.savez`` writes: a zip with one ``.npy`` member per array.

    Written by hand because ``np.savez(f, **state)`` would reject a parameter named ``file``.
    """
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in state.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)

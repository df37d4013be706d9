"""Image transforms with torchvision's names: ``ToTensor``, ``Resize``, ``Normalize``,
``Lambda`` and ``Compose``, so that ``from torchvision import transforms`` becomes
``from tinygrad_sm.vision import transforms``::

    trans = transforms.Compose([transforms.Resize(64), transforms.ToTensor()])
    x = trans(image)        # image: uint8 (28, 28) -> float32 Tensor (1, 64, 64) in [0, 1]

Images come in two forms, as in torchvision:

- an *image* (torchvision's PIL image): a NumPy uint8 array of shape (H, W) for grey, or
  (H, W, C) for colour; a PIL image is read as such an array;
- a *tensor image*: a float Tensor of shape (C, H, W), which ``ToTensor`` makes.

Each transform is called on one example (torchvision's contract), and all but ``Lambda`` also
have ``batch(images)``, which does the same to a whole batch at once: an array of N images,
(N, H, W) or (N, H, W, C), or of N tensor images, (N, C, H, W), on the CPU (NumPy) or the GPU
(CuPy). A DataLoader over a vision dataset uses ``batch``, so that a batch costs a few array
operations rather than one Python call per image; ``supports_batch(transform)`` says whether a
transform (a ``Compose`` included) can be used that way.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import backend
from ..data.fashion_mnist import interpolation_matrix
from ..tensor import Tensor, as_tensor

__all__ = ["ToTensor", "Resize", "Normalize", "Lambda", "Compose", "supports_batch"]

Array = Any  # a numpy.ndarray, or a cupy.ndarray on the GPU


def _image_array(pic: Any, who: str) -> np.ndarray:
    """An image (a NumPy array, or a PIL image) as an (H, W) or (H, W, C) NumPy array."""
    if isinstance(pic, Tensor):
        raise TypeError(f"{who} expects an image (a NumPy array of shape (H, W) or (H, W, C), "
                        f"or a PIL image), got a Tensor of shape {pic.shape}; it is already a "
                        "tensor image")
    array = pic if isinstance(pic, np.ndarray) else np.asarray(pic)
    if array.ndim not in (2, 3) or array.dtype.kind not in "biuf":
        raise TypeError(f"{who} expects an image of shape (H, W) or (H, W, C) holding numbers, "
                        f"got a {type(pic).__name__} of shape {array.shape} and dtype "
                        f"{array.dtype}")
    return array


class ToTensor:
    """An image (H, W) or (H, W, C) -> a tensor image (C, H, W), as torchvision's ``ToTensor``.

    uint8 values 0..255 become float32 values in [0, 1] (divided by 255); other dtypes are
    kept as they are, as in torchvision. A grey (H, W) image gets one channel: (1, H, W).
    """

    def __call__(self, pic: Any) -> Tensor:
        array = _image_array(pic, "ToTensor")
        if array.ndim == 2:
            array = array[:, :, None]
        chw = array.transpose(2, 0, 1)
        if chw.dtype == np.uint8:
            out = chw.astype(np.float32)
            out /= 255
        else:
            out = np.ascontiguousarray(chw)
        return as_tensor(out)

    def batch(self, images: Array) -> Array:
        """N images, (N, H, W) or (N, H, W, C) -> N tensor images (N, C, H, W)."""
        if images.ndim not in (3, 4):
            raise ValueError(f"ToTensor.batch expects N images of shape (N, H, W) or "
                             f"(N, H, W, C), got shape {tuple(images.shape)}")
        xp = backend.array_module_of(images)
        nchw = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
        if nchw.dtype == np.uint8:
            out = nchw.astype(np.float32)
            out /= 255
            return out
        return xp.ascontiguousarray(nchw)

    def __repr__(self) -> str:
        return "ToTensor()"


class Resize:
    """Resize images bilinearly, as torchvision's ``Resize(size)``.

    ``size`` is ``(h, w)``, or an int: then the shorter side becomes ``size`` and the longer
    one keeps the aspect ratio (a 28x28 image becomes 64x64 with ``Resize(64)``).
    An image (uint8) stays an image, rounded to the nearest integer; a tensor image stays a
    float tensor. Output pixel i samples the input at (i + 0.5) * H / h - 0.5, with the
    border pixels repeated past the edge (``interpolation_matrix``), which is PIL's bilinear
    filter when enlarging. When shrinking, PIL and torchvision first blur (antialias) and this
    does not, and PIL's integer arithmetic can round a uint8 value the other way.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        if isinstance(size, Sequence) and len(size) == 1:  # torchvision: [s] means s
            size = size[0]
        pair = tuple(size) if isinstance(size, Sequence) else (size,)
        if len(pair) not in (1, 2) or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                                          or s <= 0 for s in pair):
            raise ValueError(f"Resize: size must be a positive int or a (height, width) pair of "
                             f"them, got {size!r}")
        self.size: int | tuple[int, int] = int(pair[0]) if len(pair) == 1 else (int(pair[0]), int(pair[1]))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The (h, w) that an image of ``height`` x ``width`` is resized to."""
        if isinstance(self.size, tuple):
            return self.size
        short, long = sorted((height, width))
        new_long = int(self.size * long / short)  # torchvision truncates too
        return (self.size, new_long) if height <= width else (new_long, self.size)

    def __call__(self, img: Any) -> Any:
        if isinstance(img, Tensor):  # a tensor image (..., H, W)
            if img.ndim < 2:
                raise ValueError(f"Resize expects a tensor image (C, H, W), got shape {img.shape}")
            size = self.output_size(*img.shape[-2:])
            return as_tensor(_resize(img._array, img.ndim - 2, size), device=img.device)
        array = _image_array(img, "Resize")
        return _resize(array, 0, self.output_size(*array.shape[:2]))

    def batch(self, images: Array) -> Array:
        """N images (uint8, (N, H, W) or (N, H, W, C)) or N tensor images (float, (N, C, H, W))."""
        if images.dtype.kind == "f":
            if images.ndim != 4:
                raise ValueError(f"Resize.batch expects N tensor images (N, C, H, W), got shape "
                                 f"{tuple(images.shape)}")
            return _resize(images, 2, self.output_size(*images.shape[2:]))
        if images.ndim not in (3, 4):
            raise ValueError(f"Resize.batch expects N images (N, H, W) or (N, H, W, C), got "
                             f"shape {tuple(images.shape)}")
        return _resize(images, 1, self.output_size(*images.shape[1:3]))

    def __repr__(self) -> str:
        return f"Resize(size={self.size})"


def _resize(array: Array, axis: int, size: tuple[int, int]) -> Array:
    """Bilinear resize of the two axes ``axis`` (height) and ``axis + 1`` (width) to ``size``.

    Bilinear interpolation works on rows and columns separately, so it is two matrix products,
    ``Ry @ image @ Rx.T``, batched over all other axes. Integer images are rounded back to
    their dtype (the weights are non-negative and sum to 1, so values stay in range).
    """
    height, width = array.shape[axis], array.shape[axis + 1]
    if (height, width) == tuple(size):
        return array  # nothing to do, as for the 2023 edition's Resize((28, 28))
    xp = backend.array_module_of(array)
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    rows = xp.asarray(interpolation_matrix(height, size[0]), dtype=dtype)
    cols_t = xp.asarray(interpolation_matrix(width, size[1]).T, dtype=dtype)
    x = xp.moveaxis(array.astype(dtype, copy=False), (axis, axis + 1), (-2, -1))
    out = xp.moveaxis(rows @ x @ cols_t, (-2, -1), (axis, axis + 1))
    if array.dtype.kind != "f":
        out = xp.rint(out).astype(array.dtype)
    return xp.ascontiguousarray(out)


class Normalize:
    """``(x - mean) / std`` per channel of a tensor image (C, H, W), as torchvision's
    ``Normalize``; ``mean`` and ``std`` are sequences with one number per channel (or one
    number for all channels)."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"Normalize: mean and std must be numbers or 1-D sequences, got "
                             f"{mean!r} and {std!r}")
        if (self.std == 0).any():
            raise ValueError(f"Normalize: std must not contain 0 (it divides), got {std!r}")

    def _apply(self, x: Array, channel_axis: int) -> Array:
        channels = x.shape[channel_axis]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: {name} has {len(values)} values but the image has "
                                 f"{channels} channels (axis {channel_axis} of shape "
                                 f"{tuple(x.shape)})")
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize expects a float tensor image, got dtype {x.dtype}; "
                            "put transforms.ToTensor() before it")
        xp = backend.array_module_of(x)
        shape = (-1,) + (1,) * (x.ndim - channel_axis - 1)
        mean = xp.asarray(self.mean.reshape(shape), dtype=x.dtype)
        std = xp.asarray(self.std.reshape(shape), dtype=x.dtype)
        return (x - mean) / std

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor) or tensor.ndim < 3:
            raise TypeError(f"Normalize expects a tensor image (C, H, W), got "
                            f"{type(tensor).__name__} {getattr(tensor, 'shape', '')}; put "
                            "transforms.ToTensor() before it")
        return as_tensor(self._apply(tensor._array, tensor.ndim - 3), device=tensor.device)

    def batch(self, images: Array) -> Array:
        """N tensor images (N, C, H, W)."""
        if images.ndim != 4:
            raise ValueError(f"Normalize.batch expects N tensor images (N, C, H, W), got shape "
                             f"{tuple(images.shape)}")
        return self._apply(images, 1)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Lambda:
    """A transform made of a function of one example. It has no ``batch``: a DataLoader over a
    dataset that uses it reads the examples one at a time."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda expects a function, got a {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


class Compose:
    """Several transforms, applied in order: ``Compose([Resize(64), ToTensor()])``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}] is a {type(t).__name__}, not a "
                                "transform (something callable)")

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, images: Array) -> Array:
        """Each transform's ``batch`` in turn; see ``supports_batch``."""
        for t in self.transforms:
            if not supports_batch(t):
                raise TypeError(f"Compose.batch: {t!r} works on one example only (it has no "
                                "batch method)")
            images = t.batch(images)
        return images

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


def supports_batch(transform: Any) -> bool:
    """Whether ``transform`` (None counts as "no transform") can be applied to a whole batch at
    once: a transform with a ``batch`` method, or a ``Compose`` of such transforms."""
    if transform is None:
        return True
    if isinstance(transform, Compose):
        return all(supports_batch(t) for t in transform.transforms)
    return callable(getattr(transform, "batch", None))

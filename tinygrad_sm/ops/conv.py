"""Convolution and pooling over images: ``conv2d``, ``max_pool2d``, ``avg_pool2d``.

Images are (N, C, H, W) and convolution weights (out_channels, in_channels / groups, kh, kw),
as in PyTorch. Every op here slides a window of kh x kw elements (``dilation`` apart) over the
zero-padded image, ``stride`` elements at a time, and reads the same thing for each of the
kh * kw positions inside the window: a *shifted slice* of the image, one element per output
pixel. So each op is a Python loop over the kh * kw kernel offsets (25 for a 5 x 5 kernel), and
each step handles every image, channel and output pixel at once.

    conv2d      columns[c, i, j, oh, ow] = x[c, oh*s + i*d, ow*s + j*d]     (one slice per i, j)
                y = weight (O, C*kh*kw) @ columns (C*kh*kw, OH*OW*N)       (one matrix product)
    max_pool2d  y = the largest of the kh*kw slices, remembering which one (for backward)
    avg_pool2d  y = the sum of the kh*kw slices / the window's size

The backward passes are the same loops run in reverse: each slice's gradient is *added* back
into its place (``col2im``), since overlapping windows share input pixels.

Layout: batch last
------------------
NumPy runs an elementwise loop once per innermost row of an array, and LeNet's images are small:
an (N, C, 10, 10) slice of a (N, C, 14, 14) image has rows of 10 elements, and the per-row
overhead then costs more than the arithmetic. So these ops move the batch axis last, working on
(C, H, W, N): there a slice ``a[:, i:i+10, j:j+10, :]`` has rows of 10 * N contiguous elements
(2,560 for a batch of 256). Their results are *views* of batch-last arrays, transposed back to
(N, C, H, W): the values, shapes and indexing are PyTorch's, only the memory order differs
(PyTorch's ``channels_last`` is the same idea). An op that meets such a view again (the next
layer, or the gradient flowing back) finds it batch-last already and copies nothing; elementwise
ops in between (ReLU, sigmoid) keep the layout of their input.

Second order
------------
Every backward is written with ops of this module, so gradients of gradients work
(``create_graph=True``). The three convolution ops are bilinear and close among themselves:
``Conv2d(x, w)``'s gradients are ``Conv2dInputGrad(g, w)`` (a transposed convolution) and
``Conv2dWeightGrad(x, g)``, and the gradients of each of these are the other two. Max pooling
routes the gradient to the winners (``MaxPool2dScatter``, whose own backward gathers from
them, ``MaxPool2dGather``); average pooling's backward spreads the gradient evenly
(``AvgPool2dBackward``), whose own backward is average pooling again.
"""
from __future__ import annotations

import math
from typing import Any

from .. import tracing
from ..backend import array_module_of as _xp
from ..function import Function


class Window:
    """Where a kh x kw window, ``dilation`` apart, lands on an (H, W) image, sliding by ``stride``
    over the image padded by ``padding`` = ((top, bottom), (left, right)).

    The output is (OH, OW) with OH = floor((H + top + bottom - dh*(kh - 1) - 1) / sh) + 1
    (``ceil_mode``: rounded up instead, as PyTorch's pools do, as long as the last window
    starts inside the image or its top/left padding). ``padded`` is the (Hp, Wp) of the buffer
    that holds the padded image: large enough for every window (ceil_mode may need more rows at
    the bottom than ``padding`` says).
    """

    def __init__(self, size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[tuple[int, int], tuple[int, int]], dilation: tuple[int, int],
                 ceil_mode: bool = False) -> None:
        self.size, self.kernel, self.stride = size, kernel, stride
        self.padding, self.dilation = padding, dilation
        out, padded = [], []
        for n, k, s, (before, after), d in zip(size, kernel, stride, padding, dilation):
            span = d * (k - 1) + 1  # the window's extent, dilation included
            room = n + before + after - span
            o = (-(-room // s) if ceil_mode else room // s) + 1
            if ceil_mode and (o - 1) * s >= n + before:  # a last window of padding only
                o -= 1
            out.append(o)
            padded.append(max(n + before + after, (o - 1) * s + span))
        self.out = (out[0], out[1])
        self.padded = (padded[0], padded[1])
        # Windows that never share a pixel let backward write instead of add.
        self.overlaps = any(d * (k - 1) + 1 > s for k, s, d in zip(kernel, stride, dilation))

    def offsets(self) -> list[tuple[int, int, slice, slice]]:
        """(i, j, rows, columns) for each kernel offset: ``a[:, rows, columns]`` of a padded
        batch-last image (C, Hp, Wp, N) is what offset (i, j) of every window reads, as
        (C, OH, OW, N)."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out
        return [(i, j, slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
                 slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))
                for i in range(kh) for j in range(kw)]

    def batch_last(self, x: Any, fill: float = 0.0) -> Any:
        """(N, C, H, W) -> the padded batch-last image (C, Hp, Wp, N), contiguous; no copy at all
        when ``x`` is a batch-last view already and needs no padding."""
        xp = _xp(x)
        xt = x.transpose(1, 2, 3, 0)
        (h, w), (hp, wp) = self.size, self.padded
        if (hp, wp) == (h, w):
            return xp.ascontiguousarray(xt)
        (top, _), (left, _) = self.padding
        out = xp.full((x.shape[1], hp, wp, x.shape[0]), fill, dtype=x.dtype)
        out[:, top:top + h, left:left + w] = xt
        return out

    def unpad(self, padded: Any) -> Any:
        """The (N, C, H, W) view of the image inside a padded batch-last (C, Hp, Wp, N) array."""
        (h, w), ((top, _), (left, _)) = self.size, self.padding
        return padded[:, top:top + h, left:left + w].transpose(3, 0, 1, 2)

    def scatter(self, parts: Any, n: int) -> Any:
        """col2im: a padded batch-last gradient (C, Hp, Wp, N) that holds, at each pixel, the sum
        of ``parts[:, i, j]`` (C, OH, OW, N) over the windows and offsets that read it."""
        xp = _xp(parts)
        out = xp.zeros((parts.shape[0],) + self.padded + (n,), dtype=parts.dtype)
        for i, j, rows, cols in self.offsets():
            if self.overlaps:
                out[:, rows, cols] += parts[:, i, j]
            else:
                out[:, rows, cols] = parts[:, i, j]
        return out


def nchw(batch_last: Any) -> Any:
    """The (N, C, H, W) view of a batch-last (C, H, W, N) array."""
    return batch_last.transpose(3, 0, 1, 2)


def as_batch_last(x: Any) -> Any:
    """(N, C, H, W) as a contiguous (C, H, W, N) array; no copy if ``x`` is a batch-last view."""
    return _xp(x).ascontiguousarray(x.transpose(1, 2, 3, 0))


# ---------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------

class ConvGeometry:
    """What the three convolution ops share: the window over the input, the groups, and the
    shapes of input x (N, C, H, W) and weight (O, C / groups, kh, kw)."""

    def __init__(self, window: Window, groups: int, x_shape: tuple[int, ...],
                 w_shape: tuple[int, ...]) -> None:
        self.window, self.groups = window, groups
        self.x_shape, self.w_shape = tuple(x_shape), tuple(w_shape)

    def columns(self, x: Any) -> Any:
        """im2col: (G, C/G * kh * kw, OH * OW * N), row (c, i, j) holding what kernel offset
        (i, j) of channel c reads in every window of every image."""
        win = self.window
        xp, xt = _xp(x), win.batch_last(x)
        (kh, kw), (oh, ow), n, c = win.kernel, win.out, x.shape[0], x.shape[1]
        cols = xp.empty((c, kh, kw, oh, ow, n), dtype=x.dtype)
        for i, j, rows, columns in win.offsets():
            cols[:, i, j] = xt[:, rows, columns]
        return cols.reshape(self.groups, -1, oh * ow * n)

    def grouped_weight(self, w: Any) -> Any:
        """The weight as (G, O/G, C/G * kh * kw), one matrix per group."""
        return w.reshape(self.groups, w.shape[0] // self.groups, -1)

    def grouped_output(self, g: Any) -> Any:
        """An output-shaped (N, O, OH, OW) array as batch-last matrices (G, O/G, OH * OW * N)."""
        return as_batch_last(g).reshape(self.groups, g.shape[1] // self.groups, -1)


class Conv2d(Function):
    """y[n, o] = b[o] + sum over c, i, j of w[o, c, i, j] * x_padded[n, c, oh*s + i*d, ow*s + j*d]
    (c over the input channels of o's group), computed as one matrix product per group,
    W (O, C*kh*kw) @ columns (C*kh*kw, OH*OW*N);

    dx = the transposed convolution of g with w (``Conv2dInputGrad``: W^T @ g, scattered back,
    col2im), dw = g (O, OH*OW*N) @ columns^T (``Conv2dWeightGrad``), db = g summed over n, oh, ow.
    """

    saves_output = False  # backward reads x and w (the columns of x are kept as an array)

    def __init__(self, geometry: ConvGeometry) -> None:
        self.geometry = geometry

    def forward(self, x, w, b=None):
        geo = self.geometry
        # Kept for the weight gradient: rebuilding them costs as much as this product. They
        # are freed with the graph, or at once when nothing is recorded.
        self.cols = geo.columns(x)
        out = geo.grouped_weight(w) @ self.cols  # (G, O/G, OH*OW*N)
        (oh, ow), n = geo.window.out, x.shape[0]
        out = out.reshape(w.shape[0], oh, ow, n)
        if b is not None:
            out += b.reshape(-1, 1, 1, 1)
        return nchw(out)

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        geo = self.geometry
        g_rows = geo.grouped_output(g._array)  # shared by both products below
        grads = [Conv2dInputGrad(geo, g_rows)(g, w) if need[0] else None,
                 Conv2dWeightGrad(geo, self.cols, g_rows)(x, g) if need[1] else None]
        if len(self.inputs) == 3:
            grads.append(g.sum((0, 2, 3)) if need[2] else None)
        return tuple(grads)


class Conv2dInputGrad(Function):
    """dx = conv_transpose(g, w): each output pixel's gradient, times the weight, spread back
    over the input pixels its window read. As matrices, dcolumns = W^T @ g, then col2im adds
    each kernel offset's rows back into place. Linear in g and in w:

    d/dg of <h, dx> = Conv2d(h, w) (the forward convolution);  d/dw = Conv2dWeightGrad(h, g).
    """

    saves_output = False

    def __init__(self, geometry: ConvGeometry, g_rows: Any = None) -> None:
        self.geometry, self.g_rows = geometry, g_rows

    def forward(self, g, w):
        geo = self.geometry
        g_rows = geo.grouped_output(g) if self.g_rows is None else self.g_rows
        self.g_rows = None  # only a cache of this forward's input
        dcols = geo.grouped_weight(w).transpose(0, 2, 1) @ g_rows  # (G, C/G*kh*kw, OH*OW*N)
        (oh, ow), (kh, kw) = geo.window.out, geo.window.kernel
        n, c = geo.x_shape[0], geo.x_shape[1]
        return geo.window.unpad(geo.window.scatter(dcols.reshape(c, kh, kw, oh, ow, n), n))

    def backward(self, h):
        g, w = self.inputs
        need, geo = self.needs_input_grad, self.geometry
        return (Conv2d(geo)(h, w) if need[0] else None,
                Conv2dWeightGrad(geo)(h, g) if need[1] else None)


class Conv2dWeightGrad(Function):
    """dw = g (O, OH*OW*N) @ columns(x)^T (OH*OW*N, C*kh*kw), one product per group: each weight
    meets every input pixel it multiplied. Linear in x and in g:

    d/dx of <H, dw> = Conv2dInputGrad(g, H);  d/dg = Conv2d(x, H).
    """

    saves_output = False

    def __init__(self, geometry: ConvGeometry, cols: Any = None, g_rows: Any = None) -> None:
        self.geometry, self.cols, self.g_rows = geometry, cols, g_rows

    def forward(self, x, g):
        geo = self.geometry
        cols = geo.columns(x) if self.cols is None else self.cols
        g_rows = geo.grouped_output(g) if self.g_rows is None else self.g_rows
        self.cols = self.g_rows = None  # caches of this forward's inputs, not needed again
        # As (cols @ g^T)^T: the same numbers as g @ cols^T, and BLAS runs this layout faster.
        dw = (cols @ g_rows.transpose(0, 2, 1)).transpose(0, 2, 1)
        return _xp(dw).ascontiguousarray(dw).reshape(geo.w_shape)

    def backward(self, big_h):
        x, g = self.inputs
        need, geo = self.needs_input_grad, self.geometry
        return (Conv2dInputGrad(geo)(g, big_h) if need[0] else None,
                Conv2d(geo)(x, big_h) if need[1] else None)


# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

class MaxPool2d(Function):
    """y = the largest element of each window;  dx = g at the element that won, 0 elsewhere
    (``MaxPool2dScatter``).

    Ties go to the first maximal element in the window (row by row), and a NaN wins over any
    number (the last NaN, if several), as in PyTorch. ``self.won`` keeps, for each kernel
    offset k, a boolean (C, OH, OW, N) mask of the windows that offset k won: exactly one
    offset wins each window.
    """

    saves_inputs = saves_output = False  # the winners are kept as masks

    def __init__(self, window: Window) -> None:
        self.window = window

    def forward(self, x):
        xp, win = _xp(x), self.window
        xt = win.batch_last(x, fill=-math.inf)
        parts = [xt[:, rows, cols] for _, _, rows, cols in win.offsets()]
        best = parts[0].copy()
        for part in parts[1:]:
            xp.maximum(best, part, out=best)  # propagates NaN, as PyTorch's max pooling does
        # The winner of each window: the first offset that equals the maximum. (Boolean
        # arithmetic: NumPy's masked copies, copyto(where=...), are several times slower.)
        won = xp.empty((len(parts),) + best.shape, dtype=bool)
        taken = xp.zeros(best.shape, dtype=bool)
        for k, part in enumerate(parts):
            xp.equal(part, best, out=won[k])
            xp.greater(won[k], taken, out=won[k])  # and not taken already: True > False only
            taken |= won[k]
        nan = xp.isnan(best)
        # Where a NaN is the maximum, the last NaN wins. A jitted step cannot look whether
        # there is one (it would fix the branch), so it always makes this pass, which changes
        # nothing where there is none.
        if tracing.capture.active is not None or bool(nan.any()):
            taken = ~nan
            for k in range(len(parts) - 1, -1, -1):
                here = xp.isnan(parts[k])
                xp.greater(here, taken, out=here)
                won[k] |= here
                taken |= here
        self.won = won
        return nchw(best)

    def backward(self, g):
        return (MaxPool2dScatter(self.window, self.won, self.inputs[0].shape)(g),)

    def indices(self) -> Any:
        """Each winner's position in its (H, W) image, flattened (h * W + w), as (N, C, OH, OW)
        int64: what PyTorch's ``return_indices=True`` gives."""
        xp, win = _xp(self.won), self.window
        (sh, sw), (dh, dw), ((top, _), (left, _)) = win.stride, win.dilation, win.padding
        (oh, ow), kw = win.out, win.kernel[1]
        offset = xp.zeros(self.won.shape[1:], dtype=xp.int64)
        for k in range(1, len(self.won)):
            offset += self.won[k] * k
        rows = xp.arange(oh).reshape(oh, 1, 1) * sh - top + (offset // kw) * dh
        cols = xp.arange(ow).reshape(1, ow, 1) * sw - left + (offset % kw) * dw
        return nchw(rows * win.size[1] + cols)


class MaxPool2dScatter(Function):
    """dx = zeros of x's shape with each g[n, c, oh, ow] added at the element that won its
    window (the backward of max pooling). Linear in g; its gradient gathers from the same
    elements: d/dg of <h, dx> = h at the winners (``MaxPool2dGather``)."""

    saves_inputs = saves_output = False

    def __init__(self, window: Window, won: Any, x_shape: tuple[int, ...]) -> None:
        self.window, self.won, self.x_shape = window, won, x_shape

    def forward(self, g):
        xp, win = _xp(g), self.window
        gt = as_batch_last(g)
        out = xp.zeros((self.x_shape[1],) + win.padded + (self.x_shape[0],), dtype=g.dtype)
        for k, (_, _, rows, cols) in enumerate(win.offsets()):
            if win.overlaps:  # a pixel can win several windows: add
                out[:, rows, cols] += gt * self.won[k]
            else:
                xp.multiply(gt, self.won[k], out=out[:, rows, cols])
        return win.unpad(out)

    def backward(self, h):
        return (MaxPool2dGather(self.window, self.won, self.x_shape)(h),)


class MaxPool2dGather(Function):
    """y[n, c, oh, ow] = h at the element that won window (oh, ow) in max pooling: the adjoint
    of ``MaxPool2dScatter``, whose backward it is, and the other way round."""

    saves_inputs = saves_output = False

    def __init__(self, window: Window, won: Any, x_shape: tuple[int, ...]) -> None:
        self.window, self.won, self.x_shape = window, won, x_shape

    def forward(self, h):
        win = self.window
        ht = win.batch_last(h)
        out = None
        for k, (_, _, rows, cols) in enumerate(win.offsets()):
            part = ht[:, rows, cols] * self.won[k]  # one offset wins each window
            out = part if out is None else out + part
        return nchw(out)

    def backward(self, g):
        return (MaxPool2dScatter(self.window, self.won, self.x_shape)(g),)


class AvgPool2d(Function):
    """y = (the sum of each window) * scale, scale = 1 / divisor for each output pixel (a
    constant, or an (OH, OW, 1) array where windows overlap the padding unevenly);
    dx = g * scale spread evenly over each window (``AvgPool2dBackward``)."""

    saves_inputs = saves_output = False

    def __init__(self, window: Window, scale: Any) -> None:
        self.window, self.scale = window, scale

    def forward(self, x):
        win = self.window
        xt = win.batch_last(x)
        total = None
        for _, _, rows, cols in win.offsets():
            if total is None:
                total = xt[:, rows, cols].copy()
            else:
                total += xt[:, rows, cols]
        total *= self.scale
        return nchw(total)

    def backward(self, g):
        return (AvgPool2dBackward(self.window, self.scale, self.inputs[0].shape)(g),)


class AvgPool2dBackward(Function):
    """dx = each g[n, c, oh, ow] * scale added to every element of window (oh, ow): the adjoint
    of average pooling, whose backward it is, and the other way round."""

    saves_inputs = saves_output = False

    def __init__(self, window: Window, scale: Any, x_shape: tuple[int, ...]) -> None:
        self.window, self.scale, self.x_shape = window, scale, x_shape

    def forward(self, g):
        win = self.window
        spread = as_batch_last(g) * self.scale  # (C, OH, OW, N): the same for every offset
        out = _xp(g).zeros((self.x_shape[1],) + win.padded + (self.x_shape[0],), dtype=g.dtype)
        for _, _, rows, cols in win.offsets():
            if win.overlaps:
                out[:, rows, cols] += spread
            else:
                out[:, rows, cols] = spread
        return win.unpad(out)

    def backward(self, h):
        return (AvgPool2d(self.window, self.scale)(h),)


def avg_pool_scale(window: Window, count_include_pad: bool, divisor_override: int | None,
                   xp: Any, dtype: Any) -> Any:
    """1 / the divisor of each output pixel of average pooling, PyTorch's rule: a window's size
    counted up to the padded image's edge (``count_include_pad``), or only the pixels inside
    the image; ``divisor_override`` replaces both. A Python float when it is the same for every
    pixel, else an (OH, OW, 1) array to broadcast over batch-last (C, OH, OW, N) outputs."""
    if divisor_override is not None:
        return 1.0 / divisor_override
    counts = []
    for n, k, s, (before, after), o in zip(window.size, window.kernel, window.stride,
                                           window.padding, window.out):
        start = xp.arange(o) * s - before
        end = xp.minimum(start + k, n + after)  # ceil_mode windows may run past the padding
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(xp.minimum(end, n) - xp.maximum(start, 0))
    divisor = counts[0].reshape(-1, 1, 1) * counts[1].reshape(1, -1, 1)
    if bool((divisor == divisor.reshape(-1)[0]).all()):
        return 1.0 / float(divisor.reshape(-1)[0])
    return (1.0 / divisor).astype(dtype)

"""Every differentiable op, one class each: the forward formula and its derivative side by side.

Read any one of them to see how autograd works. ``forward`` computes on raw arrays (NumPy or
CuPy: the methods used exist in both). ``backward`` gets ``g``, the gradient of the loss with
respect to the output, and returns the gradient with respect to each input by the chain rule,
written with Tensor ops so that it can itself be differentiated. Gradients come back in the
output's shape; the engine sums them down to each input's shape when broadcasting made them
differ (``Tensor.sum_to``).

Where each op lives:

===================  =====================================================================
``elementwise.py``   ``+ - * / **``, ``exp``, ``log``, ``sqrt``, ``abs``, ``relu``, ``sin``, ...;
                     ``maximum``, ``where``, ``clamp``, rounding, ``%``; the activations
``reduce.py``        ``sum`` and ``mean`` (a scaled sum), ``max`` (``min`` is ``-max(-x)``),
                     ``prod``; the scans ``cumsum`` and ``cumprod``
``softmax.py``       ``logsumexp``, ``softmax``, ``log_softmax``
``linalg.py``        ``@`` (matrix products); ``einsum``, behind ``tensordot``, ``inner``, ``dot``
``shape.py``         ``reshape``, ``transpose``, ``broadcast_to``, ``cat``, ``flip``, ``roll``,
                     ``pad``, ``diagonal`` and its adjoint, ``triu``/``tril``
``index.py``         ``x[i]``, its adjoint, and ``x[i] = v`` (how in-place ops are recorded);
                     the index helpers of ``gather``, ``scatter_add``, ``one_hot``, ...
``nn.py``            the fused ops of a training step: linear, cross-entropy, squared error,
                     batch normalisation
``conv.py``          ``conv2d`` and its two gradients (transposed convolution, weight
                     gradient), ``max_pool2d`` and ``avg_pool2d`` and their adjoints
===================  =====================================================================

The primitives are kept few. ``Tensor`` derives the rest from them: ``mean`` is a scaled
``Sum``, ``min`` is ``-max(-x)``, ``flatten`` is a ``reshape``, and 1-D ``@`` is a 2-D one with
reshapes around it.
"""
from .conv import (AvgPool2d, AvgPool2dBackward, Conv2d, Conv2dInputGrad, Conv2dWeightGrad,
                   MaxPool2d, MaxPool2dGather, MaxPool2dScatter)
from .elementwise import (Abs, Add, Cast, Clone, Div, Exp, Log, Mul, Neg, Pow, ReLU, Sigmoid,
                          Sqrt, Sub, Tanh)
from .elementwise import (ELU, GELU, Arccos, Arcsin, Arctan, Arctan2, Clamp, Cos, Cosh, Erf,
                          Expm1, Fmod, LeakyReLU, Log1p, Log2, Log10, LogAddExp, Maximum,
                          Minimum, Reciprocal, Remainder, SiLU, Sin, Sinh, Softplus,
                          SqrtFlatAtZero, Step, Tan, Where)
from .index import GetItem, IndexAdd, SetItem
from .linalg import Einsum, MatMul
from .nn import MSE, BatchNorm, CrossEntropy, LinearFunction
from .reduce import Cumprod, Cumsum, Max, Prod, Sum
from .shape import (BroadcastTo, Cat, DiagEmbed, Diagonal, Flip, Pad, Reshape, Roll, Transpose,
                    Tri)
from .softmax import LogSoftmax, LogSumExp, Softmax, log_softmax_array, max_shifted_exp

__all__ = [
    "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs", "ReLU", "Sigmoid",
    "Tanh", "Cast", "Clone", "Sum", "Max", "LogSumExp", "Softmax", "LogSoftmax", "MatMul",
    "Reshape", "Transpose", "BroadcastTo", "GetItem", "IndexAdd", "SetItem", "LinearFunction",
    "CrossEntropy", "MSE", "log_softmax_array", "max_shifted_exp",
    # joining, reordering, padding, matrix views
    "Cat", "Flip", "Roll", "Pad", "Diagonal", "DiagEmbed", "Tri",
    # convolution, pooling, batch normalisation
    "Conv2d", "Conv2dInputGrad", "Conv2dWeightGrad", "MaxPool2d", "MaxPool2dScatter",
    "MaxPool2dGather", "AvgPool2d", "AvgPool2dBackward", "BatchNorm",
    # elementwise, reductions and scans, linear algebra
    "Where", "Maximum", "Minimum", "Clamp", "Step", "Remainder", "Fmod", "Reciprocal", "Log1p",
    "Expm1", "Log2", "Log10", "Sin", "Cos", "Tan", "Arcsin", "Arccos", "Arctan", "Arctan2",
    "Sinh", "Cosh", "Erf", "SqrtFlatAtZero", "Softplus", "LeakyReLU", "ELU", "GELU", "SiLU",
    "LogAddExp", "Prod", "Cumsum", "Cumprod", "Einsum",
]

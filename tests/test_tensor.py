"""The Tensor's surface: dtype rules, factories, attributes, conversions, devices, and the error
messages of everything a user can get wrong.
"""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import Tensor, backend

# ------------------------------------------------------------------------- dtype rules

FLOAT32, FLOAT64, INT64 = np.dtype("float32"), np.dtype("float64"), np.dtype("int64")


@pytest.mark.parametrize("data, dtype", [
    (1.5, FLOAT32), ([1.0, 2.0], FLOAT32), ([[1.0], [2.5]], FLOAT32),
    (3, INT64), ([1, 2], INT64),
    (True, np.dtype(bool)), ([True, False], np.dtype(bool)),
    ([1, 2.5], FLOAT32),  # mixed ints and floats: floats
], ids=repr)
def test_dtype_from_python_data(data, dtype):
    assert tg.tensor(data).dtype == dtype


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int32", "int64", "uint8",
                                   "bool"])
def test_numpy_arrays_keep_their_dtype(dtype):
    assert tg.tensor(np.zeros(3, dtype=dtype)).dtype == np.dtype(dtype)
    assert tg.tensor(np.zeros((), dtype=dtype)).dtype == np.dtype(dtype)


PROMOTIONS = {
    # tensor with a number: the tensor's dtype when the number's kind fits
    "float32 * 2.5": (lambda: tg.tensor([1.0]) * 2.5, FLOAT32),
    "2.5 * float32": (lambda: 2.5 * tg.tensor([1.0]), FLOAT32),
    "float32 * 2": (lambda: tg.tensor([1.0]) * 2, FLOAT32),
    "float64 * 2.5": (lambda: tg.tensor([1.0], dtype="float64") * 2.5, FLOAT64),
    "int64 + 1": (lambda: tg.tensor([1, 2]) + 1, INT64),
    "int32 + 1": (lambda: tg.tensor([1, 2], dtype="int32") + 1, np.dtype("int32")),
    # ... else the number's default dtype
    "int64 * 2.5": (lambda: tg.tensor([1, 2]) * 2.5, FLOAT32),
    "2.5 - int64": (lambda: 2.5 - tg.tensor([1, 2]), FLOAT32),
    "bool + 1": (lambda: tg.tensor([True, False]) + 1, INT64),
    # NumPy scalars count as numbers
    "float32 * np.float64": (lambda: tg.tensor([1.0]) * np.float64(2.0), FLOAT32),
    "float32 * np.int64": (lambda: tg.tensor([1.0]) * np.int64(2), FLOAT32),
    "int64 * np.float32": (lambda: tg.tensor([1, 2]) * np.float32(0.5), FLOAT32),
    # tensor with tensor
    "float32 + float64": (lambda: tg.tensor([1.0]) + tg.tensor([1.0], dtype="float64"), FLOAT64),
    "float64 + float32": (lambda: tg.tensor([1.0], dtype="float64") + tg.tensor([1.0]), FLOAT64),
    "int64 * float32": (lambda: tg.tensor([1, 2]) * tg.tensor([1.0, 2.0]), FLOAT32),
    "float32 / int64": (lambda: tg.tensor([1.0, 2.0]) / tg.tensor([1, 2]), FLOAT32),
    "uint8 * float32": (lambda: tg.tensor(np.array([1, 2], np.uint8)) * tg.tensor([1.0, 2.0]),
                        FLOAT32),
    "float32 * bool": (lambda: tg.tensor([1.0, 2.0]) * tg.tensor([True, False]), FLOAT32),
    "float32 + float64 array": (lambda: tg.tensor([1.0]) + np.array([1.0]), FLOAT64),
    # reductions and casts
    "mean of int64": (lambda: tg.tensor([1, 2]).mean(), FLOAT32),
    "astype round trip": (lambda: tg.tensor([1.0]).astype("float64").astype(np.float32), FLOAT32),
}


@pytest.mark.parametrize("make, expected", PROMOTIONS.values(), ids=PROMOTIONS.keys())
def test_dtype_promotion(make, expected):
    assert make().dtype == expected


def test_int_tensor_times_float_values():
    np.testing.assert_allclose((tg.tensor([1, 3]) * 2.5).numpy(), [2.5, 7.5])
    np.testing.assert_allclose((tg.tensor([1, 2]) * tg.tensor([0.5, 0.25])).numpy(), [0.5, 0.5])


@pytest.mark.parametrize("dtype", [np.float64, np.dtype("float64"), "float64", tg.float64])
def test_dtype_argument_accepts_types_dtypes_and_names(dtype):
    assert tg.tensor([1, 2], dtype=dtype).dtype == FLOAT64
    assert tg.zeros(2, dtype=dtype).dtype == FLOAT64
    assert tg.tensor([1.0]).astype(dtype).dtype == FLOAT64


def test_float64_on_request_gets_float64_gradients():
    x = tg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (x * 2.5).sum().backward()
    assert x.grad.dtype == FLOAT64


def test_float32_parameters_get_float32_gradients_from_float64_inputs():
    w = tg.randn(3, 2, requires_grad=True)
    b = tg.zeros(2, requires_grad=True)
    X = tg.tensor(np.random.default_rng(0).standard_normal((4, 3)))  # float64 data
    loss = ((X @ w + b) ** 2).mean()
    assert loss.dtype == FLOAT64
    loss.backward()
    assert w.grad.dtype == FLOAT32 and b.grad.dtype == FLOAT32


def test_astype_gradient_comes_back_in_the_input_dtype():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.astype("float64")
    assert y.dtype == FLOAT64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == FLOAT32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.astype("float32") is x  # same dtype: no op
    labels = x.astype("int64")  # an integer result carries no gradient
    assert labels.dtype == INT64 and not labels.requires_grad


@pytest.mark.parametrize("make", [
    lambda: tg.tensor([1, 2], requires_grad=True),
    lambda: tg.tensor([True], requires_grad=True),
    lambda: tg.zeros(2, dtype="int64", requires_grad=True),
    lambda: tg.arange(3).requires_grad_(),
])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        make()


@pytest.mark.parametrize("dtype", ["float33", "not a dtype", 3.5])
def test_unknown_dtype(dtype):
    with pytest.raises(TypeError, match="unknown dtype"):
        tg.tensor([1.0], dtype=dtype)


@pytest.mark.parametrize("dtype", ["U3", object, "datetime64[s]"])
def test_unsupported_dtype(dtype):
    with pytest.raises(TypeError, match="not supported"):
        tg.zeros(2, dtype=dtype)


@pytest.mark.parametrize("data", [["a", "b"], np.array(["a"]), np.array([None, 1])])
def test_data_that_is_not_numbers(data):
    with pytest.raises(TypeError, match="cannot make a tensor"):
        tg.tensor(data)


# ------------------------------------------------------------------------- factories

def test_factories_shapes_dtypes_and_values(device):
    assert tg.zeros(2, 3, device=device).shape == (2, 3)
    assert tg.zeros((2, 3), device=device).shape == (2, 3)
    assert tg.zeros(device=device).shape == ()
    assert tg.ones(4, device=device).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert tg.zeros(2, device=device).dtype == FLOAT32
    x = tg.tensor([[1, 2]], dtype="float64", device=device)
    for like, value in ((tg.zeros_like(x), 0.0), (tg.ones_like(x), 1.0)):
        assert like.shape == (1, 2) and like.dtype == FLOAT64 and like.device == device
        assert (like.numpy() == value).all()
    assert tg.ones_like(x, dtype="int64").dtype == INT64
    assert tg.zeros_like(x, requires_grad=True).requires_grad
    assert tg.ones(2, requires_grad=True).is_leaf


def test_full_takes_its_dtype_from_the_value_as_torch_does(device):
    assert tg.full((2, 3), 1.5, device=device).tolist() == [[1.5] * 3] * 2
    assert tg.full((2,), 1.5, device=device).dtype == FLOAT32
    assert tg.full((2,), 7, device=device).dtype == INT64
    assert tg.full((2,), True, device=device).tolist() == [True, True]
    assert tg.full((2,), 1.5, dtype="int64", device=device).tolist() == [1, 1]  # as torch: cut
    x = tg.tensor([[1.0, 2.0]], dtype="float64", device=device)
    like = tg.full_like(x, 3, requires_grad=True)
    assert like.dtype == FLOAT64 and like.tolist() == [[3.0, 3.0]] and like.requires_grad
    with pytest.raises(TypeError, match="fill_value must be a Python or NumPy number, got str"):
        tg.full((2,), "1")


def test_arange():
    assert tg.arange(4).tolist() == [0, 1, 2, 3] and tg.arange(4).dtype == INT64
    assert tg.arange(2, 8, 2).tolist() == [2, 4, 6]
    assert tg.arange(0.0, 1.0, 0.25).dtype == FLOAT32
    np.testing.assert_allclose(tg.arange(0.0, 1.0, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    assert tg.arange(3, dtype="float64").dtype == FLOAT64


def test_random_factories():
    tg.manual_seed(0)
    u = tg.rand(1000)
    assert u.dtype == FLOAT32 and u.shape == (1000,)
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    n = tg.randn(100, 100)
    assert abs(n.numpy().mean()) < 0.05 and abs(n.numpy().std() - 1) < 0.05
    w = tg.normal(3.0, 0.01, (200, 50))
    assert w.shape == (200, 50) and w.dtype == FLOAT32
    assert abs(w.numpy().mean() - 3) < 1e-3 and abs(w.numpy().std() - 0.01) < 1e-3
    assert tg.normal(0, 1, 5).shape == (5,)
    assert tg.randn(2, dtype="float64").dtype == FLOAT64
    assert tg.rand(2, requires_grad=True).requires_grad


def test_manual_seed_repeats_the_sequence():
    tg.manual_seed(123)
    first = [tg.rand(3).tolist(), tg.randn(2, 2).tolist(), tg.normal(0, 1, (2,)).tolist()]
    tg.manual_seed(123)
    second = [tg.rand(3).tolist(), tg.randn(2, 2).tolist(), tg.normal(0, 1, (2,)).tolist()]
    assert first == second
    tg.manual_seed(124)
    assert tg.rand(3).tolist() != first[0]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_manual_seed_rejects_non_integers(seed):
    with pytest.raises(ValueError, match="non-negative integer"):
        tg.manual_seed(seed)


def test_factory_errors():
    with pytest.raises(ValueError, match="must be non-negative integers"):
        tg.zeros(2, -1)
    with pytest.raises(ValueError, match="must be non-negative integers"):
        tg.ones(2.5)
    with pytest.raises(TypeError, match="needs a shape"):
        tg.normal(0, 1)
    with pytest.raises(ValueError, match="std >= 0"):
        tg.normal(0, -1, (2,))


# ------------------------------------------------------------------------- attributes

def test_attributes():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.numel() == 6
    assert x.dtype == FLOAT32 and x.device == "cpu"
    assert isinstance(x._array, np.ndarray)
    assert x.grad is None and x.requires_grad and x.is_leaf and x.grad_fn is None
    assert x.T.shape == (3, 2) and x.T.tolist() == [[1, 4], [2, 5], [3, 6]]
    assert not x.T.is_leaf and x.T.grad_fn.name == "Transpose"
    assert tg.zeros(2, 3, 4).mT.shape == (2, 4, 3)
    assert len(x) == 2
    with pytest.raises(TypeError, match="len"):
        len(tg.tensor(1.0))


def test_requires_grad_in_place():
    x = tg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad


def test_comparisons_give_bool_tensors_without_grad(device):
    x = tg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = tg.tensor([3.0, 2.0, 1.0], device=device)
    results = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y, "!=": x != y,
               "> 2": x > 2, "== 2.0": x == 2.0}
    expected = {"<": [True, False, False], "<=": [True, True, False], ">": [False, False, True],
                ">=": [False, True, True], "==": [False, True, False], "!=": [True, False, True],
                "> 2": [False, False, True], "== 2.0": [False, True, False]}
    for name, r in results.items():
        assert r.dtype == np.dtype(bool), name
        assert not r.requires_grad and r.grad_fn is None, name
        assert r.tolist() == expected[name], name
    assert (x == None) is False  # noqa: E711 -- falls back to identity, as in Python
    assert {x: 1}[x] == 1  # hashable by identity


def test_argmax_and_argmin():
    x = tg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax().item() == 3
    assert x.argmax(1).tolist() == [1, 0]
    assert x.argmax(0, keepdims=True).tolist() == [[1, 0, 1]]
    assert x.argmin(-1).tolist() == [0, 1]
    assert x.argmax(1).dtype == INT64 and not x.argmax(1).requires_grad


def test_integer_min_and_argmin_do_not_wrap_around():
    """-x wraps around for unsigned ints (-0 = 0, -1 = 255), so min must not be -max(-x)."""
    pixels = tg.tensor(np.array([[3, 0, 200], [1, 5, 2]], dtype=np.uint8))
    assert pixels.min().item() == 0 and pixels.min().dtype == np.uint8
    assert pixels.min(1).tolist() == [0, 1]
    assert pixels.argmin().item() == 1
    assert pixels.argmin(1).tolist() == [1, 0]
    assert tg.tensor([True, False]).min().item() is False
    assert tg.tensor([4, -2, 7]).min().item() == -2


def test_reductions_take_the_axis_positionally():
    X = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert X.sum(0, keepdims=True).tolist() == [[5.0, 7.0, 9.0]]
    assert X.sum(1).tolist() == [6.0, 15.0]
    assert X.mean(0).tolist() == [2.5, 3.5, 4.5]
    assert X.max(1, keepdims=True).shape == (2, 1)
    assert X.sum((0, 1)).item() == 21.0
    assert X.sum(-1).tolist() == [6.0, 15.0]
    cube = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(tg.tensor(cube).mean((0, 2)).numpy(), cube.mean((0, 2)))
    np.testing.assert_allclose(tg.tensor(cube).mean((2, -3), keepdims=True).numpy(),
                               cube.mean((2, 0), keepdims=True))


def test_bad_axis():
    x = tg.zeros(2, 3)
    for call in (lambda: x.sum(2), lambda: x.mean(-3), lambda: x.max((0, 5)),
                 lambda: x.softmax(2), lambda: x.logsumexp(-3), lambda: x.argmax(4),
                 lambda: x.flatten(0, 3)):
        with pytest.raises(np.exceptions.AxisError, match="out of range for a tensor of 2 dim"):
            call()
    with pytest.raises(np.exceptions.AxisError, match="axis 5 is out of range"):
        x.transpose(0, 5)  # two axes: swapped, as torch.transpose(x, 0, 5) would, if it could
    assert x.transpose(0, 0).shape == (2, 3)  # an axis swapped with itself, as in PyTorch
    with pytest.raises(ValueError, match="not a permutation"):
        tg.zeros(2, 3, 4).transpose(0, 0, 1)


def test_transpose_of_two_axes_swaps_them_as_pytorch_does():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.transpose(0, 1).tolist() == x.T.tolist() == x.transpose(1, 0).tolist()
    assert tg.transpose(x, 0, 1).shape == (3, 2)
    assert tg.zeros(2, 3, 4).transpose(0, 2).shape == (4, 3, 2)
    assert tg.zeros(2, 3, 4).transpose(2, 0, 1).shape == (4, 2, 3)  # more axes: NumPy's order
    (x.transpose(0, 1) * tg.tensor([[1.0, 2.0]])).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]


def test_empty_reductions():
    with pytest.raises(ValueError, match="max of an empty tensor"):
        tg.zeros(0).max()
    with pytest.raises(ValueError, match="argmin of an empty tensor"):
        tg.zeros(0, 3).argmin()


# ------------------------------------------------------------------------- shapes and indexing

def test_reshape_forms():
    x = tg.arange(6)
    assert x.reshape(2, 3).shape == (2, 3)
    assert x.reshape((3, 2)).shape == (3, 2)
    assert x.reshape([3, -1]).shape == (3, 2)
    assert x.reshape(-1, 1).shape == (6, 1)
    assert tg.zeros(2, 3, 4).flatten().shape == (24,)
    assert tg.zeros(2, 3, 4).flatten(1).shape == (2, 12)
    assert tg.tensor(5.0).flatten().shape == (1,)


def test_iteration_over_the_first_axis():
    X = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(X)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[0] * 2 + rows[1]).sum().backward()  # each row is a differentiable slice
    assert X.grad.tolist() == [[2.0, 2.0], [1.0, 1.0]]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(tg.tensor(3.0))


def test_reshape_mismatch():
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) "
                                         r"\(6 elements\) into shape \(4, 2\)"):
        tg.zeros(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="cannot reshape"):
        tg.zeros(2, 3).reshape(-1, -1)


@pytest.mark.parametrize("a, b, match", [
    ((2, 3), (2, 3), r"matmul shapes \(2, 3\) and \(2, 3\) do not align: 3 .* != 2"),
    ((3,), (4,), r"matmul shapes \(3,\) and \(4,\) do not align"),
    ((2, 3), (), "at least 1-D"),
])
def test_matmul_shape_mismatch(a, b, match):
    with pytest.raises(ValueError, match=match):
        tg.zeros(*a) @ tg.zeros(*b)


def test_matmul_with_a_numpy_array_on_either_side():
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    m = np.array([[1.0], [3.0]], dtype=np.float32)
    assert (x @ m).tolist() == [[7.0]]
    assert (m @ x).shape == (2, 2)  # ndarray @ Tensor reaches Tensor.__rmatmul__


def test_indexing_forms():
    x = tg.arange(24).reshape(2, 3, 4)
    a = np.arange(24).reshape(2, 3, 4)
    for index in (1, -1, (0, 2), slice(None, None, 2), (Ellipsis, 1), (None, 0),
                  ([0, 1, 1], [2, 0, 0]), a > 10, (slice(None), [2, 0])):
        np.testing.assert_array_equal(x[index].numpy(), a[index], err_msg=str(index))
    np.testing.assert_array_equal(x[tg.tensor([1, 0])].numpy(), a[[1, 0]])
    np.testing.assert_array_equal(x[x > 20].numpy(), a[a > 20])


def test_repeated_indices_accumulate_gradient(device):
    x = tg.tensor([10.0, 20.0, 30.0], device=device, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y_hat = tg.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], device=device, requires_grad=True)
    y = tg.tensor([1, 0, 1], device=device)
    y_hat[tg.arange(3, device=device), y].log().sum().backward()
    expected = np.zeros((3, 2))
    expected[[0, 1, 2], [1, 0, 1]] = 1 / np.array([0.9, 0.8, 0.7])
    np.testing.assert_allclose(y_hat.grad.numpy(), expected, rtol=1e-6)


# ------------------------------------------------------------------------- conversions

def test_conversions():
    x = tg.tensor([[1.5, 2.0]], requires_grad=True)
    assert x.tolist() == [[1.5, 2.0]]
    assert isinstance(x.numpy(), np.ndarray) and x.numpy().dtype == FLOAT32
    assert x.sum().item() == 3.5 and isinstance(x.sum().item(), float)
    assert float(x.sum()) == 3.5 and int(tg.tensor(3)) == 3
    assert bool(tg.tensor([1.0])) is True
    with pytest.raises(ValueError, match="one element"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    assert x.to("cpu") is x and x.cpu() is x
    assert x.astype("float32") is x


def test_numpy_interop():
    x = tg.tensor([1.0, 2.0])
    assert np.asarray(x) is x._array or np.shares_memory(np.asarray(x), x._array)
    copied = np.array(x)
    copied[0] = 99.0  # np.array copies, as it does for arrays
    assert x.tolist() == [1.0, 2.0]
    assert np.asarray(x, dtype=np.float64).dtype == FLOAT64
    assert np.array(x, dtype=np.float64).dtype == FLOAT64
    assert (np.ones(2) * x).__class__ is Tensor  # NumPy hands array * tensor to the tensor
    np.testing.assert_allclose(np.exp(x.numpy()), x.exp().numpy(), rtol=1e-6)


def test_repr():
    assert repr(tg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tg.tensor([1.0], dtype="float64")) == "tensor([1.], dtype=float64)"
    assert repr(tg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(tg.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<Mul>)"
    assert repr(tg.tensor(np.array([1], np.uint8))) == "tensor([1], dtype=uint8)"


# ------------------------------------------------------------------------- devices

@pytest.fixture
def no_cupy(monkeypatch):
    """Pretend CuPy is not installed: `import cupy` fails, and nothing is cached."""
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", None)


def _fake_cupy(count=None, error=None):
    def get_device_count():
        if error is not None:
            raise error
        return count
    return types.SimpleNamespace(
        cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count)))


def test_cuda_without_cupy(no_cupy):
    assert not tg.cuda_available()
    for make in (lambda: tg.zeros(2, device="cuda"), lambda: tg.tensor([1.0], device="cuda"),
                 lambda: tg.tensor([1.0]).to("cuda")):
        with pytest.raises(RuntimeError, match=r"device 'cuda' needs CuPy.*pip install"):
            make()


@pytest.mark.parametrize("cupy", [_fake_cupy(count=0),
                                  _fake_cupy(error=Exception("cudaErrorNoDevice"))],
                         ids=["zero devices", "driver error"])
def test_cuda_with_cupy_but_no_gpu(monkeypatch, cupy):
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    assert not tg.cuda_available()
    with pytest.raises(RuntimeError, match="device 'cuda' needs an NVIDIA GPU.*nvidia-smi"):
        tg.ones(2, device="cuda")


@pytest.mark.parametrize("name", ["gpu", "CUDA", "mps", ""])
def test_unknown_device(name):
    with pytest.raises(ValueError,
                       match=rf"unknown device '{name}': expected one of \('cpu', 'cuda'\)"):
        tg.zeros(2, device=name)
    with pytest.raises(ValueError, match="unknown device"):
        tg.tensor([1.0]).to(name)


def test_device_objects_follow_torch_device():
    cpu = tg.device("cpu")
    assert cpu == "cpu" and cpu.type == "cpu" and cpu.index is None
    assert tg.device("cuda:0") == "cuda" and tg.device("cuda:0").index == 0
    x = tg.zeros(2, device=cpu)
    assert x.device == "cpu" and x.device.type == "cpu" and x.to(x.device) is x
    for bad in ("cuda:1", "cpu:0", "cuda:x"):
        with pytest.raises(ValueError, match="device"):
            tg.device(bad)


def test_default_device_from_environment(monkeypatch, no_cupy):
    monkeypatch.delenv("TINYGRAD_SM_DEVICE", raising=False)
    assert tg.tensor([1.0]).device == "cpu" and tg.zeros(1).device == "cpu"
    monkeypatch.setenv("TINYGRAD_SM_DEVICE", "cpu")
    assert tg.tensor([1.0]).device == "cpu"
    monkeypatch.setenv("TINYGRAD_SM_DEVICE", "tpu")
    with pytest.raises(ValueError, match=r"unknown device 'tpu' \(from \$TINYGRAD_SM_DEVICE\)"):
        tg.tensor([1.0])
    monkeypatch.setenv("TINYGRAD_SM_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="needs CuPy"):
        tg.zeros(2)
    assert tg.tensor([1.0], device="cpu").device == "cpu"  # an explicit device wins


def _on_fake_cuda(values):
    """A tensor that claims to live on 'cuda' while its data stays in NumPy: enough to reach
    the device checks, which run before any array is touched, on a machine without a GPU."""
    return Tensor._wrap(np.asarray(values, dtype=np.float32), "cuda")


@pytest.mark.parametrize("combine", [lambda a, b: a + b, lambda a, b: b * a, lambda a, b: a - b,
                                     lambda a, b: a @ b, lambda a, b: a < b, lambda a, b: a ** b],
                         ids=["add", "rmul", "sub", "matmul", "lt", "pow"])
def test_mixing_devices(combine):
    a, b = tg.tensor([1.0, 2.0]), _on_fake_cuda([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"tensors on different devices: '(cpu|cuda)' and "
                                           r"'(cuda|cpu)'; move one with \.to\("):
        combine(a, b)


def test_tensor_and_Tensor_copy_their_data_and_from_numpy_shares_it():
    source = np.arange(3, dtype=np.float32)
    copied, constructed = tg.tensor(source), tg.Tensor(source)
    shared, as_tensor = tg.from_numpy(source), tg.as_tensor(source)
    source[0] = 7.0
    assert copied.tolist() == [0.0, 1.0, 2.0] and constructed.tolist() == [0.0, 1.0, 2.0]
    assert shared.tolist() == [7.0, 1.0, 2.0] and as_tensor.tolist() == [7.0, 1.0, 2.0]
    shared += 1  # and an in-place op writes into the array it shares
    assert source.tolist() == [8.0, 2.0, 3.0]
    assert tg.as_tensor(source, dtype="float64").tolist() == [8.0, 2.0, 3.0]  # a converted copy
    assert tg.as_tensor(copied) is copied
    leaf = tg.tensor([1.0, 2.0], requires_grad=True)
    assert tg.tensor(leaf)._array is not leaf._array


def test_nn_and_optim_are_reachable_from_the_package():
    net = tg.nn.Linear(2, 1)
    assert isinstance(tg.optim.SGD(net.parameters(), lr=0.1), tg.optim.Optimizer)

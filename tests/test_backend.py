"""The backend's array helpers: the quick path for reductions over a short last axis must give
NumPy's own results."""
import numpy as np
import pytest

from tinygrad_sm import backend


@pytest.mark.parametrize("shape", [(256, 10), (3, 40, 7), (600, 1), (16, 10), (256, 784)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_short_axis_reductions_match_numpy(shape, keepdims):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for axis in (-1, x.ndim - 1, (x.ndim - 1,), 0, None):
        np.testing.assert_array_equal(backend.reduce_max(x, axis, keepdims),
                                      x.max(axis=axis, keepdims=keepdims), err_msg=f"max {shape} {axis}")
        np.testing.assert_allclose(backend.reduce_sum(x, axis, keepdims),
                                   x.sum(axis=axis, keepdims=keepdims), rtol=1e-6, atol=1e-5,
                                   err_msg=f"sum {shape} {axis}")


def test_short_axis_max_propagates_nan_like_numpy():
    x = np.zeros((300, 10), np.float32)
    x[7, 3] = np.nan
    out = backend.reduce_max(x, 1)
    assert np.isnan(out[7]) and not np.isnan(np.delete(out, 7)).any()


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "cross_entropy"])
def test_ops_that_take_the_short_axis_path_have_right_gradients(name):
    """(32, 8) has 256 elements and a last axis of 8: large enough for the transposed path."""
    import tinygrad_sm as tg
    from tinygrad_sm.nn import functional as F

    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((32, 8)) * 3, dtype="float64", requires_grad=True)
    labels = tg.tensor(rng.integers(0, 8, 32))
    fn = {"softmax": lambda t: t.softmax(1), "log_softmax": lambda t: t.log_softmax(1),
          "logsumexp": lambda t: t.logsumexp(1),
          "cross_entropy": lambda t: F.cross_entropy(t, labels)}[name]
    assert backend._short_last_axis(x._array, 1)
    tg.gradcheck(fn, [x])
    z = x.numpy()
    lse = np.log(np.exp(z).sum(1))
    expected = {"softmax": np.exp(z - lse[:, None]), "log_softmax": z - lse[:, None],
                "logsumexp": lse, "cross_entropy": (lse - z[np.arange(32), labels.numpy()]).mean()}[name]
    np.testing.assert_allclose(fn(x).detach().numpy(), expected, rtol=1e-12, atol=1e-12)

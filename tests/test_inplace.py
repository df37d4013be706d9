"""In-place ops, ``.data``, version counters and per-thread grad mode, with PyTorch's rules.

The rules (tensor.py, "In-place ops"): outside a graph an in-place op writes the tensor's own
memory; on a leaf that requires grad, under grad mode, it raises; inside a graph it is recorded,
so the gradient is right. A value saved for backward and then changed in place makes backward
raise, naming the op, the shape and both versions. Where PyTorch is installed, the gradients of
programs with in-place ops are checked against it.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import gradcheck, nn, optim


def leaf(values, dtype="float64"):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------ outside a graph

@pytest.mark.parametrize("op, expected", [("+=", [3.0, 4.0]), ("-=", [-1.0, 0.0]),
                                          ("*=", [2.0, 4.0]), ("/=", [0.5, 1.0])])
def test_arithmetic_in_place_writes_the_tensors_own_memory(op, expected):
    source = np.array([1.0, 2.0], dtype=np.float32)
    x = tg.from_numpy(source)
    same = x
    exec(f"x {op} 2", {}, {"x": x})
    assert same.tolist() == expected and source.tolist() == expected
    assert x.dtype == np.float32


def test_the_books_sgd_updates_the_parameters_in_place():
    """d2l's sgd: ``param -= lr * param.grad / batch_size`` under no_grad, then zero_()."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.zeros(1, requires_grad=True)
    ((w * 3).sum() + b.sum()).backward()
    params = [w, b]
    with tg.no_grad():
        for param in params:
            param -= 0.5 * param.grad / 2
            param.grad.zero_()
    assert params[0] is w and w.tolist() == [0.25, 1.25] and b.tolist() == [-0.25]
    assert w.requires_grad and w.is_leaf and w.grad.tolist() == [0.0, 0.0]


def test_add_sub_mul_div_methods_and_chaining():
    x = tg.tensor([1.0, 2.0])
    assert x.add_(1).mul_(2).sub_(1).div_(3) is x
    np.testing.assert_allclose(x.numpy(), [1.0, 5 / 3], rtol=1e-6)


def test_fill_zero_copy_normal_uniform_are_in_place():
    x = tg.ones(2, 3)
    memory = x.numpy()
    assert x.fill_(2.5) is x and memory.tolist() == [[2.5] * 3] * 2
    assert x.zero_() is x and not memory.any()
    x.copy_(tg.tensor([1.0, 2.0, 3.0]))  # broadcasts to (2, 3)
    assert memory.tolist() == [[1.0, 2.0, 3.0]] * 2
    tg.manual_seed(0)
    x.normal_(0, 0.01)
    assert memory.std() < 0.05 and memory.std() > 0
    x.uniform_(-1, 1)
    assert memory.min() >= -1 and memory.max() < 1
    with pytest.raises(ValueError, match="std >= 0"):
        x.normal_(0, -1)


def test_setitem_with_ints_slices_masks_and_index_tensors():
    x = tg.zeros(3, 4)
    x[0] = 1.0
    x[1, 1:3] = tg.tensor([2.0, 3.0])
    x[x > 2.5] = 9.0
    x[tg.tensor([2, 2])] = tg.arange(4).astype("float32")
    assert x.tolist() == [[1, 1, 1, 1], [0, 2, 9, 0], [0, 1, 2, 3]]


def test_in_place_keeps_the_dtype_and_refuses_what_it_cannot_store():
    labels = tg.tensor([1, 2, 3])
    labels += 1
    assert labels.dtype == np.int64 and labels.tolist() == [2, 3, 4]
    with pytest.raises(TypeError, match="cannot store its result.*float32"):
        labels += 0.5
    with pytest.raises(TypeError, match="cannot store its result"):
        labels /= 2
    x = tg.ones(3)
    x += tg.tensor([1.0, 2.0, 3.0], dtype="float64")  # float64 fits float32's kind: cast
    assert x.dtype == np.float32 and x.tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2, 3\)"):
        x += tg.ones(2, 3)


def test_in_place_on_a_zero_dimensional_result():
    s = tg.tensor([1.0, 2.0]).sum()  # NumPy hands back a scalar for this
    alias = s.detach()
    s += 1
    assert float(s) == 4.0 and float(alias) == 4.0


def test_writing_another_device_into_a_tensor_is_an_error():
    x = tg.zeros(2)
    fake_gpu = tg.Tensor._wrap(np.ones(2, np.float32), tg.backend.CUDA)
    with pytest.raises(RuntimeError, match="cannot write a 'cuda' tensor into a 'cpu' tensor"):
        x[0] = fake_gpu[0]


# ------------------------------------------------------------------ .data

def test_data_is_a_detached_tensor_sharing_memory():
    w = nn.Parameter(tg.zeros(2, 3))
    d = w.data
    assert isinstance(d, tg.Tensor) and not isinstance(d, nn.Parameter)
    assert not d.requires_grad and d.grad_fn is None
    tg.manual_seed(0)
    w.data.normal_(0, 0.01)  # the book's net[0].weight.data.normal_(0, 0.01)
    assert 0 < float(abs(w).max()) < 0.1
    w.data.fill_(0)
    assert not w.numpy().any()
    w.grad = tg.ones(2, 3)
    w.data -= 0.1 * w.grad  # the update that PyTorch code writes through .data
    np.testing.assert_allclose(w.numpy(), -0.1)
    assert w.requires_grad and w.is_leaf


def test_data_setter_replaces_the_memory_and_counts_a_write():
    w = nn.Parameter(tg.zeros(2))
    y = (w * w).sum()
    w.data = tg.ones(2)
    assert w.tolist() == [1.0, 1.0] and isinstance(w, nn.Parameter)
    with pytest.raises(RuntimeError, match="changed by an in-place operation"):
        y.backward()
    with pytest.raises(TypeError, match="must be set to a Tensor"):
        w.data = np.ones(2)


# ------------------------------------------------------------------ leaves that require grad

def test_in_place_on_a_leaf_that_requires_grad_raises_under_grad_mode():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.__iadd__(1), lambda: w.zero_(), lambda: w.__setitem__(0, 5.0),
                   lambda: w.normal_(), lambda: w.copy_(tg.zeros(2))):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
            change()
    assert w.tolist() == [1.0, 2.0]
    with tg.no_grad():
        w += 1
    assert w.tolist() == [2.0, 3.0] and w.is_leaf


# ------------------------------------------------------------------ inside a graph

def _inplace_programs():
    """Functions of (x, w) that use in-place ops inside the graph."""
    def add_into_intermediate(x, w):
        y = x * 2
        y += w
        return (y * y).sum()

    def multiply_into_constant(x, w):
        c = x.detach() * 0 + 3  # a tensor that does not require grad
        c *= w                  # now it does: c = 3 w
        return (c * x).sum()

    def setitem_from_another_tensor(x, w):
        y = x * 1
        y[0] = w[1] * 3
        return (y * y).sum()

    def divide_twice(x, w):
        y = x + 0
        y /= w
        y /= w
        return y.sum()

    def write_then_read_through_an_earlier_consumer(x, w):
        y = x * 1
        z = y * y       # saved y before the write
        y += w          # y moves on; z keeps the value it saw
        return (z + y).sum()

    def zero_part_of_an_intermediate(x, w):
        y = x * w
        y[1:] = 0.0
        return (y * 2).sum()

    return [add_into_intermediate, multiply_into_constant, setitem_from_another_tensor,
            divide_twice, write_then_read_through_an_earlier_consumer,
            zero_part_of_an_intermediate]


# PyTorch raises for these (a value its backward saved was changed); the recorded write keeps
# the earlier value here, so the gradient is right (checked by central differences above).
TORCH_REFUSES = {"write_then_read_through_an_earlier_consumer"}


@pytest.mark.parametrize("program", _inplace_programs(), ids=lambda f: f.__name__)
def test_in_place_ops_inside_a_graph_have_correct_gradients(program):
    rng = np.random.default_rng(0)
    x = leaf(rng.uniform(0.5, 2.0, 3))
    w = leaf(rng.uniform(0.5, 2.0, 3))
    assert gradcheck(program, [x, w])


@pytest.mark.parametrize("program", _inplace_programs(), ids=lambda f: f.__name__)
def test_in_place_ops_inside_a_graph_match_torch(program):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x0, w0 = rng.uniform(0.5, 2.0, 3), rng.uniform(0.5, 2.0, 3)
    x, w = leaf(x0), leaf(w0)
    program(x, w).backward()
    xt = torch.tensor(x0, requires_grad=True)
    wt = torch.tensor(w0, requires_grad=True)
    if program.__name__ in TORCH_REFUSES:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            program(xt, wt).backward()
        return
    program(xt, wt).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


def test_in_place_on_an_op_output_that_its_op_saved_still_differentiates():
    """exp saves its output; PyTorch raises here, we keep the value exp made."""
    def f(x):
        y = x.exp()
        y += 1
        return (y * y).sum()
    assert gradcheck(f, [leaf([0.1, 0.2, -0.3])])


def test_second_order_through_an_in_place_op():
    def f(x):
        y = x * x
        y *= x
        return y.sum()  # x**3
    x = leaf([1.0, 2.0])
    (g,) = tg.grad(f(x), x, create_graph=True)
    (h,) = tg.grad(g.sum(), x)
    assert g.tolist() == [3.0, 12.0] and h.tolist() == [6.0, 12.0]


def test_in_place_inside_a_graph_on_a_view_is_refused():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    view = y[0:2]
    with pytest.raises(RuntimeError, match="shares its memory with another.*clone"):
        view += x[0:2]
    with pytest.raises(RuntimeError, match="shares its memory"):
        y += x  # y now has a view as well


# ------------------------------------------------------------------ version counters

def test_the_issue_case_backward_after_an_optimizer_step_raises():
    tg.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = tg.randn(4, 3)
    loss1 = model(x).sum()
    loss2 = (model(x) ** 2).sum()
    loss1.backward(retain_graph=True)
    before = tg.autograd.version_of(model.weight)
    opt.step()
    with pytest.raises(RuntimeError) as info:
        loss2.backward()
    message = str(info.value)
    assert "LinearFunction" in message and "shape (1, 3)" in message and "clone" in message
    assert f"at version {before} when" in message and f"version {before + 1} now" in message


def test_a_constant_changed_under_no_grad_is_caught():
    w = leaf([1.0, 2.0])
    x = tg.tensor([3.0, 4.0], dtype="float64")
    y = (w * x).sum()
    with tg.no_grad():
        x += 1
    with pytest.raises(RuntimeError, match=r"Mul saved.*input 1, of shape \(2,\), was at "
                                           r"version 0 when Mul ran and is at version 1 now"):
        y.backward()


def test_a_write_through_data_or_detach_counts_for_the_tensor():
    x = tg.tensor([3.0, 4.0])
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * x).sum()
    x.data.add_(1)
    with pytest.raises(RuntimeError, match="changed by an in-place operation"):
        y.backward()
    z = (w * x).sum()
    x.detach()[0] = 7.0
    with pytest.raises(RuntimeError, match="changed by an in-place operation"):
        z.backward()


def test_a_write_through_a_view_counts_for_its_base():
    x = tg.tensor([[3.0, 4.0], [5.0, 6.0]])
    w = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (w * x).sum()
    row = x[0]
    row *= 2  # no graph: a plain write, into x's memory
    assert x.tolist()[0] == [6.0, 8.0]
    with pytest.raises(RuntimeError, match="changed by an in-place operation"):
        y.backward()


def test_a_changed_output_that_its_op_saved_is_caught():
    x = leaf([0.5, 1.0])
    y = x.exp()
    with tg.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="Exp saved.*its output"):
        y.sum().backward()


def test_ops_that_save_nothing_do_not_care():
    x = leaf([0.5, 1.0])
    y = x + 1
    z = y * 2  # Mul saves y, but only needs it for a gradient of 2, which is not asked for
    with tg.no_grad():
        y += 10  # Add saved nothing, so backward through it is still right
    (y.sum()).backward()
    assert x.grad.tolist() == [1.0, 1.0]
    del z


def test_the_fused_losses_keep_what_they_read_and_nothing_more():
    # cross_entropy's backward reads its own copy of log_softmax(z): a later write to z's
    # memory changes nothing it needs. mse_loss's reads x, so a write to x is caught.
    z = leaf([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]])
    h = z * 1.0
    loss = nn.functional.cross_entropy(h, tg.tensor([2, 0]))
    expected = (h.softmax(1) - nn.functional.one_hot(tg.tensor([2, 0]), 3)).numpy() / 2
    with tg.no_grad():
        h += 100.0
    loss.backward()
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-6)

    x = leaf([1.0, 2.0])
    h = x * 1.0
    loss = nn.functional.mse_loss(h, tg.tensor([0.0, 0.0]))
    with tg.no_grad():
        h += 1.0
    with pytest.raises(RuntimeError, match="MSE saved"):
        loss.backward()


def test_versions_count_every_write():
    x = tg.zeros(3)
    assert tg.autograd.version_of(x) == 0
    x += 1
    x[0] = 2.0
    x.zero_()
    x.data.fill_(1)
    assert tg.autograd.version_of(x) == 4
    p = nn.Parameter(tg.ones(2))
    p.grad = tg.ones(2)
    opt = optim.Adam([p])
    opt.step()
    opt.step()
    assert tg.autograd.version_of(p) == 2


# ------------------------------------------------------------------ grad mode per thread

def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, release = threading.Event(), threading.Event()

    def evaluate():
        with tg.no_grad():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=evaluate)
    thread.start()
    inside.wait(5)
    x = leaf([1.0])
    assert tg.is_grad_enabled() and (x * 2).requires_grad
    release.set()
    thread.join()


def test_overlapping_no_grad_blocks_in_two_threads_restore_their_own_mode():
    """Thread A enters, B enters, A leaves, B leaves: with one global flag, A's exit would
    restore 'on' while B is still inside, and B's exit would restore 'off' for good."""
    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def thread_a():
        with tg.no_grad():
            steps[0].set()
            steps[1].wait(5)
        seen["a_after"] = tg.is_grad_enabled()
        steps[2].set()

    def thread_b():
        steps[0].wait(5)
        with tg.no_grad():
            steps[1].set()
            steps[2].wait(5)
            seen["b_inside"] = tg.is_grad_enabled()
        seen["b_after"] = tg.is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a_after": True, "b_inside": False, "b_after": True}
    assert tg.is_grad_enabled()


def test_a_decorated_function_restores_each_threads_own_mode():
    entered, release = threading.Barrier(2), threading.Event()

    @tg.no_grad
    def hold():
        entered.wait(5)
        release.wait(5)
        return tg.is_grad_enabled()

    results = []
    threads = [threading.Thread(target=lambda: results.append(hold())) for _ in range(2)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert results == [False, False] and tg.is_grad_enabled()


def test_backward_in_one_thread_does_not_stop_recording_in_another():
    stop = threading.Event()
    failures = []

    def record():
        x = leaf([1.0, 2.0])
        while not stop.is_set():
            if not (x * 2).requires_grad:
                failures.append("recording was off")
                return

    thread = threading.Thread(target=record)
    thread.start()
    try:
        for _ in range(300):
            x = leaf([1.0, 2.0])
            ((x * x).exp().sum()).backward()
    finally:
        stop.set()
        thread.join()
    assert failures == []


def test_threads_train_their_own_models_at_once():
    def train(seed, out):
        rng = np.random.default_rng(seed)
        X = tg.tensor(rng.standard_normal((64, 3)))
        y = X @ tg.tensor([1.0, -2.0, 0.5]) + 0.3
        w = tg.zeros(3, requires_grad=True)
        b = tg.zeros(1, requires_grad=True)
        for _ in range(200):
            loss = ((X @ w + b - y) ** 2).mean()
            loss.backward()
            with tg.no_grad():
                for p in (w, b):
                    p -= 0.1 * p.grad
                    p.grad.zero_()
        out[seed] = w.tolist() + b.tolist()

    results: dict[int, list[float]] = {}
    threads = [threading.Thread(target=train, args=(s, results)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for values in results.values():
        np.testing.assert_allclose(values, [1.0, -2.0, 0.5, 0.3], atol=1e-3)

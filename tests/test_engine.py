"""The backward engine: graph shapes (diamonds, reuse, deep chains), accumulation, grad mode,
releasing the graph, ``grad()``, and higher-order gradients.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_sm as tg
from tinygrad_sm import Function, Tensor, enable_grad, grad, no_grad


def trace_backward(root):
    """Wrap the backward of every function in ``root``'s graph so that calling it appends the
    function to the returned list: the order in which the engine ran them."""
    calls, seen, stack = [], set(), [root]
    while stack:
        fn = stack.pop().grad_fn
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))

        def traced(g, fn=fn, backward=fn.backward):
            calls.append(fn)
            return backward(g)
        fn.backward = traced  # an instance attribute shadows the class's method
        stack.extend(fn.inputs)
    return calls


def _functions(root):
    """Every function in ``root``'s graph, each once."""
    seen, stack = {}, [root]
    while stack:
        fn = stack.pop().grad_fn
        if fn is not None and id(fn) not in seen:
            seen[id(fn)] = fn
            stack.extend(fn.inputs)
    return list(seen.values())


def leaf(values, device="cpu", dtype="float64"):
    return tg.tensor(values, dtype=dtype, device=device, requires_grad=True)


class CountingIdentity(Function):
    """y = x, counting how often its backward runs (the engine should call it once)."""

    calls = 0

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        CountingIdentity.calls += 1
        return (g,)


# ------------------------------------------------------------------------- graph shapes

def test_diamond_x_plus_x_times_x(device):
    """(x + x) * x = 2x**2: x reaches the output along three paths, d/dx = 4x."""
    x = leaf([1.0, -2.0, 3.0], device)
    ((x + x) * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.array([1.0, -2.0, 3.0]))


def test_reassigned_name_reused_twice(device):
    """c = c + c + 1, micrograd style: c = 3x, then 6x + 1, then (6x + 1)**2.
    d/dx = 12 (6x + 1) = 156 at x = 2. A backward that overwrote instead of adding gives less."""
    x = leaf(2.0, device)
    c = x * 3
    c = c + c + 1
    c = c * c
    c.backward()
    assert c.item() == 169.0
    assert x.grad.item() == 156.0


def test_two_branches_that_rejoin(device):
    """h = e**x feeds two branches, log(2h) and tanh(h) * h, that are added back together."""
    x0 = np.array([-0.5, 0.1, 0.7])
    x = leaf(x0, device)
    h = x.exp()
    y = (h * 2).log() + h.tanh() * h
    y.sum().backward()
    e = np.exp(x0)
    expected = 1 + (1 - np.tanh(e) ** 2) * e * e + np.tanh(e) * e
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_each_node_is_visited_once():
    """A node with two consumers runs its backward once, with the sum of both gradients."""
    CountingIdentity.calls = 0
    x = leaf([1.0, 2.0])
    a = CountingIdentity()(x)
    (a * 2 + a * 3 + a).sum().backward()
    assert CountingIdentity.calls == 1
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


@st.composite
def random_graphs(draw):
    """A random DAG: each new node applies a unary or binary op to earlier nodes, so values are
    reused by several consumers at arbitrary distances."""
    n_leaves = draw(st.integers(1, 3))
    n_nodes = draw(st.integers(1, 12))
    steps = []
    for i in range(n_nodes):
        available = n_leaves + i
        op = draw(st.sampled_from(["add", "mul", "sub", "tanh", "sigmoid", "scale"]))
        a = draw(st.integers(0, available - 1))
        b = draw(st.integers(0, available - 1))
        steps.append((op, a, b))
    values = draw(hnp.arrays(np.float64, (n_leaves, 3), elements=st.floats(-1.5, 1.5)))
    return values, steps


def _build(leaves, steps):
    nodes = list(leaves)
    for op, a, b in steps:
        x, y = nodes[a], nodes[b]
        nodes.append({"add": lambda: x + y, "mul": lambda: x * y, "sub": lambda: x - y,
                      "tanh": lambda: x.tanh(), "sigmoid": lambda: x.sigmoid(),
                      "scale": lambda: x * 0.5}[op]())
    return nodes


@given(graph=random_graphs())
def test_random_graphs_match_central_differences(graph):
    """Arbitrary reuse and rejoining: the engine's gradients agree with central differences,
    and every function's backward runs once, after the backward of every function that used its output."""
    values, steps = graph
    leaves = [leaf(v) for v in values]

    def f(*xs):
        return _build(xs, steps)[-1] * 1.0  # * 1.0: the output is a new node even if a leaf

    tg.gradcheck(f, leaves)

    nodes = _build(leaves, steps)
    out = nodes[-1] * 1.0
    calls = trace_backward(out)
    # (consumer, producer) for every edge between two functions, read before backward releases
    # the graph (and with it each function's inputs).
    functions = _functions(out)
    edges = [(fn, inp.grad_fn) for fn in functions for inp in fn.inputs
             if inp.grad_fn is not None]
    out.sum().backward()
    position = {id(fn): i for i, fn in enumerate(calls)}
    assert len(position) == len(calls), "a function's backward ran twice"
    assert len(calls) == len(functions), "some function's backward never ran"
    for consumer, producer in edges:  # each ran after every function that consumed its output
        assert position[id(producer)] > position[id(consumer)]


def test_backward_order_is_deterministic():
    def order_names():
        x = leaf([1.0])
        a, b = x * 2, x * 3
        c = a + b
        d = c * a
        calls = trace_backward(d)
        d.backward()
        return [fn.name for fn in calls]
    assert order_names() == order_names() == ["Mul", "Add", "Mul", "Mul"]


def test_chain_of_100000_ops_without_recursion_error():
    """The walk is iterative: a chain far deeper than Python's recursion limit (1,000) works.
    y = x * 1.00001 ** 100000, so dy/dx = 1.00001 ** 100000 ~ e."""
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    start = time.perf_counter()
    y.backward()
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(x.grad.item(), 1.00001 ** 100_000, rtol=1e-9)
    assert elapsed < 20, f"backward of a 100,000-op chain took {elapsed:.1f} s"


def test_deep_retained_graph_can_be_freed():
    """Dropping a retained 100,000-node graph must not overflow the C stack either."""
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward(retain_graph=True)
    del y  # deallocation walks the chain; this would crash, not raise, if it recursed
    assert x.grad.item() == 1.0


# ------------------------------------------------------------------------- accumulation

def test_gradients_accumulate_across_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_setting_grad_to_none_zeroes_it(device):
    x = leaf([1.0, 2.0], device)
    (x * x).sum().backward()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_leaf_grads_own_their_memory():
    """Add hands one gradient to both inputs, and reshape's backward is a view of the gradient
    it received; each leaf's .grad must still be its own writable array, which users may
    update in place (clipping, scaling)."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    assert a.grad is not b.grad
    assert not np.shares_memory(a.grad._array, b.grad._array)
    a.grad._array *= 10
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])
    c, d = leaf([[1.0, 2.0]]), leaf([3.0, 4.0])
    (c.reshape(2) + d).sum().backward()
    d.grad._array *= 10
    np.testing.assert_allclose(c.grad.numpy(), [[1.0, 1.0]])
    x = leaf([1.0, 2.0])
    seed = tg.tensor([5.0, 6.0], dtype="float64")
    x.backward(seed)  # a leaf as the root: its .grad is a copy of the seed, not the seed
    x.grad._array[0] = 0.0
    assert seed.tolist() == [5.0, 6.0]


def test_grad_is_none_for_leaves_not_reached():
    x, unused = leaf([1.0]), leaf([2.0])
    (x * 2).sum().backward()
    assert unused.grad is None


def test_gradient_does_not_flow_into_constants_or_comparisons():
    x = leaf([1.0, -2.0, 3.0])
    c = tg.tensor([1.0, 1.0, 1.0], dtype="float64")
    mask = x > 0
    assert not mask.requires_grad and mask.grad_fn is None
    (x * c * mask).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 1.0])


def test_detach_cuts_the_graph():
    x = leaf([2.0])
    y = x * x.detach()  # d/dx treats the detached x as a constant: 2, not 2x = 4
    y.sum().backward()
    assert x.grad.item() == 2.0
    assert x.detach().grad_fn is None and not x.detach().requires_grad


# ------------------------------------------------------------------------- grad mode

def test_no_grad_as_context_manager_records_nothing():
    x = leaf([1.0, 2.0])
    with no_grad():
        assert not tg.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_no_grad_as_decorator():
    x = leaf([1.0])

    @no_grad()
    def evaluate(t):
        return t * 2

    y = evaluate(x)
    assert y.grad_fn is None and not y.requires_grad
    assert tg.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_decorator_survives_recursion():
    """The decorator is one object entered again by each recursive call; every exit restores
    the value of its own entry, so grad mode is back on afterwards."""
    @no_grad()
    def countdown(n):
        assert not tg.is_grad_enabled()
        return 0 if n == 0 else countdown(n - 1)

    countdown(3)
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with no_grad():
        with enable_grad():
            assert tg.is_grad_enabled()
            y = x * 2
        z = x * 2
        assert not tg.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_grad_mode_is_restored_on_exceptions():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            with enable_grad():
                1 / 0
    assert tg.is_grad_enabled()

    @no_grad()
    def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fails()
    assert tg.is_grad_enabled()
    with no_grad():
        with pytest.raises(ValueError):
            with enable_grad():
                raise ValueError
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_one_no_grad_object_nested_in_itself():
    ctx = no_grad()
    with ctx:
        with ctx:
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_ops_on_tensors_not_requiring_grad_record_nothing():
    a = tg.tensor([1.0, 2.0])
    y = (a * 2).exp()
    assert y.grad_fn is None and not y.requires_grad


# ------------------------------------------------------------------------- releasing the graph

def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_frees_saved_values():
    x = leaf([1.0, 2.0])
    h = x * x
    y = h.sum()
    y.backward()
    assert h.grad_fn.inputs is None and y.grad_fn.inputs is None


def test_retain_graph_twice_doubles_the_gradient(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_shared_subgraph_released_by_first_backward():
    x = leaf([1.0])
    h = x.exp()
    a, b = h * 2, h * 3
    a.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        b.sum().backward()


# ------------------------------------------------------------------------- backward errors

def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*scalar output"):
        (x * 2).backward()


def test_backward_on_a_tensor_not_requiring_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).sum().backward()
    x = leaf([1.0])
    with no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_gradient_of_wrong_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError,
                       match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(tg.ones(3))


def test_explicit_gradient_weights_the_output(device):
    x = leaf([1.0, 2.0], device)
    (x * x).backward(tg.tensor([1.0, 10.0], device=device))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 40.0])
    x.grad = None
    (x * x).backward([1.0, 0.5])  # a list works too
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_seed_gradient_takes_the_output_dtype():
    """A float64 seed for a float32 output is cast, so even a leaf root gets a float32 .grad."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.backward(tg.tensor([1.0, 1.0], dtype="float64"))
    assert x.grad.dtype == np.float32
    x.grad = None
    (x * 2).backward(np.array([1.0, 1.0]))
    assert x.grad.dtype == np.float32


def test_gradient_on_another_device():
    """A fake 'cuda' gradient: the device check comes before any array is touched."""
    x = leaf([1.0, 2.0])
    g = Tensor._wrap(np.ones(2), "cuda")
    with pytest.raises(RuntimeError, match="gradient is on 'cuda' but the output is on 'cpu'"):
        (x * 2).backward(g)


# ------------------------------------------------------------------------- grad()

def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_grad_with_the_same_input_twice():
    x = leaf([1.0, 2.0])
    g1, g2 = grad((x * x).sum(), [x, x])
    np.testing.assert_allclose(g1.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(g2.numpy(), [2.0, 4.0])


def test_grad_of_several_outputs_with_grad_outputs():
    x = leaf([1.0, 2.0])
    (g,) = grad([x * 2, x * x], x, grad_outputs=[tg.ones(2, dtype="float64"),
                                                 tg.tensor([1.0, 1.0], dtype="float64")])
    np.testing.assert_allclose(g.numpy(), [2 + 2, 2 + 4])


def test_grad_with_unused_input():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used.*allow_unused"):
        grad((x * 2).sum(), [x, unused])
    gx, gu = grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_input_must_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        grad((x * 2).sum(), [x, tg.tensor([1.0])])


def test_grad_count_mismatch():
    x = leaf([1.0])
    with pytest.raises(ValueError, match="2 outputs but 1 gradients"):
        grad([x * 2, x * 3], x, grad_outputs=[tg.ones(1)])


# ------------------------------------------------------------------------- higher order

def test_derivatives_of_x_cubed():
    """d/dx x**3 = 3x**2, d2/dx2 = 6x, d3/dx3 = 6."""
    x = leaf([-1.5, 0.5, 2.0])
    (d1,) = grad((x ** 3).sum(), x, create_graph=True)
    (d2,) = grad(d1.sum(), x, create_graph=True)
    (d3,) = grad(d2.sum(), x)
    np.testing.assert_allclose(d1.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(d2.numpy(), 6 * x.numpy())
    np.testing.assert_allclose(d3.numpy(), [6.0, 6.0, 6.0])


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = leaf(3.0)
    (x ** 3).backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.grad_fn is not None
    np.testing.assert_allclose(first.item(), 27.0)
    x.grad = None
    first.backward()
    np.testing.assert_allclose(x.grad.item(), 18.0)


def test_hessian_vector_product():
    """f(x) = x0**2 x1 + exp(x0 x1) + x1**3 / 3; the Hessian by hand:
    f_00 = 2 x1 + x1**2 e, f_01 = 2 x0 + e + x0 x1 e, f_11 = x0**2 e + 2 x1, e = exp(x0 x1).
    H v comes from differentiating (grad f) . v, without forming H."""
    x0, x1 = 0.7, -0.4
    x = leaf([x0, x1])
    v = tg.tensor([0.3, -1.2], dtype="float64")

    f = x[0] ** 2 * x[1] + (x[0] * x[1]).exp() + x[1] ** 3 / 3
    (g,) = grad(f, x, create_graph=True)
    (hv,) = grad((g * v).sum(), x)

    e = math.exp(x0 * x1)
    hessian = np.array([[2 * x1 + x1 ** 2 * e, 2 * x0 + e + x0 * x1 * e],
                        [2 * x0 + e + x0 * x1 * e, x0 ** 2 * e + 2 * x1]])
    np.testing.assert_allclose(hv.numpy(), hessian @ v.numpy(), rtol=1e-12)


def test_second_derivative_through_a_reused_value():
    """g(x) = sigmoid(x) * sigmoid(x) reuses sigmoid(x); g'' matches the formula."""
    x0 = np.array([-1.0, 0.3, 2.0])
    x = leaf(x0)
    s = x.sigmoid()
    (d1,) = grad((s * s).sum(), x, create_graph=True)
    (d2,) = grad(d1.sum(), x)
    sig = 1 / (1 + np.exp(-x0))
    ds = sig * (1 - sig)
    d2s = ds * (1 - 2 * sig)
    np.testing.assert_allclose(d2.numpy(), 2 * (ds * ds + sig * d2s), rtol=1e-12)


# ------------------------------------------------------------------------- sum_to and Function

@st.composite
def broadcast_pair(draw):
    target = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    rank = draw(st.integers(0, len(target)))
    small = tuple(1 if draw(st.booleans()) else n for n in target[len(target) - rank:])
    return small, target


@given(shapes=broadcast_pair(), seed=st.integers(0, 2 ** 16))
def test_sum_to_is_the_adjoint_of_broadcast_to(shapes, seed):
    """<broadcast_to(x), y> = <x, sum_to(y)> for every x and y: sum_to undoes broadcasting,
    also between different ranks."""
    small, target = shapes
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(small), rng.standard_normal(target)
    summed = Tensor(y).sum_to(small)
    assert summed.shape == small
    lhs = float((np.broadcast_to(x, target) * y).sum())
    np.testing.assert_allclose(lhs, float((x * summed.numpy()).sum()), rtol=1e-10, atol=1e-12)


class Cube(Function):
    """A user-defined op: y = x**3, dy/dx = 3x**2, written with Tensor ops."""

    def forward(self, x):
        return x ** 3

    def backward(self, g):
        (x,) = self.inputs
        return (g * 3 * x * x,)


def test_user_defined_function_plugs_into_the_engine():
    x = leaf([1.0, -2.0])
    y = Cube()(x)
    assert y.grad_fn.name == "Cube" and repr(y.grad_fn) == "<Cube>"
    (y * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])
    tg.gradcheck(lambda t: Cube()(t), [leaf([0.5, -1.5])])
    tg.gradgradcheck(lambda t: Cube()(t), [leaf([0.5, -1.5])])
    with no_grad():
        assert Cube()(x).grad_fn is None


def test_gradient_dtype_follows_each_input():
    """A float32 parameter combined with float64 data gets a float32 gradient."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)  # float32
    x = tg.tensor(np.array([3.0, 4.0]))  # float64
    y = (w * x).sum()
    assert y.dtype == np.float64
    y.backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0])


# ------------------------------------------------------------------------- engine edge cases

def test_backward_through_two_released_branches_names_retain_graph():
    """Two released functions reached in one pass must give the retain_graph message, not an
    error from comparing tensors in the heap."""
    x = leaf([1.0, 2.0])
    a, b = x * 2, x * 3
    (a + b).sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (a * b).sum().backward()


def test_grad_of_a_non_leaf_leaves_the_graph_below_it_alone():
    x = leaf([0.5, 1.5])
    h = x.exp()
    (g,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(g.numpy(), 2 * np.exp([0.5, 1.5]))
    h.sum().backward()  # Exp was neither run nor released by grad()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.5]))


def test_a_function_instance_records_one_call():
    x = leaf([1.0])
    from tinygrad_sm.ops import Mul
    mul = Mul()
    mul(x, x)
    with pytest.raises(RuntimeError, match="already applied once"):
        mul(x, x)


def test_no_grad_decorates_without_parentheses_too():
    @no_grad
    def double(t):
        return t * 2

    assert double(leaf([1.0])).grad_fn is None
    assert tg.is_grad_enabled()


def test_a_scalar_leaf_gets_an_array_gradient():
    x = leaf(3.0)
    x.backward()
    assert isinstance(x.grad._array, np.ndarray) and x.grad.item() == 1.0
    x.grad._array[...] = 0.0  # writable, and its own


def test_the_slope_of_x_to_the_power_0_is_0_even_at_0():
    x = leaf([0.0, 2.0])
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    y = leaf([0.0, 3.0])
    (y ** tg.tensor([0.0, 2.0], dtype="float64")).sum().backward()  # constant exponents
    assert y.grad.tolist() == [0.0, 6.0]

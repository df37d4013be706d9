"""optim: SGD (momentum, weight decay, Nesterov) and Adam against steps worked out by hand and
against PyTorch's trajectories, the argument checks, and the state_dict round trip."""
import math

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn, optim


GRADS = [np.array([0.5, 1.0]), np.array([-1.0, 2.0]), np.array([0.25, 0.0])]


def run_steps(opt_class, grads=GRADS, device="cpu", **hyper):
    """Start at p = [1, -2] (float64), apply each gradient in turn, return p after every step."""
    p = tg.tensor([1.0, -2.0], dtype="float64", device=device, requires_grad=True)
    opt = opt_class([p], **hyper)
    history = []
    for g in grads:
        p.grad = tg.tensor(g, device=device)
        opt.step()
        history.append(p.numpy().copy())
    return history


# ---------------------------------------------------------------------- SGD by hand

def test_sgd_plain(device):
    h = run_steps(optim.SGD, lr=0.1, device=device)
    np.testing.assert_allclose(h, [[0.95, -2.1], [1.05, -2.3], [1.025, -2.3]], rtol=1e-14)


@pytest.mark.parametrize("opt_class, hyper", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True}),
    (optim.Adam, {"lr": 0.1, "weight_decay": 0.1})], ids=["sgd", "adam"])
def test_every_device_follows_the_cpu_trajectory(device, opt_class, hyper):
    np.testing.assert_allclose(run_steps(opt_class, device=device, **hyper),
                               run_steps(opt_class, **hyper), rtol=1e-12)


def test_sgd_momentum_first_buffer_is_the_gradient():
    # buf1 = g1; buf2 = 0.9 buf1 + g2 = [-0.55, 2.9]; buf3 = 0.9 buf2 + g3 = [-0.245, 2.61]
    h = run_steps(optim.SGD, lr=0.1, momentum=0.9)
    np.testing.assert_allclose(h, [[0.95, -2.1], [1.005, -2.39], [1.0295, -2.651]], rtol=1e-14)


def test_sgd_weight_decay():
    # g' = g + 0.1 p:  [0.6, 0.8] then [-0.906, 1.792]
    h = run_steps(optim.SGD, GRADS[:2], lr=0.1, weight_decay=0.1)
    np.testing.assert_allclose(h, [[0.94, -2.08], [1.0306, -2.2592]], rtol=1e-14)


def test_sgd_nesterov():
    # step 1: buf = g1, g = g1 + 0.9 buf = [0.95, 1.9]
    # step 2: buf = [-0.55, 2.9], g = g2 + 0.9 buf = [-1.495, 4.61]
    h = run_steps(optim.SGD, GRADS[:2], lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(h, [[0.905, -2.19], [1.0545, -2.651]], rtol=1e-14)


def test_sgd_momentum_weight_decay_and_nesterov_together():
    p, buf = np.array([1.0, -2.0]), None
    for g in GRADS:
        g = g + 0.01 * p
        buf = g.copy() if buf is None else 0.5 * buf + g
        p = p - 0.2 * (g + 0.5 * buf)
    h = run_steps(optim.SGD, lr=0.2, momentum=0.5, weight_decay=0.01, nesterov=True)
    np.testing.assert_allclose(h[-1], p, rtol=1e-14)


# ---------------------------------------------------------------------- Adam by hand

def test_adam_three_steps_by_hand():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    g1, g2, g3 = GRADS
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    p1 = np.array([1.0, -2.0]) - lr / (1 - b1) * m1 / (np.sqrt(v1) / math.sqrt(1 - b2) + eps)
    m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2**2
    p2 = p1 - lr / (1 - b1**2) * m2 / (np.sqrt(v2) / math.sqrt(1 - b2**2) + eps)
    m3, v3 = b1 * m2 + (1 - b1) * g3, b2 * v2 + (1 - b2) * g3**2
    p3 = p2 - lr / (1 - b1**3) * m3 / (np.sqrt(v3) / math.sqrt(1 - b2**3) + eps)
    np.testing.assert_allclose(p1, [0.9, -2.1], rtol=1e-7)  # the first step is lr * sign(g)
    h = run_steps(optim.Adam, lr=lr, betas=(b1, b2), eps=eps)
    np.testing.assert_allclose(h, [p1, p2, p3], rtol=1e-14)


def test_adam_weight_decay_and_defaults():
    opt = optim.Adam([tg.zeros(2, requires_grad=True)])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    p0, g = np.array([1.0, -2.0]), GRADS[0] + 0.5 * np.array([1.0, -2.0])  # g + wd * p
    expected = p0 - 0.01 * g / (np.abs(g) + 1e-8)
    h = run_steps(optim.Adam, GRADS[:1], lr=0.01, weight_decay=0.5)
    np.testing.assert_allclose(h[0], expected, rtol=1e-14)


# ---------------------------------------------------------------------- mechanics

@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1)], ids=["sgd", "adam"])
def test_step_is_in_place_records_nothing_and_leaves_grads_alone(make):
    p = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    q = tg.tensor([5.0], requires_grad=True)
    opt = make([p, q])
    array = p._array
    p.sum().backward()  # the optimizer must read the gradient, never write it
    grad_before = p.grad.numpy().copy()
    opt.step()
    opt.step()
    assert p._array is array and p.dtype == np.float32 and p.is_leaf and p.grad_fn is None
    np.testing.assert_array_equal(p.grad.numpy(), grad_before)
    assert q.tolist() == [5.0]  # no gradient: skipped
    assert opt.state[1] == {}


@pytest.mark.parametrize("opt_class, hyper", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adam, {"lr": 0.1})], ids=["sgd", "adam"])
def test_a_0d_parameter_follows_the_1_element_trajectory(opt_class, hyper):
    scalar = tg.tensor(1.0, requires_grad=True)  # NumPy ops on 0-d arrays return scalars
    vector = tg.tensor([1.0], requires_grad=True)
    opts = opt_class([scalar], **hyper), opt_class([vector], **hyper)
    for _ in range(3):
        for opt, p in zip(opts, (scalar, vector)):
            opt.zero_grad()
            (p * p * 3.0).sum().backward()
            opt.step()
    assert scalar.shape == () and scalar.item() == vector.item() != 1.0


def test_zero_grad_and_duplicates():
    p = tg.ones(2, requires_grad=True)
    opt = optim.SGD([p, p], lr=1.0)
    assert opt.params == [p]  # a parameter listed twice is updated once
    (p * 3).sum().backward()
    opt.step()
    assert p.tolist() == [-2.0, -2.0]
    opt.zero_grad()
    assert p.grad is None


def test_training_a_model_reduces_the_loss():
    tg.manual_seed(0)
    x = tg.randn(64, 3)
    y = x @ tg.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    for opt_class, hyper in [(optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adam, {"lr": 0.05})]:
        model = nn.Linear(3, 1)
        opt = opt_class(model.parameters(), **hyper)
        first = None
        for _ in range(100):
            loss = nn.functional.mse_loss(model(x), y)
            first = loss.item() if first is None else first
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.item() < 1e-3 * first


def test_repr():
    opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.5, momentum=0.9)
    assert repr(opt) == "SGD(lr=0.5, momentum=0.9, weight_decay=0.0, nesterov=False)"


# ---------------------------------------------------------------------- argument checks

def param():
    return tg.ones(2, requires_grad=True)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0.0}, "lr must be > 0, got 0.0"),
    ({"lr": -0.1}, "lr must be > 0, got -0.1"),
    ({"lr": float("nan")}, "lr must be > 0, got nan"),
    ({"lr": 0.1, "momentum": -0.5}, "momentum must be >= 0, got -0.5"),
    ({"lr": 0.1, "weight_decay": -1}, "weight_decay must be >= 0, got -1"),
    ({"lr": 0.1, "nesterov": True}, "nesterov=True needs momentum > 0, got momentum=0"),
])
def test_sgd_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        optim.SGD([param()], **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "lr must be > 0"),
    ({"betas": (1.0, 0.999)}, r"betas\[0\] must be in \[0, 1\), got 1.0"),
    ({"betas": (0.9, -0.1)}, r"betas\[1\] must be in \[0, 1\), got -0.1"),
    ({"betas": 0.9}, "betas must be a pair"),
    ({"eps": -1e-8}, "eps must be >= 0"),
    ({"weight_decay": -0.1}, "weight_decay must be >= 0"),
])
def test_adam_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.Adam([param()], **kwargs)


def test_hyperparameters_must_be_numbers():
    with pytest.raises(TypeError, match="lr must be a number, got '0.1'"):
        optim.SGD([param()], lr="0.1")
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.Adam([param()], lr=True)


def test_params_checks():
    with pytest.raises(ValueError, match="empty parameter list.*generator is used up"):
        optim.SGD([], lr=0.1)
    model = nn.Linear(2, 2)
    params = model.parameters()
    optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD(params, lr=0.1)  # the same generator, already consumed
    with pytest.raises(ValueError, match=r"params\[1\] \(shape \(3,\)\) does not require grad"):
        optim.SGD([param(), tg.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\] is a ndarray, not a Tensor"):
        optim.Adam([np.zeros(2)])
    with pytest.raises(TypeError, match=r"single Tensor; wrap it in a list"):
        optim.SGD(param(), lr=0.1)
    with pytest.raises(TypeError, match="iterable of tensors"):
        optim.SGD(3, lr=0.1)
    with pytest.raises(ValueError, match=r"computed by an op \(<Mul>\)"):
        optim.SGD([param() * 2], lr=0.1)


# ---------------------------------------------------------------------- state_dict

def train(model, opt, x, y, steps):
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.01)], ids=["sgd", "adam"])
def test_state_dict_round_trip_continues_the_same_trajectory(make, tmp_path):
    tg.manual_seed(1)
    x, y = tg.randn(16, 3), tg.randn(16, 2)
    tg.manual_seed(2)
    reference = nn.Linear(3, 2)
    reference_opt = make(reference.parameters())
    train(reference, reference_opt, x, y, 5)

    tg.manual_seed(2)
    first = nn.Linear(3, 2)
    first_opt = make(first.parameters())
    train(first, first_opt, x, y, 2)
    first.save(tmp_path / "model.npz")
    saved = first_opt.state_dict()

    resumed = nn.Linear(3, 2).load(tmp_path / "model.npz")
    resumed_opt = make(resumed.parameters())
    resumed_opt.lr = 123.0  # overwritten by the load
    resumed_opt.load_state_dict(saved)
    assert resumed_opt.state_dict()["hyperparameters"] == saved["hyperparameters"]
    train(resumed, resumed_opt, x, y, 3)
    for name, value in reference.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value)


def test_state_dict_contents_are_host_copies():
    p = param()
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.ones(2)
    opt.step()
    state = opt.state_dict()
    assert state["hyperparameters"] == {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8,
                                        "weight_decay": 0.0}
    entry = state["state"][0]
    assert entry["step"] == 1 and isinstance(entry["exp_avg"], np.ndarray)
    entry["exp_avg"][...] = 99.0
    assert not (opt.state[0]["exp_avg"] == 99.0).any()
    assert optim.SGD([p], lr=0.1).state_dict()["state"] == [{}]


def sgd_with_state():
    p = param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = tg.ones(2)
    opt.step()
    return opt


def test_load_state_dict_errors_name_the_problem():
    saved = sgd_with_state().state_dict()
    opt = sgd_with_state()

    bad = {"hyperparameters": dict(saved["hyperparameters"]), "state": saved["state"]}
    del bad["hyperparameters"]["momentum"]
    with pytest.raises(KeyError, match=r"missing keys \['momentum'\]"):
        opt.load_state_dict(bad)

    with pytest.raises(KeyError, match=r"missing keys \['exp_avg', 'exp_avg_sq', 'step'\]|"
                                       r"hyperparameters: missing keys \['betas', 'eps'\]"):
        optim.Adam([param()]).load_state_dict(saved)

    with pytest.raises(ValueError, match="holds 2 parameters but this optimizer has 1"):
        opt.load_state_dict({**saved, "state": saved["state"] * 2})

    wrong_shape = {**saved, "state": [{"momentum_buffer": np.zeros(3)}]}
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(3,\) but "
                                         r"the parameter has shape \(2,\)"):
        opt.load_state_dict(wrong_shape)

    wrong_key = {**saved, "state": [{"velocity": np.zeros(2)}]}
    with pytest.raises(KeyError, match=r"parameter 0 has keys \['velocity'\], expected "
                                       r"\['momentum_buffer'\]"):
        opt.load_state_dict(wrong_key)

    with pytest.raises(KeyError, match=r"missing keys \['state'\]"):
        opt.load_state_dict({"hyperparameters": saved["hyperparameters"]})


def test_failed_load_changes_nothing():
    opt = sgd_with_state()
    before = opt.state_dict()
    saved = sgd_with_state().state_dict()
    saved["hyperparameters"]["lr"] = -1.0
    saved["state"][0]["momentum_buffer"] = np.full(2, 7.0)
    with pytest.raises(ValueError, match="lr must be > 0, got -1.0"):
        opt.load_state_dict(saved)
    assert opt.lr == 0.1
    np.testing.assert_array_equal(opt.state[0]["momentum_buffer"],
                                  before["state"][0]["momentum_buffer"])


def test_loaded_buffers_take_the_parameter_dtype():
    p = tg.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.load_state_dict({"hyperparameters": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0,
                                             "nesterov": False},
                         "state": [{"momentum_buffer": np.ones(2, dtype=np.float64)}]})
    assert opt.state[0]["momentum_buffer"].dtype == np.float32


# ---------------------------------------------------------------------- against PyTorch

def torch_trajectory(torch, opt_name, hyper, w0, x, y, steps):
    w = torch.tensor(w0, requires_grad=True)
    opt = getattr(torch.optim, opt_name)([w], **hyper)
    out = []
    for _ in range(steps):
        loss = ((torch.tensor(x) @ w - torch.tensor(y)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(w.detach().numpy().copy())
    return out


def our_trajectory(opt_name, hyper, w0, x, y, steps):
    w = tg.tensor(w0.copy(), requires_grad=True)  # tg.tensor shares a NumPy array's memory
    opt = getattr(optim, opt_name)([w], **hyper)
    out = []
    for _ in range(steps):
        loss = ((tg.tensor(x) @ w - tg.tensor(y)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(w.numpy().copy())
    return out


@pytest.mark.parametrize("opt_name, hyper", [
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-6, "weight_decay": 0.05}),
])
def test_trajectories_match_torch(opt_name, hyper):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    w0 = rng.standard_normal((3, 2))
    ours = our_trajectory(opt_name, hyper, w0, x, y, 8)
    theirs = torch_trajectory(torch, opt_name, hyper, w0, x, y, 8)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- RMSprop and AdamW

@pytest.mark.parametrize("opt_name, hyper", [
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.02, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.8}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.95, "weight_decay": 0.1, "momentum": 0.5, "centered": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-6, "weight_decay": 0.3}),
])
def test_rmsprop_and_adamw_trajectories_match_torch(opt_name, hyper):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    w0 = rng.standard_normal((3, 2))
    ours = our_trajectory(opt_name, hyper, w0, x, y, 8)
    theirs = torch_trajectory(torch, opt_name, hyper, w0, x, y, 8)
    assert not np.allclose(ours[-1], w0)  # the steps did something
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_rmsprop_two_steps_by_hand():
    lr, a, eps = 0.1, 0.9, 1e-8
    g1, g2 = GRADS[:2]
    s1 = (1 - a) * g1**2
    p1 = np.array([1.0, -2.0]) - lr * g1 / (np.sqrt(s1) + eps)  # lr / sqrt(0.1) * sign(g1)
    s2 = a * s1 + (1 - a) * g2**2
    p2 = p1 - lr * g2 / (np.sqrt(s2) + eps)
    np.testing.assert_allclose(p1, [1 - lr / math.sqrt(0.1), -2 - lr / math.sqrt(0.1)], rtol=1e-7)
    h = run_steps(optim.RMSprop, GRADS[:2], lr=lr, alpha=a, eps=eps)
    np.testing.assert_allclose(h, [p1, p2], rtol=1e-14)


def test_rmsprop_centered_with_momentum_and_weight_decay_by_hand():
    lr, a, eps, mu, wd = 0.05, 0.8, 1e-6, 0.7, 0.1
    p, s, m, buf = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2), np.zeros(2)
    expected = []
    for g in GRADS:
        g = g + wd * p
        s = a * s + (1 - a) * g * g
        m = a * m + (1 - a) * g
        buf = mu * buf + g / (np.sqrt(s - m * m) + eps)
        p = p - lr * buf
        expected.append(p)
    h = run_steps(optim.RMSprop, lr=lr, alpha=a, eps=eps, momentum=mu, weight_decay=wd,
                  centered=True)
    np.testing.assert_allclose(h, expected, rtol=1e-13)


def test_adamw_decays_the_weights_apart_from_the_gradient():
    opt = optim.AdamW([tg.zeros(2, requires_grad=True)])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 1e-2)
    assert isinstance(opt, optim.Adam)  # as in PyTorch, and with Adam's state
    p0 = np.array([1.0, -2.0])
    # step 1: p = p0 (1 - lr wd), then Adam's first step, lr * sign(g)
    expected = p0 * (1 - 0.1 * 0.5) - 0.1 * GRADS[0] / (np.abs(GRADS[0]) + 1e-8)
    h = run_steps(optim.AdamW, GRADS[:1], lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(h[0], expected, rtol=1e-14)
    # Adam's weight decay is another rule; without decay the two are the same
    assert not np.allclose(run_steps(optim.Adam, lr=0.1, weight_decay=0.5)[-1],
                           run_steps(optim.AdamW, lr=0.1, weight_decay=0.5)[-1])
    np.testing.assert_array_equal(run_steps(optim.Adam, lr=0.1),
                                  run_steps(optim.AdamW, lr=0.1, weight_decay=0.0))


@pytest.mark.parametrize("opt_class, hyper", [
    (optim.RMSprop, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "centered": True}),
    (optim.AdamW, {"lr": 0.1, "weight_decay": 0.1})], ids=["rmsprop", "adamw"])
def test_rmsprop_and_adamw_mechanics(device, opt_class, hyper):
    np.testing.assert_allclose(run_steps(opt_class, device=device, **hyper),
                               run_steps(opt_class, **hyper), rtol=1e-12)
    p = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device, requires_grad=True)
    q = tg.tensor([5.0], device=device, requires_grad=True)
    opt = opt_class([p, q], **hyper)
    array = p._array
    p.sum().backward()
    grad_before = p.grad.numpy().copy()
    recorded = (p * p).sum()  # saves p for its backward
    opt.step()
    assert p._array is array and p.dtype == np.float32 and p.is_leaf
    np.testing.assert_array_equal(p.grad.numpy(), grad_before)
    with pytest.raises(RuntimeError, match="changed by an in-place operation"):
        recorded.backward()  # the step counted as an in-place write
    assert q.tolist() == [5.0] and opt.state[1] == {}
    # a 0-d parameter follows the 1-element trajectory (NumPy's 0-d results are scalars)
    scalar, vector = tg.tensor(1.0, requires_grad=True), tg.tensor([1.0], requires_grad=True)
    opts = opt_class([scalar], **hyper), opt_class([vector], **hyper)
    for _ in range(3):
        for o, t in zip(opts, (scalar, vector)):
            o.zero_grad()
            (t * t * 3.0).sum().backward()
            o.step()
    assert scalar.shape == () and scalar.item() == vector.item() != 1.0


def test_rmsprop_and_adamw_train_a_model():
    tg.manual_seed(0)
    x = tg.randn(64, 3)
    y = x @ tg.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    for opt_class, hyper in [(optim.RMSprop, {"lr": 0.01}), (optim.AdamW, {"lr": 0.05})]:
        model = nn.Linear(3, 1)
        opt = opt_class(model.parameters(), **hyper)
        first = nn.functional.mse_loss(model(x), y).item()
        train(model, opt, x, y, 200)
        assert nn.functional.mse_loss(model(x), y).item() < 1e-2 * first, opt_class


@pytest.mark.parametrize("kwargs, error, message", [
    ({"lr": 0.0}, ValueError, "RMSprop: lr must be > 0, got 0.0"),
    ({"alpha": 1.0}, ValueError, r"alpha must be in \[0, 1\), got 1.0"),
    ({"alpha": -0.1}, ValueError, r"alpha must be in \[0, 1\), got -0.1"),
    ({"eps": -1e-8}, ValueError, "eps must be >= 0"),
    ({"weight_decay": -1}, ValueError, "weight_decay must be >= 0, got -1"),
    ({"momentum": float("nan")}, ValueError, "momentum must be >= 0, got nan"),
    ({"centered": 1}, TypeError, "centered must be True or False, got 1"),
    ({"alpha": "0.9"}, TypeError, "alpha must be a number"),
])
def test_rmsprop_rejects_bad_hyperparameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        optim.RMSprop([param()], **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "AdamW: lr must be > 0"),
    ({"betas": (0.9, 1.0)}, r"AdamW: betas\[1\] must be in \[0, 1\), got 1.0"),
    ({"betas": (0.9,)}, "AdamW: betas must be a pair"),
    ({"eps": -1.0}, "AdamW: eps must be >= 0"),
    ({"weight_decay": -0.01}, "AdamW: weight_decay must be >= 0"),
])
def test_adamw_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.AdamW([param()], **kwargs)


@pytest.mark.parametrize("make", [
    lambda ps: optim.RMSprop(ps, lr=0.01),
    lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                             weight_decay=0.01),
    lambda ps: optim.AdamW(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)],
    ids=["rmsprop", "rmsprop-centered-momentum", "adamw"])
def test_rmsprop_and_adamw_resume_the_same_trajectory(make, tmp_path):
    tg.manual_seed(1)
    x, y = tg.randn(16, 3), tg.randn(16, 2)
    tg.manual_seed(2)
    reference = nn.Linear(3, 2)
    train(reference, make(reference.parameters()), x, y, 5)

    for through_file in (False, True):
        tg.manual_seed(2)
        first = nn.Linear(3, 2)
        first_opt = make(first.parameters())
        train(first, first_opt, x, y, 2)
        resumed = nn.Linear(3, 2)
        resumed.load_state_dict(first.state_dict())
        resumed_opt = make(resumed.parameters())
        resumed_opt.lr = 123.0  # overwritten by the load
        if through_file:
            first_opt.save(tmp_path / "opt.npz")
            assert resumed_opt.load(tmp_path / "opt.npz") is resumed_opt
        else:
            resumed_opt.load_state_dict(first_opt.state_dict())
        assert resumed_opt.state_dict()["hyperparameters"] == first_opt.state_dict()["hyperparameters"]
        train(resumed, resumed_opt, x, y, 3)
        for name, value in reference.state_dict().items():
            np.testing.assert_array_equal(resumed.state_dict()[name], value)


def rmsprop_state(**hyper):
    p = param()
    opt = optim.RMSprop([p], **hyper)
    p.grad = tg.tensor([1.0, -2.0])
    opt.step()
    return opt.state_dict()


def test_rmsprop_state_holds_pytorchs_buffers_and_loads_the_saved_settings(tmp_path):
    assert sorted(rmsprop_state()["state"][0]) == ["square_avg", "step"]
    saved = rmsprop_state(momentum=0.9, centered=True)
    assert sorted(saved["state"][0]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]
    # loaded into a plain RMSprop, the saved momentum and centering come with their buffers
    opt = optim.RMSprop([param()])
    opt.load_state_dict(saved)
    assert opt.momentum == 0.9 and opt.centered is True
    assert sorted(opt.state[0]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]
    source = optim.RMSprop([param()], momentum=0.9, centered=True)
    source.load_state_dict(saved)
    source.save(tmp_path / "rms.npz")
    from_file = optim.RMSprop([param()]).load(tmp_path / "rms.npz")
    assert from_file.momentum == 0.9 and from_file.centered is True
    for key, value in saved["state"][0].items():
        np.testing.assert_array_equal(from_file.state[0][key], value)
    # and the other way: a plain state into a centered optimizer with momentum
    plain = optim.RMSprop([param()], momentum=0.9, centered=True)
    plain.load_state_dict(rmsprop_state())
    assert plain.momentum == 0.0 and plain.centered is False and sorted(plain.state[0]) == [
        "square_avg", "step"]


def test_rmsprop_settings_changed_between_steps_keep_the_state_loadable():
    p = param()
    opt = optim.RMSprop([p], lr=0.1)
    p.grad = tg.ones(2)
    opt.step()
    opt.momentum, opt.centered = 0.9, True  # the new buffers start at zero, as on a first step
    saved = opt.state_dict()
    assert not saved["state"][0]["momentum_buffer"].any() and not saved["state"][0]["grad_avg"].any()
    optim.RMSprop([param()]).load_state_dict(saved)
    opt.momentum = 0.0
    assert "momentum_buffer" not in opt.state_dict()["state"][0]
    opt.step()
    assert sorted(opt.state[0]) == ["grad_avg", "square_avg", "step"]


@pytest.mark.parametrize("change, error, message", [
    (lambda s: s["state"][0].pop("momentum_buffer"), KeyError,
     r"parameter 0 has keys \['square_avg', 'step'\], expected \['momentum_buffer', 'square_avg', 'step'\]"),
    (lambda s: s["state"][0].update(grad_avg=np.zeros(2)), KeyError, "has keys"),
    (lambda s: s["state"][0].update(square_avg=np.array([1.0, -1.0])), ValueError,
     "'square_avg' of parameter 0 holds negative values"),
    (lambda s: s["state"][0].update(momentum_buffer=np.array([np.inf, 0.0])), ValueError,
     "'momentum_buffer' of parameter 0 holds NaN or inf"),
    (lambda s: s["state"][0].update(step=-1), ValueError, "'step' of parameter 0 must be a non-negative"),
    (lambda s: s["hyperparameters"].update(centered=0), TypeError,
     "centered must be True or False, got 0"),
    (lambda s: s["hyperparameters"].update(alpha=1.5), ValueError, r"alpha must be in \[0, 1\)"),
    (lambda s: s["hyperparameters"].update(momentum="x"), TypeError, "momentum must be a number"),
])
def test_rmsprop_load_checks_every_field_and_changes_nothing(change, error, message):
    saved = rmsprop_state(momentum=0.9)
    change(saved)
    opt = optim.RMSprop([param()], lr=0.5)
    with pytest.raises(error, match=message):
        opt.load_state_dict(saved)
    assert opt.lr == 0.5 and opt.momentum == 0.0 and opt.state == [{}]
    assert opt.buffers == ("square_avg",)


def test_rmsprop_load_of_a_file_checks_names_and_headers(tmp_path):
    from tinygrad_sm import serialization
    saved = serialization.flatten_state(rmsprop_state(momentum=0.9))
    opt = optim.RMSprop([param()])
    serialization.save_npz(tmp_path / "short.npz",
                           {k: v for k, v in saved.items() if k != "state.0.square_avg"})
    with pytest.raises(KeyError, match=r"missing keys \['state.0.square_avg'\]"):
        opt.load(tmp_path / "short.npz")
    serialization.save_npz(tmp_path / "odd.npz", {**saved, "state.0.velocity": np.zeros(2)})
    with pytest.raises(KeyError, match=r"unexpected keys \['state.0.velocity'\]"):
        opt.load(tmp_path / "odd.npz")
    serialization.save_npz(tmp_path / "shape.npz", {**saved, "state.0.momentum_buffer": np.zeros(3)})
    with pytest.raises(ValueError, match=r"'state.0.momentum_buffer' has shape \(3,\), expected \(2,\)"):
        opt.load(tmp_path / "shape.npz")
    serialization.save_npz(tmp_path / "flag.npz", {**saved, "hyperparameters.centered": np.array(1)})
    with pytest.raises(TypeError, match="'hyperparameters.centered' has dtype int64; expected a bool"):
        opt.load(tmp_path / "flag.npz")
    assert opt.momentum == 0.0 and opt.state == [{}]

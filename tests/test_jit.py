"""tinygrad_sm.jit: a captured step replays bit for bit what the eager step does, over whole
training runs; it captures again when it must, and refuses what it cannot replay."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn, optim
from tinygrad_sm.data import ArrayDataset, DataLoader, synthetic_data
from tinygrad_sm.jit import JitError, jit


def _train(make_model, make_optimizer, batches, use_jit, loss_fn=nn.functional.cross_entropy):
    """Train from seed 0 over ``batches``; the losses and the final parameters."""
    tg.manual_seed(0)
    model = make_model()
    opt = make_optimizer(model.parameters())

    def step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss

    run = jit(step) if use_jit else step
    losses = [float(run(X, y)) for X, y in batches()]
    return losses, [p.numpy().copy() for p in model.parameters()], run


def _assert_same_run(make_model, make_optimizer, batches, loss_fn=nn.functional.cross_entropy):
    eager = _train(make_model, make_optimizer, batches, False, loss_fn)
    jitted = _train(make_model, make_optimizer, batches, True, loss_fn)
    assert eager[0] == jitted[0], "losses differ"
    for i, (a, b) in enumerate(zip(eager[1], jitted[1])):
        np.testing.assert_array_equal(a, b, err_msg=f"parameter {i} differs")
    return jitted[2]


def _classification_batches(n=300, features=20, classes=5, batch=32, epochs=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features)).astype(np.float32)
    y = (X[:, :classes].argmax(axis=1)).astype(np.int64)

    def batches():  # a new loader for each run: the same shuffles
        loader = DataLoader(ArrayDataset(X, y), batch, shuffle=True, seed=seed)
        for _ in range(epochs):
            yield from loader
    return batches


# ------------------------------------------------------------------ bit for bit, whole runs

def test_linear_regression_concise_replays_bit_for_bit():
    tg.manual_seed(0)
    features, labels = synthetic_data([2.0, -3.4], 4.2, 1000)

    def batches():
        loader = DataLoader(ArrayDataset(features, labels), 10, shuffle=True, seed=0)
        for _ in range(3):
            yield from loader
    step = _assert_same_run(lambda: nn.Linear(2, 1), lambda p: optim.SGD(p, lr=0.03), batches,
                            loss_fn=nn.functional.mse_loss)
    assert step.captures == 1


def test_linear_regression_from_scratch_replays_bit_for_bit():
    """The book's loop: linreg, squared_loss(...).sum().backward(), and sgd in place."""
    from models.linear_regression import linreg, sgd, squared_loss

    def run(use_jit):
        tg.manual_seed(0)
        features, labels = synthetic_data([2.0, -3.4], 4.2, 1000)
        w = tg.normal(0, 0.01, (2, 1), requires_grad=True)
        b = tg.zeros(1, requires_grad=True)

        def step(X, y):
            loss = squared_loss(linreg(X, w, b), y)
            loss.sum().backward()
            sgd([w, b], 0.03, 10)

        run_step = jit(step) if use_jit else step
        loader = DataLoader(ArrayDataset(features, labels), 10, shuffle=True, seed=0)
        for _ in range(3):
            for X, y in loader:
                run_step(X, y)
        return w.numpy().copy(), b.numpy().copy()

    (w1, b1), (w2, b2) = run(False), run(True)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(b1, b2)
    assert abs(w2[0, 0] - 2.0) < 5e-3 and abs(b2[0] - 4.2) < 5e-3


def test_softmax_regression_replays_bit_for_bit_with_a_smaller_last_batch():
    batches = _classification_batches(n=300, batch=32)  # 9 full batches and one of 12
    step = _assert_same_run(lambda: nn.Sequential(nn.Flatten(), nn.Linear(20, 5)),
                            lambda p: optim.SGD(p, lr=0.1), batches)
    assert step.captures == 2 and len(step.programs) == 2  # 32 rows and 12 rows


def test_softmax_regression_from_scratch_replays_bit_for_bit():
    from models.softmax_regression import SoftmaxRegressionScratch, cross_entropy
    step = _assert_same_run(lambda: SoftmaxRegressionScratch(20, 5),
                            lambda p: optim.SGD(p, lr=0.1), _classification_batches(),
                            loss_fn=cross_entropy)
    assert step.captures == 2


@pytest.mark.parametrize("make_optimizer", [
    lambda p: optim.SGD(p, lr=0.1),
    lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-4),
    lambda p: optim.AdamW(p, lr=1e-2),
    lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
], ids=["sgd", "sgd-nesterov", "adam", "adamw", "rmsprop"])
def test_mlp_replays_bit_for_bit_with_every_optimizer(make_optimizer):
    _assert_same_run(lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5)),
                     make_optimizer, _classification_batches(epochs=2))


def test_dropout_draws_a_new_mask_in_every_replay_as_eager_does():
    _assert_same_run(lambda: nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.3),
                                           nn.Linear(32, 5)),
                     lambda p: optim.SGD(p, lr=0.1), _classification_batches(epochs=2))


def test_optimizer_state_round_trips_after_a_jitted_run(tmp_path):
    losses, params, step = _train(lambda: nn.Linear(20, 5), lambda p: optim.Adam(p, lr=1e-2),
                                  _classification_batches(epochs=1), True)
    opt = step.__wrapped__.__closure__  # the optimizer is in the step's closure
    optimizer = next(c.cell_contents for c in opt if isinstance(c.cell_contents, optim.Adam))
    assert optimizer.state_dict()["state"][0]["step"] == 10  # counted by the replays too
    optimizer.save(tmp_path / "adam.npz")


# ------------------------------------------------------------------ what a replay is

def test_the_program_is_plain_array_code():
    x = tg.tensor(np.random.default_rng(0).standard_normal((4, 4)), requires_grad=True)

    def step():
        x.grad = None
        ((x * 2 + 1).exp().log() * x).sum().backward()

    run = jit(step)
    run()
    source = run.source
    assert source.startswith("def replay(")
    for call in ("np.multiply", "np.exp", "np.log", "np.add"):
        assert call in source
    assert "Tensor" not in source and "backward(" not in source
    eager_grad = x.grad.numpy().copy()
    run()
    np.testing.assert_array_equal(x.grad.numpy(), eager_grad)  # the same x: the same grad
    assert run.captures == 1


def test_a_replay_computes_nothing_that_nothing_reads():
    """The loss is not returned: its value is dropped from the program; the gradient stays."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        w.grad = None
        loss = ((w * x).exp().sum() + 7.0) * 3.0  # + 7 and * 3: only their backward matters
        loss.backward()

    run = jit(step)
    run(tg.tensor([0.5, 0.25]))
    assert "np.add" not in run.source  # the + 7.0 of the value, read by nothing
    run(tg.tensor([1.0, 1.0]))
    np.testing.assert_allclose(w.grad.numpy(), 3 * np.exp([1.0, 2.0]))


def test_outputs_are_fresh_arrays_on_every_call():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    run = jit(lambda x: (w * x).sum() * 2)
    first, second = run(tg.tensor([1.0, 1.0])), run(tg.tensor([2.0, 2.0]))
    assert float(first) == 6.0 and float(second) == 12.0



def test_each_replay_hands_each_leaf_a_new_gradient_without_copying_one():
    """Eager mode copies a new .grad so that the leaf owns it; the replay makes the gradient
    fresh instead, so the copy is left out, and a gradient kept from one step is not
    overwritten by the next."""
    net = nn.Linear(3, 1)
    optimizer = optim.SGD(net.parameters(), lr=0.1)

    def step(x):
        optimizer.zero_grad()
        net(x).sum().backward()
        optimizer.step()

    run = jit(step)
    run(tg.ones(2, 3))
    assert ".copy()" not in run.source
    run(tg.ones(2, 3))
    kept = net.weight.grad
    run(tg.full((2, 3), 5.0))
    assert kept.tolist() == [[2.0, 2.0, 2.0]] and net.weight.grad.tolist() == [[10.0, 10.0, 10.0]]


# ------------------------------------------------------------------ capturing again

def test_new_shapes_capture_again_and_old_ones_are_kept():
    w = tg.tensor([[1.0], [2.0]], requires_grad=True)
    run = jit(lambda x: (x @ w).sum(), max_programs=2)
    for rows in (3, 5, 3, 5):
        assert float(run(tg.ones(rows, 2))) == 3.0 * rows
    assert run.captures == 2
    run(tg.ones(7, 2))  # a third shape: the least recently used one goes
    assert len(run.programs) == 2 and run.captures == 3


def test_a_changed_learning_rate_or_mode_captures_again():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    opt = optim.SGD(net.parameters(), lr=0.1)

    def step(X):
        opt.zero_grad()
        loss = net(X).sum()
        loss.backward()
        opt.step()

    run = jit(step)
    X = tg.ones(2, 4)
    run(X)
    run(X)
    assert run.captures == 1
    opt.lr = 0.01  # a schedule lowers it: the program with 0.1 in it must not run
    run(X)
    assert run.captures == 2
    net.eval()  # dropout off: another branch of Python
    run(X)
    assert run.captures == 3


def test_a_parameter_given_a_new_array_captures_again():
    w = nn.Parameter(tg.ones(2))
    run = jit(lambda x: (w * x).sum())
    assert float(run(tg.ones(2))) == 2.0
    w.data = tg.tensor([5.0, 5.0])  # a new array, as .to() or load_state_dict's callers do
    assert float(run(tg.ones(2))) == 10.0 and run.captures == 2


# ------------------------------------------------------------------ refused, clearly

def test_reading_a_value_inside_the_step_is_refused():
    w = tg.tensor([1.0, 2.0], requires_grad=True)

    def reads_item(x):
        loss = (w * x).sum()
        print(loss.item())
        return loss

    def branches_on_a_value(x):
        y = w * x
        return y.sum() if float(y.max()) > 0 else -y.sum()

    for step in (reads_item, branches_on_a_value):
        with pytest.raises(JitError, match="reads a value into Python.*out of the jitted step"):
            jit(step)(tg.ones(2))
    assert type(w._array) is np.ndarray  # and the capture undid what it changed


def test_gradients_left_from_before_the_step_are_added_into_as_eager_does():
    """The book's sgd zeroes .grad in place instead of dropping it; and without zeroing,
    backward accumulates. Either way the replay adds into whatever .grad holds at each call."""
    def run(use_jit, zero_in_place):
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        (w * 2).sum().backward()  # a gradient is already there

        def step(x):
            (w * x).sum().backward()
            if zero_in_place:
                with tg.no_grad():
                    w.sub_(0.1 * w.grad)
                    w.grad.zero_()

        run_step = jit(step) if use_jit else step
        grads = []
        for k in range(4):
            run_step(tg.tensor([1.0, float(k)]))
            grads.append(w.grad.tolist())
        return grads, w.tolist()

    for zero in (True, False):
        assert run(True, zero) == run(False, zero)


def test_a_bad_label_is_still_caught_in_a_replay():
    net = nn.Linear(3, 2)
    run = jit(lambda X, y: nn.functional.cross_entropy(net(X), y))
    run(tg.ones(2, 3), tg.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"target\[1\] = 7 is not a class index in \[0, 2\)"):
        run(tg.ones(2, 3), tg.tensor([0, 7]))
    assert run.captures == 1


def test_arguments_must_be_tensors_or_hashable():
    with pytest.raises(JitError, match="hashable"):
        jit(lambda x, options: x)(tg.ones(1), {"a": 1})


def test_a_small_lenet_replays_bit_for_bit():
    """Convolutions and pools write their gradients through views of a buffer (col2im): the
    replay keeps every write that reaches memory read later."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((24, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 24)

    def batches():
        loader = DataLoader(ArrayDataset(X, y), 8, shuffle=True, seed=3)
        for _ in range(2):
            yield from loader
    _assert_same_run(lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                                           nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
                                           nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 3)),
                     lambda p: optim.Adam(p, lr=1e-2), batches)


@pytest.mark.parametrize("kind", ["concise", "scratch"])
def test_batches_of_256_take_the_short_axis_path_and_still_replay_bit_for_bit(kind):
    """Softmax over 10 classes of 256 rows goes through a transposed copy in backend.py
    (reduce_max, reduce_sum): that copy, too, must be recorded, not baked in."""
    from models.softmax_regression import build
    rng = np.random.default_rng(0)
    data = [(tg.tensor(rng.random((256, 1, 28, 28)).astype(np.float32)),
             tg.tensor(rng.integers(0, 10, 256))) for _ in range(4)]

    def run(use_jit):
        tg.manual_seed(0)
        model, loss_fn = build(kind)
        opt = optim.SGD(list(model.parameters()), lr=0.1)

        def step(X, y):
            loss = loss_fn(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        run_step = jit(step) if use_jit else step
        return [float(run_step(X, y)) for X, y in data], [p.numpy().copy() for p in
                                                          model.parameters()]
    eager, jitted = run(False), run(True)
    assert eager[0] == jitted[0]
    for a, b in zip(eager[1], jitted[1]):
        np.testing.assert_array_equal(a, b)


def test_the_trainer_with_jit_trains_as_without():
    from tinygrad_sm.train import Trainer
    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 12)).astype(np.float32)
    y = X[:, :4].argmax(axis=1).astype(np.int64)
    results = []
    for use_jit in (False, True):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
        trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                          progress=False, log=None, jit=use_jit)
        history = trainer.fit(DataLoader(ArrayDataset(X, y), 64, shuffle=True, seed=0), 3)
        results.append(([(h.train_loss, h.train_acc) for h in history],
                        [p.numpy().copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_an_array_conversion_of_a_recorded_array_is_refused_not_baked_in():
    """NumPy's creation functions do not ask the recording to record them; reading the real
    memory behind its back would freeze the values. Each one is refused instead."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    for convert in (np.asarray, np.ascontiguousarray, np.array):
        with pytest.raises(JitError, match="array conversion"):
            jit(lambda x, convert=convert: tg.tensor(convert(x._array)) * w)(tg.ones(2))

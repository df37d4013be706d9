"""tinygrad_sm.d2l: the book's d2l names, each doing what the book says it does (older edition
d2l 0.17 and 2023 edition d2l 1.0), and its plots: live in a notebook, PNG files in a script."""
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import tinygrad_sm as tg
from helpers import real_data_or_skip
from tinygrad_sm import d2l, nn, optim

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def figures(tmp_path, monkeypatch):
    """Figures of a test go to its own folder, and none stays open after it."""
    folder = tmp_path / "figures"
    monkeypatch.setenv(d2l.FIGURES_ENV, str(folder))
    yield folder
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


@pytest.fixture
def fashion(tmp_path, monkeypatch):
    real_data_or_skip(load=False)
    monkeypatch.chdir(tmp_path)  # the book's root="../data" is looked up from here


def pngs(folder):
    return sorted(p.name for p in folder.glob("*.png")) if folder.exists() else []


# =========================================================================== older edition

def test_timer_records_each_stop():
    timer = d2l.Timer()
    first = timer.stop()
    timer.start()
    second = timer.stop()
    assert isinstance(first, float) and first >= 0 and second >= 0
    assert timer.times == [first, second] and timer.sum() == first + second
    assert timer.avg() == pytest.approx((first + second) / 2)
    assert timer.cumsum() == pytest.approx([first, first + second])


def test_synthetic_data_is_xw_plus_b_plus_small_noise():
    tg.manual_seed(0)
    true_w, true_b = tg.tensor([2, -3.4]), 4.2
    X, y = d2l.synthetic_data(true_w, true_b, 5000)
    assert X.shape == (5000, 2) and y.shape == (5000, 1) and X.dtype == y.dtype == np.float32
    noise = y.numpy()[:, 0] - (X.numpy() @ true_w.numpy() + true_b)
    assert abs(noise.std() - 0.01) < 0.001 and abs(noise.mean()) < 0.001
    assert abs(X.numpy().std() - 1) < 0.05


def test_linreg_and_squared_loss_are_the_books_formulas():
    X, w, b = tg.tensor([[1.0, 2.0], [3.0, 4.0]]), tg.tensor([[0.5], [-1.0]]), tg.tensor([0.25])
    y_hat = d2l.linreg(X, w, b)
    np.testing.assert_allclose(y_hat.numpy(), X.numpy() @ w.numpy() + 0.25)
    loss = d2l.squared_loss(y_hat, tg.tensor([1.0, 2.0]))  # y is reshaped like y_hat
    assert loss.shape == (2, 1)
    np.testing.assert_allclose(loss.numpy()[:, 0], (y_hat.numpy()[:, 0] - [1, 2]) ** 2 / 2)


def test_sgd_updates_the_leaves_in_place_and_zeroes_their_gradients():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([0.5], requires_grad=True)
    ((w * tg.tensor([3.0, 4.0])).sum() + 2 * b.sum()).backward()
    same_w, w_memory = w, w.numpy()
    d2l.sgd([w, b], lr=0.1, batch_size=2)
    assert w is same_w and w.numpy() is not None and np.shares_memory(w.numpy(), w_memory)
    np.testing.assert_allclose(w.numpy(), [1 - 0.1 * 3 / 2, 2 - 0.1 * 4 / 2])
    np.testing.assert_allclose(b.numpy(), [0.5 - 0.1 * 2 / 2])
    assert not w.grad.numpy().any() and not b.grad.numpy().any()
    assert w.requires_grad and w.is_leaf


def test_load_array_shuffles_only_for_training():
    X, y = tg.arange(20).reshape(10, 2).astype("float32"), tg.arange(10)
    ordered = [b[1].tolist() for b in d2l.load_array((X, y), 4, is_train=False)]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    tg.manual_seed(0)
    shuffled = sum((b[1].tolist() for b in d2l.load_array((X, y), 4)), [])
    assert sorted(shuffled) == list(range(10)) and shuffled != list(range(10))


def test_fashion_mnist_labels():
    assert d2l.get_fashion_mnist_labels([0, 9]) == ["t-shirt", "ankle boot"]
    assert d2l.get_fashion_mnist_labels(tg.tensor([[3], [5]])) == ["dress", "sandal"]
    assert d2l.get_dataloader_workers() == 4


def test_accuracy_counts_correct_rows():
    y_hat = tg.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.9, 0.05, 0.05]])
    y = tg.tensor([0, 2, 0])
    assert d2l.accuracy(y_hat, y) == 2.0
    assert d2l.accuracy(tg.tensor([2, 2, 1]), y) == 1.0  # already class indices


def test_accumulator():
    acc = d2l.Accumulator(2)
    acc.add(1, tg.tensor(2.5))
    acc.add(3.0, 1)
    assert (acc[0], acc[1]) == (4.0, 3.5)
    acc.reset()
    assert acc.data == [0.0, 0.0]


def blobs(n=300, seed=0):
    """Three well-separated classes in 2-D: easy to learn, so accuracy goes above 0.9."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    X = (centres[y] + rng.normal(0, 1, (n, 2))).astype(np.float32)
    return tg.tensor(X), tg.tensor(y)


def test_evaluate_accuracy_puts_a_module_in_eval_mode_and_records_no_graph():
    X, y = blobs()
    net = nn.Sequential(nn.Linear(2, 3))
    seen = []

    class Spy(nn.Module):
        def forward(self, x):
            seen.append((self.training, tg.is_grad_enabled()))
            return net(x)

    spy = Spy()
    accuracy = d2l.evaluate_accuracy(spy, d2l.load_array((X, y), 64, is_train=False))
    expected = (net(X).numpy().argmax(1) == y.numpy()).mean()
    assert accuracy == pytest.approx(expected) and set(seen) == {(False, False)}


def test_train_epoch_ch3_matches_the_books_loop_in_pytorch():
    torch = pytest.importorskip("torch")
    X, y = blobs()
    tg.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(2, 3))
    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2, 3))
    with torch.no_grad():
        ref[1].weight.copy_(torch.from_numpy(net[1].weight.numpy()))
        ref[1].bias.copy_(torch.from_numpy(net[1].bias.numpy()))
    loader = d2l.load_array((X, y), 32, is_train=False)
    loss, acc = d2l.train_epoch_ch3(net, loader, nn.CrossEntropyLoss(reduction="none"),
                                    optim.SGD(net.parameters(), lr=0.1))
    # the book's train_epoch_ch3, in PyTorch, on the same batches
    ref_loss_fn = torch.nn.CrossEntropyLoss(reduction="none")
    updater = torch.optim.SGD(ref.parameters(), lr=0.1)
    total_loss = total_correct = 0.0
    for Xb, yb in loader:
        Xt, yt = torch.from_numpy(Xb.numpy()), torch.from_numpy(yb.numpy())
        y_hat = ref(Xt)
        l = ref_loss_fn(y_hat, yt)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        total_loss += float(l.sum().detach())
        total_correct += float((y_hat.argmax(axis=1) == yt).sum())
    assert loss == pytest.approx(total_loss / 300, rel=1e-5)
    assert acc == pytest.approx(total_correct / 300)
    np.testing.assert_allclose(net[1].weight.numpy(), ref[1].weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_train_epoch_ch3_with_a_from_scratch_updater_sums_the_loss():
    X, y = blobs()
    W = tg.normal(0, 0.01, size=(2, 3), requires_grad=True)
    b = tg.zeros(3, requires_grad=True)
    batch_sizes = []

    def updater(batch_size):
        batch_sizes.append(batch_size)
        assert W.grad is not None  # the summed loss was differentiated first
        d2l.sgd([W, b], 0.1, batch_size)

    def net(X):
        return (X @ W + b).softmax(1)

    def cross_entropy(y_hat, y):
        return -tg.log(y_hat[range(len(y_hat)), y])

    loss, acc = d2l.train_epoch_ch3(net, d2l.load_array((X, y), 128), cross_entropy, updater)
    assert batch_sizes == [128, 128, 44] and loss < np.log(3) and acc > 0.5


def test_train_ch3_trains_plots_and_keeps_the_books_checks(figures):
    X, y = blobs(600)
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3))
    train_iter = d2l.load_array((X[:500], y[:500]), 50)
    test_iter = d2l.load_array((X[500:], y[500:]), 50, is_train=False)
    d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 3,
                  optim.SGD(net.parameters(), lr=0.1))
    assert pngs(figures) == ["d2l-001-animator.png"]
    # A model that cannot learn fails the book's sanity checks.
    frozen = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(AssertionError):
        d2l.train_ch3(frozen, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 2,
                      lambda batch_size: frozen.zero_grad())


def test_animator_keeps_the_points_and_writes_one_file(figures, capsys):
    animator = d2l.Animator(xlabel="epoch", legend=["a", "b"])
    for x in range(1, 4):
        animator.add(x, (x * 0.1, None if x == 2 else x * 0.2))
    assert animator.X == [[1, 2, 3], [1, 3]] and animator.Y == [[0.1, 0.2, 0.30000000000000004], [0.2, 0.6000000000000001]]
    assert [t.get_text() for t in animator.axes[0].get_legend().get_texts()] == ["a", "b"]
    assert capsys.readouterr().out.count("figure saved to") == 1
    assert pngs(figures) == ["d2l-001-animator.png"]


def test_plot_draws_each_line_on_fresh_axes(figures):
    x = np.arange(0, 1, 0.1)
    axes = d2l.plot(x, [x, x ** 2], xlabel="x", legend=["x", "x^2"], xlim=[0, 1])
    assert len(axes.lines) == 2 and axes.get_xlabel() == "x" and axes.get_xlim() == (0, 1)
    np.testing.assert_array_equal(axes.lines[1].get_ydata(), x ** 2)
    against_index = d2l.plot(tg.tensor([3.0, 1.0, 2.0]))
    assert against_index is not axes and against_index.lines[0].get_xdata().tolist() == [0, 1, 2]
    assert len(pngs(figures)) == 2


def test_show_images_returns_the_axes_with_titles(figures):
    imgs = tg.rand(3, 28, 28)
    axes = d2l.show_images(imgs, 1, 3, titles=["a", "b", "c"])
    assert len(axes) == 3 and [ax.get_title() for ax in axes] == ["a", "b", "c"]
    np.testing.assert_array_equal(axes[2].images[0].get_array(), imgs[2].numpy())
    assert len(d2l.show_images([np.zeros((4, 4))], 1, 1)) == 1
    assert len(pngs(figures)) == 2


def test_predict_ch3_titles_true_and_predicted_labels(figures):
    X = tg.rand(8, 1, 28, 28)
    y = tg.tensor([0, 1, 2, 3, 4, 5, 6, 7])

    def net(X):  # predicts class 9 for everything
        return tg.tensor(np.tile(np.eye(10, dtype=np.float32)[9], (X.shape[0], 1)))

    d2l.predict_ch3(net, [(X, y)], n=4)
    axes = d2l.plt.gcf().axes
    assert [ax.get_title() for ax in axes] == ["t-shirt\nankle boot", "trouser\nankle boot",
                                               "pullover\nankle boot", "dress\nankle boot"]


def test_set_figsize_and_set_axes():
    d2l.set_figsize((2.0, 1.5))
    plt = d2l.plt
    assert tuple(plt.rcParams["figure.figsize"]) == (2.0, 1.5)
    fig, ax = plt.subplots()
    d2l.set_axes(ax, "x", "y", [0, 2], [1, 3], "linear", "log", ["line"])
    ax.plot([1], [2], label="line")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()) == ("x", "y", "log")
    assert ax.get_xlim() == (0, 2)


# --------------------------------------------------------------------------- plots in a script

def test_figures_drawn_through_d2l_plt_are_saved_but_not_others(figures, capsys):
    plt = d2l.plt
    plt.figure()  # through d2l.plt: remembered
    plt.scatter([1, 2], [3, 4], 1)
    import matplotlib.pyplot
    matplotlib.pyplot.figure()  # straight through matplotlib: not d2l's business
    matplotlib.pyplot.plot([1, 2])
    written = d2l.save_figures()
    assert [Path(p).name for p in written] == ["d2l-001-figure.png"] and pngs(figures) == ["d2l-001-figure.png"]
    assert d2l.save_figures() == []  # unchanged since written
    assert "d2l-001-figure.png" in capsys.readouterr().out


def test_display_stands_in_for_ipython_in_a_script(figures, capsys):
    fig = d2l.plt.figure()
    d2l.display.display(fig)
    d2l.display.clear_output(wait=True)
    d2l.display.display("some text")
    d2l.display.set_matplotlib_formats("svg")
    out = capsys.readouterr().out
    assert "figure saved to" in out and "some text" in out
    assert len(pngs(figures)) == 1


def test_a_script_writes_its_figures_when_it_ends_and_needs_no_matplotlib_until_it_plots(tmp_path):
    script = tmp_path / "scatter.py"
    script.write_text(
        "import sys\n"
        "from tinygrad_sm import d2l\n"
        "assert 'matplotlib' not in sys.modules, 'd2l imported matplotlib before any plot'\n"
        "d2l.set_figsize()\n"
        "d2l.plt.scatter([1, 2, 3], [3, 1, 2], 1);\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    env.pop(d2l.FIGURES_ENV, None)
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert pngs(tmp_path / "d2l_figures") == ["scatter-001-figure.png"]
    assert "d2l_figures/scatter-001-figure.png" in result.stdout


# --------------------------------------------------------------------------- plots in a notebook

@pytest.fixture
def notebook(monkeypatch):
    """A stand-in for a Jupyter kernel: IPython with a kernel, recording what is displayed."""
    shown = []
    display_module = types.SimpleNamespace(
        display=lambda *objs, **kw: shown.append(("display", objs)),
        clear_output=lambda wait=False: shown.append(("clear", wait)),
        set_matplotlib_formats=lambda *formats, **kw: shown.append(("formats", formats)))
    shell = types.SimpleNamespace(kernel=object())
    ipython = types.SimpleNamespace(get_ipython=lambda: shell, display=display_module)
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "matplotlib_inline", None)  # use IPython's formats
    return shown


def test_in_a_notebook_plots_redraw_live_and_write_no_files(notebook, figures):
    import matplotlib.pyplot
    assert d2l.plt is matplotlib.pyplot
    animator = d2l.Animator(legend=["loss"])
    animator.add(1, 0.5)
    animator.add(2, 0.25)
    kinds = [kind for kind, _ in notebook]
    assert kinds == ["formats", "display", "clear", "display", "clear"]
    assert notebook[1][1] == (animator.fig,)
    d2l.plot([1, 2, 3])
    assert d2l.save_figures() == [] and pngs(figures) == []


# =========================================================================== 2023 edition

def test_add_to_class_adds_a_method():
    class A:
        pass

    @d2l.add_to_class(A)
    def double(self, x):
        return 2 * x

    assert A().double(3) == 6


def test_save_hyperparameters_keeps_the_arguments_only():
    class B(d2l.HyperParameters):
        def __init__(self, a, b=2, *rest, c=3, ignored=4, **extra):
            local = "not an argument"  # noqa: F841
            self.save_hyperparameters(ignore=["ignored"])

    b = B(1, 5, 6, 7, c=8, d=9)
    assert b.hparams == {"a": 1, "b": 5, "rest": (6, 7), "c": 8, "extra": {"d": 9}}
    assert (b.a, b.b, b.c) == (1, 5, 8) and not hasattr(b, "ignored") and not hasattr(b, "local")


def test_save_hyperparameters_in_a_module_keeps_parameters_registered():
    class Net(d2l.Module):
        def __init__(self, net, lr):
            super().__init__()
            self.save_hyperparameters()

    linear = nn.Linear(2, 1)
    model = Net(linear, lr=0.5)
    assert model.lr == 0.5 and model.net is linear and model.plot_train_per_epoch == 2
    assert [name for name, _ in model.named_parameters()] == ["net.weight", "net.bias"]
    assert model(tg.ones(4, 2)).shape == (4, 1)  # Module.forward runs self.net


def test_sgd_2023_steps_in_place_and_zeroes():
    w = tg.tensor([1.0, -1.0], requires_grad=True)
    (w * tg.tensor([2.0, 4.0])).sum().backward()
    opt = d2l.SGD([w], lr=0.5)
    with tg.no_grad():
        opt.step()
    np.testing.assert_allclose(w.numpy(), [0.0, -3.0])
    opt.zero_grad()
    assert not w.grad.numpy().any() and opt.lr == 0.5 and opt.params == [w]


def test_synthetic_regression_data_splits_and_batches():
    tg.manual_seed(0)
    w = tg.tensor([2, -3.4])
    data_module = d2l.SyntheticRegressionData(w=w, b=4.2, num_train=100, num_val=60, batch_size=32)
    assert data_module.X.shape == (160, 2) and data_module.y.shape == (160, 1)
    residual = data_module.y.numpy()[:, 0] - data_module.X.numpy() @ w.numpy() - 4.2
    assert abs(residual.std() - 0.01) < 0.003
    train, val = data_module.train_dataloader(), data_module.val_dataloader()
    assert (len(train), len(val)) == (4, 2)
    X, y = next(iter(val))
    np.testing.assert_array_equal(X.numpy(), data_module.X.numpy()[100:132])


class LinearScratch(d2l.Module):
    def __init__(self, num_inputs, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.w = tg.normal(0, sigma, (num_inputs, 1), requires_grad=True)
        self.b = tg.zeros(1, requires_grad=True)

    def forward(self, X):
        return X @ self.w + self.b

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2 / 2).mean()

    def configure_optimizers(self):
        return d2l.SGD([self.w, self.b], self.lr)


def test_trainer_fits_and_plots_the_curves(figures):
    tg.manual_seed(0)
    model = LinearScratch(2, lr=0.03)
    data_module = d2l.SyntheticRegressionData(w=tg.tensor([2, -3.4]), b=4.2)
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, data_module)
    assert trainer.train_batch_idx == 3 * 32 and trainer.num_val_batches == 32
    assert list(model.board.data) == ["train_loss", "val_loss"]
    assert [len(v) for v in model.board.data.values()] == [6, 3]  # 2 and 1 points per epoch
    val = [p.y for p in model.board.data["val_loss"]]
    assert val[-1] < val[0]
    assert np.abs(model.w.numpy()[:, 0] - [2, -3.4]).max() < 0.5
    assert pngs(figures) == ["d2l-001-progress.png"]


def test_trainer_without_a_gpu_trains_on_the_cpu_and_clips_gradients():
    trainer = d2l.Trainer(max_epochs=1, num_gpus=1, gradient_clip_val=1.0)
    assert trainer.gpus == ([d2l.gpu()] if tg.cuda.is_available() else [])
    model = LinearScratch(2, lr=0.1)
    model.w.grad = tg.tensor([[3.0], [0.0]])
    model.b.grad = tg.tensor([4.0])

    def parameters():
        return [model.w, model.b]

    model.parameters = parameters
    trainer.clip_gradients(1.0, model)
    np.testing.assert_allclose(model.w.grad.numpy()[:, 0], [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(model.b.grad.numpy(), [0.8], rtol=1e-6)


def test_classifier_loss_and_accuracy_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(6, 4)).astype(np.float32), np.array([0, 3, 1, 1, 2, 0])
    model = d2l.Classifier()
    loss = model.loss(tg.tensor(logits), tg.tensor(labels))
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    per_example = model.loss(tg.tensor(logits), tg.tensor(labels), averaged=False)
    assert per_example.shape == (6,)
    acc = model.accuracy(tg.tensor(logits), tg.tensor(labels))
    assert acc.item() == pytest.approx((logits.argmax(1) == labels).mean())
    assert model.accuracy(tg.tensor(logits), tg.tensor(labels), averaged=False).dtype == np.float32


def test_module_plot_needs_a_trainer():
    with pytest.raises(AssertionError, match="Trainer is not inited"):
        d2l.Classifier().plot("loss", 1.0, train=True)


def test_devices_and_aliases():
    assert d2l.cpu() == "cpu" and d2l.gpu() == "cuda" and d2l.num_gpus() in (0, 1)
    assert d2l.try_gpu() == ("cuda" if d2l.num_gpus() else "cpu")
    assert d2l.try_all_gpus() == (["cuda"] if d2l.num_gpus() else ["cpu"])
    x = tg.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    assert d2l.size(x) == 4 and d2l.numpy(x).tolist() == [[1, 2], [3, 5]]
    assert d2l.reshape(x, (4,)).shape == (4,) and d2l.reduce_sum(x).item() == 11
    assert d2l.reduce_mean(x, 0).tolist() == [2, 3.5] and d2l.argmax(x, 1).tolist() == [1, 1]
    assert d2l.astype(x, tg.int64).dtype == np.int64 and d2l.to(x, "cpu") is x


# --------------------------------------------------------------------------- on the real data

def test_load_data_fashion_mnist_gives_the_books_batches(fashion):
    train_iter, test_iter = d2l.load_data_fashion_mnist(256)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0 <= float(X.min()) and float(X.max()) <= 1
    first = next(iter(test_iter))[1].tolist()
    assert first == next(iter(test_iter))[1].tolist()  # the test set is not shuffled
    X, _ = next(iter(d2l.load_data_fashion_mnist(32, resize=64)[0]))
    assert X.shape == (32, 1, 64, 64)


def test_the_2023_fashion_mnist_data_module(fashion, figures):
    data_module = d2l.FashionMNIST(batch_size=256)
    assert (len(data_module.train), len(data_module.val)) == (60000, 10000)
    assert data_module.root == "../data" and data_module.num_workers == 4
    X, y = next(iter(data_module.val_dataloader()))
    assert X.shape == (256, 1, 28, 28) and X.dtype == np.float32 and y.shape == (256,)
    assert len(data_module.train_dataloader()) == 235
    assert data_module.text_labels(y[:2]) == d2l.get_fashion_mnist_labels(y[:2])
    data_module.visualize([X, y])
    assert [ax.get_title() for ax in d2l.plt.gcf().axes] == data_module.text_labels(y[:8])
    assert len(pngs(figures)) == 1
    small = d2l.FashionMNIST(batch_size=16, resize=(32, 32))
    assert next(iter(small.train_dataloader()))[0].shape == (16, 1, 32, 32)


def test_a_script_that_cannot_write_its_figures_says_so_in_one_line(tmp_path):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    script = tmp_path / "scatter.py"
    script.write_text("from tinygrad_sm import d2l\nd2l.plt.scatter([1, 2], [2, 1])\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", d2l.FIGURES_ENV: str(blocked)}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "could not write the figures" in result.stderr and d2l.FIGURES_ENV in result.stderr


def test_a_changing_figure_is_not_rewritten_at_every_change(figures, monkeypatch):
    fig = d2l.plt.figure()
    writes = []
    savefig = fig.savefig
    monkeypatch.setattr(fig, "savefig", lambda *args, **kw: (writes.append(1), savefig(*args, **kw)))
    fig.gca().plot([1, 2])
    d2l.display.display(fig)  # the first time: written at once
    fig.gca().plot([2, 1])
    d2l.display.display(fig)  # changed again within the second: waits
    assert len(writes) == 1
    assert len(d2l.save_figures()) == 1 and len(writes) == 2  # the change is not lost

"""The torch-level names that the book's code calls, side by side with PyTorch: the functions of
tinygrad_sm.functions, the dtypes, device and cuda, the Tensor methods and in-place idioms of
chapter 3, Module.apply, CrossEntropyLoss(reduction='none'), and the utils.data and vision
names. Each row runs the same call in both and compares values, shapes, dtypes and gradients.
The whole file skips where PyTorch is not installed."""
import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn
from tinygrad_sm.utils import data
from tinygrad_sm.vision import transforms

torch = pytest.importorskip("torch")

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
POSITIVE = np.abs(X) + 0.5
CUBE = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10
COLUMN = np.arange(3, dtype=np.float32).reshape(3, 1, 1)


def same(ours, theirs, what):
    """Equal values, shapes and dtypes (tensors), or equal plain values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tg.Tensor), (what, type(ours))
        assert ours.shape == tuple(theirs.shape), (what, ours.shape, theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (what, ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=what)
    else:
        assert ours == theirs, (what, ours, theirs)


# name, how it is called (lib is tinygrad_sm or torch), the input
FUNCTIONS = [
    ("matmul", lambda lib, x: lib.matmul(x, x.T), X),
    ("matmul 1-D", lambda lib, x: lib.matmul(x, x[0]), X),
    ("exp", lambda lib, x: lib.exp(x), X),
    ("log", lambda lib, x: lib.log(x), POSITIVE),
    ("sqrt", lambda lib, x: lib.sqrt(x), POSITIVE),
    ("abs", lambda lib, x: lib.abs(x), X),
    ("relu", lambda lib, x: lib.relu(x), X),
    ("sigmoid", lambda lib, x: lib.sigmoid(x), X),
    ("tanh", lambda lib, x: lib.tanh(x), X),
    ("softmax", lambda lib, x: lib.softmax(x, dim=1), X),
    ("log_softmax", lambda lib, x: lib.log_softmax(x, dim=0), X),
    ("logsumexp", lambda lib, x: lib.logsumexp(x, 1), X),
    ("logsumexp keepdim", lambda lib, x: lib.logsumexp(x, dim=0, keepdim=True), X),
    ("sum", lambda lib, x: lib.sum(x), X),
    ("sum dim keepdim", lambda lib, x: lib.sum(x, dim=1, keepdim=True), X),
    ("mean", lambda lib, x: lib.mean(x, 0), X),
    ("max", lambda lib, x: lib.max(x), X),
    ("max dim", lambda lib, x: tuple(lib.max(x, 1)), X),
    ("min dim keepdim", lambda lib, x: tuple(lib.min(x, 0, keepdim=True)), X),
    ("argmax", lambda lib, x: lib.argmax(x, dim=1), X),
    ("argmin", lambda lib, x: lib.argmin(x), X),
    ("reshape", lambda lib, x: lib.reshape(x, (3, -1)), X),
    ("flatten", lambda lib, x: lib.flatten(x, 1), CUBE),
    ("transpose", lambda lib, x: lib.transpose(x, 0, 2), CUBE),
    ("squeeze", lambda lib, x: lib.squeeze(x), COLUMN),
    ("squeeze dim", lambda lib, x: lib.squeeze(x, 1), COLUMN),
    ("unsqueeze", lambda lib, x: lib.unsqueeze(x, -1), X),
    ("clone", lambda lib, x: lib.clone(x) * 2, X),
    ("numel", lambda lib, x: lib.numel(x), CUBE),
    ("is_tensor", lambda lib, x: (lib.is_tensor(x), lib.is_tensor([1])), X),
]


@pytest.mark.parametrize("name, call, array", FUNCTIONS, ids=[row[0] for row in FUNCTIONS])
def test_functions_match_pytorch_with_their_gradients(name, call, array):
    ours_in = tg.tensor(array, requires_grad=True)
    theirs_in = torch.tensor(array, requires_grad=True)
    ours, theirs = call(tg, ours_in), call(torch, theirs_in)
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for i, (o, t) in enumerate(zip(ours, theirs)):
            same(o, t, f"{name}[{i}]")
        ours, theirs = ours[0], theirs[0]
    else:
        same(ours, theirs, name)
    if isinstance(theirs, torch.Tensor) and theirs.requires_grad:
        weights = np.linspace(-1, 1, theirs.numel(), dtype=np.float32).reshape(theirs.shape)
        (ours * tg.tensor(weights)).sum().backward()
        (theirs * torch.from_numpy(weights)).sum().backward()
        np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=f"gradient of {name}")


# The torch-level functions that code written for PyTorch's chapter 3 reaches for.
CHAPTER_3_FUNCTIONS = ["matmul", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "softmax",
                       "log_softmax", "logsumexp", "sum", "mean", "max", "min", "argmax", "argmin",
                       "reshape", "flatten", "transpose", "squeeze", "unsqueeze", "clone", "numel",
                       "is_tensor"]


def test_each_chapter_3_function_is_in_the_table_and_in_tinygrad_sm():
    tested = {row[0].split()[0] for row in FUNCTIONS}
    assert set(CHAPTER_3_FUNCTIONS) <= tested, set(CHAPTER_3_FUNCTIONS) - tested
    assert all(callable(getattr(tg, name, None)) for name in CHAPTER_3_FUNCTIONS)


@pytest.mark.parametrize("name", ["float16", "half", "float32", "float", "float64", "double", "int8",
                                  "int16", "short", "int32", "int", "int64", "long", "uint8", "bool"])
def test_dtype_attributes_are_pytorchs(name):
    theirs = torch.zeros(1, dtype=getattr(torch, name)).numpy().dtype
    assert getattr(tg, name) == theirs
    assert tg.zeros(1, dtype=getattr(tg, name)).dtype == theirs


def test_device_and_cuda():
    for name in ("cpu", "cuda", "cuda:0"):
        ours, theirs = tg.device(name), torch.device(name)
        assert ours.type == theirs.type
    assert tg.device("cpu").index is None and torch.device("cpu").index is None
    assert isinstance(tg.cuda.is_available(), bool)
    assert tg.cuda.device_count() == (1 if tg.cuda.is_available() else 0)
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    assert tg.ones(2, device=device).device == device


def test_reductions_take_dim_and_keepdim_and_max_gives_values_only():
    ours, theirs = tg.tensor(X), torch.tensor(X)
    same(ours.sum(1, keepdim=True), theirs.sum(1, keepdim=True), "sum(1, keepdim=True)")
    same(ours.sum(0, keepdims=True), theirs.sum(0, keepdims=True), "sum(0, keepdims=True)")
    same(ours.mean(dim=1), theirs.mean(dim=1), "mean(dim=1)")
    same(ours.argmax(axis=1), theirs.argmax(axis=1), "argmax(axis=1)")
    same(ours.max(1), theirs.max(1).values, "max(1): values only, as NumPy")


def test_type_squeeze_unsqueeze_clone_and_format():
    ours, theirs = tg.tensor(X), torch.tensor(X)
    same(ours.type(tg.int64), theirs.type(torch.int64), "type(int64)")
    same((ours.argmax(axis=1).type(tg.float32) == ours[:, 0]).type(tg.float32),
         (theirs.argmax(axis=1).type(torch.float32) == theirs[:, 0]).type(torch.float32), "type chain")
    same(tg.tensor(COLUMN).squeeze(-1), torch.tensor(COLUMN).squeeze(-1), "squeeze(-1)")
    same(ours.unsqueeze(1), theirs.unsqueeze(1), "unsqueeze(1)")
    loss_ours, loss_theirs = ours.sum(), theirs.sum()
    for spec in ("f", ".3f", "8.2e", "g"):
        assert f"{loss_ours:{spec}}" == f"{loss_theirs:{spec}}", spec
    assert ours.numel() == theirs.numel()
    w = tg.tensor(X, requires_grad=True)
    copy = w.clone()
    (copy * 3).sum().backward()
    assert not np.shares_memory(copy.numpy(), w.numpy()) and np.all(w.grad.numpy() == 3)


def test_the_books_in_place_idioms_match_pytorch():
    """3.2's ``param -= lr * param.grad / batch_size; param.grad.zero_()`` under no_grad, 3.3's
    ``.data.normal_``/``.data.fill_``, 3.1's ``c[i] = a[i] + b[i]``, 3.2's ``y += noise``."""
    results = {}
    for lib in (tg, torch):
        w = lib.tensor([[1.0], [2.0]], requires_grad=True)
        X_ = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        (lib.matmul(X_, w) ** 2 / 2).sum().backward()
        same_object = w
        with lib.no_grad():
            w -= 0.1 * w.grad / 2
            w.grad.zero_()
        c = lib.zeros(3)
        a, b = lib.ones(3), lib.tensor([1.0, 2.0, 3.0])
        for i in range(3):
            c[i] = a[i] + b[i]
        y = lib.tensor([1.0, 2.0])
        y += lib.tensor([0.5, 0.5])
        p = lib.zeros(4, requires_grad=True)
        p.data.fill_(2.5)
        results[lib.__name__] = dict(
            w=w.detach().numpy().copy(), same=w is same_object, leaf=w.is_leaf, req=w.requires_grad,
            grad=w.grad.numpy().copy(), c=c.numpy().copy(), y=y.numpy().copy(), p=p.detach().numpy().copy(),
            p_req=p.requires_grad)
    ours, theirs = results["tinygrad_sm"], results["torch"]
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, err_msg=key)
    m = tg.nn.Linear(2, 1)
    m.weight.data.normal_(0, 0.01)
    assert 0 < np.abs(m.weight.numpy()).max() < 0.1 and m.weight.requires_grad


def test_module_apply_visits_modules_as_pytorch_does():
    def order(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.ReLU()),
                                lib.nn.Flatten())
        seen = []
        assert net.apply(lambda m: seen.append(type(m).__name__)) is net
        return seen

    assert order(tg) == order(torch)


def test_init_weights_as_in_3_7():
    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)

    tg.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    net.apply(init_weights)
    assert abs(float(net[1].weight.numpy().std()) - 0.01) < 0.001


def test_cross_entropy_loss_without_reduction_matches_pytorch():
    logits = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2])
    ours_in, theirs_in = tg.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    ours = nn.CrossEntropyLoss(reduction="none")(ours_in, tg.tensor(labels))
    theirs = torch.nn.CrossEntropyLoss(reduction="none")(theirs_in, torch.from_numpy(labels))
    same(ours, theirs, "CrossEntropyLoss(reduction='none')")
    ours.mean().backward()
    theirs.mean().backward()
    np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_utils_data_names_match_pytorch():
    from torch.utils import data as tdata
    features = np.arange(14, dtype=np.float32).reshape(7, 2)
    ours = data.DataLoader(data.TensorDataset(tg.tensor(features)), 3)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(features)), 3)
    assert len(ours) == len(theirs)
    for (o,), (t,) in zip(ours, theirs):
        same(o, t, "TensorDataset batch")
    assert len(data.TensorDataset(tg.tensor(features))) == len(tdata.TensorDataset(torch.from_numpy(features)))


def test_transforms_follow_torchvisions_definition():
    """torchvision's ToTensor is ``torch.from_numpy(pic.transpose(2, 0, 1)).float().div(255)``
    for uint8 (H, W, C) and (H, W, 1) for (H, W); its Resize of a tensor image is bilinear
    interpolation with aligned pixel centres (antialiasing only matters when shrinking)."""
    pic = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    expected = torch.from_numpy(pic.transpose(2, 0, 1).copy()).float().div(255)
    same(transforms.ToTensor()(pic), expected, "ToTensor")
    grey = pic[:, :, 0]
    same(transforms.ToTensor()(grey), torch.from_numpy(grey[None].copy()).float().div(255), "ToTensor grey")
    image = transforms.ToTensor()(pic)
    resized = torch.nn.functional.interpolate(expected[None], size=(12, 10), mode="bilinear",
                                              align_corners=False)[0]
    np.testing.assert_allclose(transforms.Resize((12, 10))(image).numpy(), resized.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_one_step_of_3_6_from_scratch_matches_pytorch():
    """The book's naive softmax, its cross-entropy by fancy indexing with ``range``, the summed
    loss's gradient and the in-place update of ``sgd``: one minibatch, side by side."""
    rng = np.random.default_rng(0)
    images = rng.random((16, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, 16)
    W0 = rng.normal(0, 0.01, (784, 10)).astype(np.float32)
    results = []
    for lib in (tg, torch):
        W = lib.tensor(W0, requires_grad=True)
        b = lib.zeros(10, requires_grad=True)
        X, y = lib.tensor(images), lib.tensor(labels)

        def softmax(X):
            X_exp = lib.exp(X)
            return X_exp / X_exp.sum(1, keepdim=True)

        y_hat = softmax(lib.matmul(X.reshape((-1, W.shape[0])), W) + b)
        l = - lib.log(y_hat[range(len(y_hat)), y])
        l.sum().backward()
        grads = W.grad.numpy().copy(), b.grad.numpy().copy()
        with lib.no_grad():
            for param in (W, b):
                param -= 0.1 * param.grad / 16
                param.grad.zero_()
        results.append((l.detach().numpy(), grads, W.detach().numpy(), b.detach().numpy()))
    ours, theirs = results
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    # A gradient entry of W is a float32 sum over the 16 examples of products no larger than 1:
    # summed in another order it may differ by up to 16 float32 epsilons.
    atol = 16 * np.finfo(np.float32).eps
    for o, t in zip(ours[1] + ours[2:], theirs[1] + theirs[2:]):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=atol)


def test_conversion_and_view_spellings_match_pytorch():
    torch = pytest.importorskip("torch")
    values = [[1.5, -2.5, 3.0], [0.0, 7.25, -1.0]]
    x, xt = tg.tensor(values), torch.tensor(values)
    for name in ("float", "double", "half", "long", "int", "bool"):
        ours, theirs = getattr(x, name)(), getattr(xt, name)()
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert x.view(3, 2).tolist() == xt.view(3, 2).tolist()
    assert x.view(-1).shape == (6,) and x.t().tolist() == xt.t().tolist()
    assert tg.tensor([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        tg.zeros(2, 3, 4).t()


def test_floor_division_and_in_place_remainder_match_pytorch():
    torch = pytest.importorskip("torch")
    a, b = [7, -7, 9, -1], [2, 2, -4, 3]
    ours = tg.tensor(a) // tg.tensor(b)
    assert ours.dtype == np.int64 and ours.tolist() == torch.floor_divide(
        torch.tensor(a), torch.tensor(b)).tolist()
    assert (tg.tensor([1.0, 2.5]) // 0.5).tolist() == [2.0, 5.0] and (7 // tg.tensor([2])).tolist() == [3]
    x = tg.tensor([5.0, -5.0, 7.5])
    x %= 2
    xt = torch.tensor([5.0, -5.0, 7.5])
    xt %= 2
    assert x.tolist() == xt.tolist()


@pytest.mark.parametrize("name, args", [("relu", ()), ("sigmoid", ()), ("tanh", ()),
                                        ("leaky_relu", (0.2,)), ("elu", (0.5,)), ("gelu", ()),
                                        ("silu", ()), ("softplus", (2.0,)), ("hardtanh", ())])
def test_functional_activations_match_pytorch(name, args):
    torch = pytest.importorskip("torch")
    values = np.linspace(-3, 3, 13)
    ours = getattr(tg.nn.functional, name)(tg.tensor(values), *args).numpy()
    theirs = getattr(torch.nn.functional, name)(torch.tensor(values), *args).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_functional_pad_and_one_hot_match_pytorch():
    torch = pytest.importorskip("torch")
    image = np.arange(24.0).reshape(1, 2, 3, 4)
    for pad, mode in [((1, 2), "constant"), ((1, 1, 2, 0), "reflect"),
                      ((2, 1, 1, 1), "replicate"), ((1, 2, 2, 1), "circular")]:
        ours = tg.nn.functional.pad(tg.tensor(image), pad, mode=mode).numpy()
        theirs = torch.nn.functional.pad(torch.tensor(image), pad, mode=mode).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=f"{pad} {mode}")
    labels = [0, 3, 1]
    assert tg.nn.functional.one_hot(tg.tensor(labels), 4).tolist() == \
        torch.nn.functional.one_hot(torch.tensor(labels), 4).tolist()
    with pytest.raises(ValueError, match="pairs"):
        tg.nn.functional.pad(tg.tensor(image), (1, 2, 3))

"""nn: Parameter and Module (registration, names, state), checkpoints, layers and initialisers.

Error tests check the message as well as the type, since the message is what tells a user
which key, which shape, or which file is wrong.
"""
import copy
import os
import zipfile

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import nn
from tinygrad_sm.gradcheck import gradcheck, gradgradcheck
from tinygrad_sm.nn import functional as F
from tinygrad_sm.nn import init


class MLP(nn.Module):
    def __init__(self, n_in=4, n_hidden=3, n_out=2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))
        self.scale = nn.Parameter(tg.ones(n_out))

    def forward(self, x):
        return self.net(x) * self.scale


def mlp(seed=0, **kwargs):
    tg.manual_seed(seed)
    return MLP(**kwargs)


# ---------------------------------------------------------------------- Parameter

def test_parameter_requires_grad_and_keeps_tensor_data():
    t = tg.tensor([1.0, 2.0], dtype="float64")
    p = nn.Parameter(t)
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float64 and p.device == "cpu"
    with tg.no_grad():
        p -= 1.0  # an optimizer's update must not reach the tensor it was made from
    assert t.tolist() == [1.0, 2.0] and p.tolist() == [0.0, 1.0]
    assert not nn.Parameter(np.zeros(3, np.float32), requires_grad=False).requires_grad
    array = np.zeros(3, np.float32)
    assert nn.Parameter(array)._array is not array  # updates must not write into the caller's array
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32


def test_parameter_ops_give_plain_tensors_and_repr():
    p = nn.Parameter(tg.ones(2))
    assert type(p * 2) is tg.Tensor
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameter_of_integers_is_refused():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


# ---------------------------------------------------------------------- registration

class Interleaved(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = nn.Parameter(tg.zeros(1))
        self.first = nn.Linear(2, 2)
        self.a = nn.Parameter(tg.zeros(2))
        self.second = nn.ReLU()
        self.plain = tg.zeros(3)  # a plain Tensor is not a parameter
        self.number = 3


def test_registration_keeps_definition_order():
    m = Interleaved()
    assert list(m._parameters) == ["b", "a"]
    assert list(m._modules) == ["first", "second"]
    assert [n for n, _ in m.named_parameters()] == ["b", "a", "first.weight", "first.bias"]
    assert [type(c).__name__ for c in m.children()] == ["Linear", "ReLU"]
    assert [n for n, _ in m.named_modules()] == ["", "first", "second"]
    assert len(list(m.modules())) == 3


def test_reassignment_keeps_position_and_none_unregisters():
    m = Interleaved()
    new_b = nn.Parameter(tg.ones(1))
    m.b = new_b
    assert list(m._parameters) == ["b", "a"] and m.b is new_b
    m.b = None
    assert list(m._parameters) == ["a"] and m.b is None
    del m.a
    assert list(m._parameters) == []
    with pytest.raises(AttributeError):
        m.a


def test_assigning_a_plain_value_over_a_parameter_is_refused():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign a Tensor to 'weight' of Linear.*Parameter"):
        m.weight = m.weight * 2
    s = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="sub-module"):
        setattr(s, "0", 3)


def test_unknown_attribute_raises_naming_class_and_name():
    m = nn.Linear(2, 3)
    with pytest.raises(AttributeError, match=r"'Linear' object has no attribute 'wieght'; "
                                             r"did you mean 'weight'\?"):
        m.wieght
    with pytest.raises(AttributeError, match=r"'MLP' object has no attribute 'layers'"):
        mlp().layers
    assert getattr(m, "missing", None) is None  # hasattr/getattr with a default still work


def test_assigning_before_super_init_is_explained():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.ones(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_named_parameters_dotted_names_and_order():
    names = [n for n, _ in mlp().named_parameters()]
    assert names == ["scale", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]
    assert list(mlp().parameters())[1].shape == (3, 4)


def test_shared_parameters_and_modules_are_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]


def test_call_runs_forward_and_missing_forward_is_an_error():
    m = mlp()
    x = tg.randn(5, 4)
    assert np.array_equal(m(x).numpy(), m.forward(x).numpy())

    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="NoForward"):
        NoForward()(x)


def test_zero_grad_sets_grads_to_none():
    m = mlp()
    m(tg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_train_and_eval_are_recursive_and_return_self():
    m = mlp()
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    assert m.train() is m
    assert all(mod.training for mod in m.modules())


def test_repr_is_like_pytorch():
    assert repr(mlp()) == (
        "MLP(\n"
        "  (net): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=3, out_features=2, bias=True)\n"
        "  )\n"
        ")")
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_to_moves_parameters_in_place(device):
    m = mlp()
    before = [id(p) for p in m.parameters()]
    values = m.state_dict()
    assert m.to(device) is m
    assert [id(p) for p in m.parameters()] == before
    for p in m.parameters():
        assert p.device == device and tg.backend.device_of(p._array) == device
    out = m(tg.randn(2, 4, device=device))
    assert out.device == device
    assert all(np.array_equal(values[k], v) for k, v in m.to("cpu").state_dict().items())


def test_state_round_trip_on_device(device, tmp_path):
    source = mlp(seed=1).to(device)
    source.save(tmp_path / "m.npz")
    target = mlp(seed=2).to(device).load(tmp_path / "m.npz")
    for name, p in target.named_parameters():
        assert p.device == device
        np.testing.assert_array_equal(p.numpy(), source.state_dict()[name])


def test_to_rejects_unknown_device():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mlp().to("tpu")


# ---------------------------------------------------------------------- state_dict

def test_state_dict_is_an_ordered_host_copy():
    m = mlp()
    state = m.state_dict()
    assert list(state) == [n for n, _ in m.named_parameters()]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["scale"][...] = 7.0
    assert np.all(m.scale.numpy() == 1.0)


def test_load_state_dict_round_trip_keeps_arrays_and_casts():
    source, target = mlp(seed=1), mlp(seed=2)
    arrays = {name: p._array for name, p in target.named_parameters()}
    state = {k: v.astype(np.float64) for k, v in source.state_dict().items()}
    target.load_state_dict(state)
    for name, p in target.named_parameters():
        assert p._array is arrays[name]  # written in place: optimizers keep working
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.numpy(), source.state_dict()[name])


def test_load_state_dict_missing_key():
    state = mlp().state_dict()
    del state["net.2.bias"]
    with pytest.raises(KeyError, match=r"missing keys \['net.2.bias'\].*same architecture"):
        mlp().load_state_dict(state)


def test_load_state_dict_unexpected_key():
    state = mlp().state_dict()
    state["net.3.weight"] = np.zeros((2, 2))
    with pytest.raises(KeyError, match=r"unexpected keys \['net.3.weight'\]"):
        mlp().load_state_dict(state)


def test_load_state_dict_wrong_shape_changes_nothing():
    model = mlp()
    before = model.state_dict()
    state = mlp(seed=5, n_hidden=5).state_dict()
    with pytest.raises(ValueError, match=r"'net.0.weight' has shape \(5, 4\) in the state but "
                                         r"\(3, 4\) in the model; build the model with the same"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_rejects_non_dict():
    with pytest.raises(TypeError, match="dict"):
        mlp().load_state_dict([1, 2])


# ---------------------------------------------------------------------- save / load

def test_save_load_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    source = mlp(seed=1)
    source.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    target = mlp(seed=2)
    assert target.load(path) is target
    for k, v in target.state_dict().items():
        np.testing.assert_array_equal(v, source.state_dict()[k])
    with np.load(path) as npz:  # an ordinary .npz file
        assert list(npz.files) == list(source.state_dict())


def test_save_writes_exactly_the_given_name(tmp_path):
    mlp().save(tmp_path / "checkpoint")
    assert os.listdir(tmp_path) == ["checkpoint"]
    mlp().load(str(tmp_path / "checkpoint"))


def test_a_parameter_named_like_a_savez_argument_is_saved(tmp_path):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.file = nn.Parameter(tg.ones(2))

    Odd().save(tmp_path / "odd.npz")
    assert Odd().load(tmp_path / "odd.npz").file.tolist() == [1.0, 1.0]


def test_crash_while_saving_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = mlp(seed=1)
    old.save(path)
    original = path.read_bytes()
    calls = []

    def write_then_crash(f, array, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # a few arrays in: the file on disk is half written
            f.write(b"partial")
            raise RuntimeError("simulated crash")
        return real_write(f, array, **kwargs)

    real_write = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        mlp(seed=2).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    restored = mlp(seed=3).load(path)
    np.testing.assert_array_equal(restored.state_dict()["net.0.weight"],
                                  old.state_dict()["net.0.weight"])


def test_save_into_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mlp().save(tmp_path / "nowhere" / "model.npz")


def test_load_missing_file_names_the_path(tmp_path):
    path = tmp_path / "absent.npz"
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        mlp().load(path)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_load_corrupt_file_names_the_path(tmp_path, damage):
    path = tmp_path / "model.npz"
    mlp().save(path)
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a checkpoint at all" * 10,
                      "truncated": data[: len(data) // 2], "empty": b""}[damage])
    with pytest.raises(ValueError, match=r"cannot read checkpoint .*model\.npz"):
        mlp().load(path)


def test_load_checkpoint_of_another_architecture(tmp_path):
    path = tmp_path / "small.npz"
    nn.Linear(4, 2).save(path)
    with pytest.raises(KeyError, match="missing keys"):
        mlp().load(path)


def test_checkpoint_is_a_zip_of_npy_members(tmp_path):
    path = tmp_path / "m.npz"
    mlp().save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == "scale.npy"


# ---------------------------------------------------------------------- Linear

def test_linear_shapes_and_names():
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    no_bias = nn.Linear(5, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    assert "bias=False" in repr(no_bias)


def test_linear_init_bounds_and_seed():
    tg.manual_seed(3)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound  # spread over the whole interval
    assert abs(layer.weight.numpy().mean()) < 0.01 * bound
    tg.manual_seed(3)
    again = nn.Linear(400, 300)
    np.testing.assert_array_equal(again.weight.numpy(), layer.weight.numpy())
    np.testing.assert_array_equal(again.bias.numpy(), layer.bias.numpy())


def test_linear_forward_and_backward_match_numpy():
    layer = nn.Linear(4, 3, dtype="float64")
    x = tg.randn(6, 4, dtype="float64", requires_grad=True)
    out = layer(x)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(out.numpy(), x.numpy() @ w.T + b, rtol=1e-12)
    g = np.random.default_rng(0).standard_normal((6, 3))
    out.backward(tg.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g @ w, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), g.T @ x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), g.sum(0), rtol=1e-12)


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), (6, 4)])
def test_linear_gradcheck_any_leading_axes(shape):
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal(shape), requires_grad=True)
    w = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(3), requires_grad=True)
    assert F.linear(x, w, b).shape == shape[:-1] + (3,)
    assert gradcheck(F.linear, [x, w, b])
    assert gradcheck(lambda x, w: F.linear(x, w), [x, w])
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b) ** 2, [x, w, b])


def test_linear_dtype_device_and_errors():
    assert nn.Linear(2, 2, dtype=tg.float64).weight.dtype == np.float64
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match=r"input of shape \(5, 3\) does not fit a weight of "
                                         r"shape \(2, 4\)"):
        nn.Linear(4, 2)(tg.zeros(5, 3))


def test_linear_learns_gradients_only_where_needed():
    layer = nn.Linear(3, 2)
    x = tg.randn(4, 3)  # data: no gradient wanted
    layer(x).sum().backward()
    assert x.grad is None and layer.weight.grad.shape == (2, 3)


# ---------------------------------------------------------------------- Sequential, Flatten, ReLU

def test_sequential_indexing_len_iteration():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == [b, c]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = tg.randn(4, 2)
    np.testing.assert_array_equal(seq(x).numpy(), c(b(a(x))).numpy())
    with pytest.raises(IndexError, match="out of range"):
        seq[3]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="argument 1 is a function, not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_flatten():
    x = tg.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    with pytest.raises(ValueError, match=r"does not fit an input of shape \(7,\)"):
        nn.Flatten()(tg.zeros(7))


def test_relu_values_and_gradient():
    x = tg.tensor([-2.0, -0.5, 0.5, 3.0], requires_grad=True)
    y = nn.ReLU()(x)
    assert y.tolist() == [0.0, 0.0, 0.5, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 1.0]


def test_softmax_regression_model_end_to_end():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x = tg.randn(8, 1, 4, 4)
    loss = F.cross_entropy(model(x), np.arange(8) % 3)
    loss.backward()
    assert model[1].weight.grad.shape == (3, 16)


# ---------------------------------------------------------------------- init

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_init_in_place_keeps_dtype_device_and_array(device, dtype):
    t = tg.zeros(200, 100, dtype=dtype, device=device)
    array = t._array
    for fill in (init.normal_, init.uniform_, init.zeros_, init.xavier_uniform_):
        assert fill(t) is t
        assert t._array is array and t.dtype == dtype and t.device == device


def test_normal_statistics_and_seed():
    t = tg.zeros(400, 500)
    tg.manual_seed(0)
    init.normal_(t, mean=2.0, std=0.5)
    values = t.numpy()
    assert abs(values.mean() - 2.0) < 0.01 and abs(values.std() - 0.5) < 0.01
    tg.manual_seed(0)
    np.testing.assert_array_equal(init.normal_(tg.zeros(400, 500), 2.0, 0.5).numpy(), values)


def test_uniform_and_zeros():
    t = init.uniform_(tg.zeros(1000), -3.0, -1.0)
    assert t.numpy().min() >= -3.0 and t.numpy().max() <= -1.0
    assert abs(t.numpy().mean() + 2.0) < 0.1
    assert not init.zeros_(t).numpy().any()


def test_xavier_uniform_bound():
    t = init.xavier_uniform_(tg.zeros(30, 70), gain=2.0)
    bound = 2.0 * np.sqrt(6 / (30 + 70))
    assert np.abs(t.numpy()).max() <= bound and np.abs(t.numpy()).max() > 0.9 * bound
    conv = init.xavier_uniform_(tg.zeros(8, 4, 3, 3))  # fans include the receptive field
    assert np.abs(conv.numpy()).max() <= np.sqrt(6 / (4 * 9 + 8 * 9))


def test_init_errors():
    with pytest.raises(ValueError, match=r"at least 2 dimensions .* got shape \(5,\)"):
        init.xavier_uniform_(tg.zeros(5))
    with pytest.raises(ValueError, match="std >= 0"):
        init.normal_(tg.zeros(3), std=-1.0)
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(tg.zeros(3), 1.0, 0.0)
    with pytest.raises(TypeError, match="floating-point tensors, but this one is int64"):
        init.zeros_(tg.tensor([1, 2]))
    with pytest.raises(TypeError, match="expects a Tensor"):
        init.normal_(np.zeros(3))


def test_init_records_no_graph():
    p = nn.Parameter(tg.zeros(3, 3))
    init.normal_(p)
    assert p.is_leaf and p.grad is None and p.requires_grad


def test_deepcopy_gives_an_independent_module():
    m = mlp()
    clone = copy.deepcopy(m)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in m.named_parameters()]
    assert all(a._array is not b._array for a, b in zip(clone.parameters(), m.parameters()))
    assert isinstance(clone.scale, nn.Parameter)

"""tinygrad_sm.utils.data: Dataset, TensorDataset, DataLoader and default_collate, with
PyTorch's behaviour (checked against torch.utils.data where PyTorch is installed)."""
import math
from collections import namedtuple

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm.tensor import Tensor
from tinygrad_sm.utils import data


def dataset(n=23):
    X = tg.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = tg.tensor(np.arange(n) % 4)
    return X, y, data.TensorDataset(X, y)


class PerExample(data.Dataset):
    """A user's own map-style dataset: only __getitem__(int) and __len__."""

    def __init__(self, X, y):
        self.X, self.y, self.calls = X, y, 0

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        self.calls += 1
        return self.X[i], int(self.y[i])


# --------------------------------------------------------------------------- TensorDataset

def test_tensor_dataset_indexes_each_tensor():
    X, y, ds = dataset()
    assert len(ds) == 23 and ds.tensors[0] is X and ds.tensors[1] is y
    x5, y5 = ds[5]
    assert isinstance(x5, Tensor) and x5.tolist() == [15.0, 16.0, 17.0] and int(y5) == 1


@pytest.mark.parametrize("tensors, error, words", [
    ((), ValueError, "at least one tensor"),
    ((tg.zeros(3), tg.zeros(4)), ValueError, "[3, 4]"),
    ((tg.zeros(3), [1, 2, 3]), TypeError, "argument 1 is a list"),
    ((tg.tensor(1.0),), ValueError, "0-d"),
])
def test_tensor_dataset_refuses_what_it_cannot_index(tensors, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        data.TensorDataset(*tensors)


# --------------------------------------------------------------------------- DataLoader

@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (5, False), (5, True), (23, False), (30, True)])
def test_len_is_the_number_of_batches(batch_size, drop_last):
    _, _, ds = dataset()
    loader = data.DataLoader(ds, batch_size, drop_last=drop_last)
    batches = list(loader)
    expected = 23 // batch_size if drop_last else math.ceil(23 / batch_size)
    assert len(loader) == len(batches) == expected


def test_batches_in_order_without_shuffle_and_a_list_per_batch():
    X, y, ds = dataset()
    batches = list(data.DataLoader(ds, batch_size=10))
    assert all(isinstance(b, list) and len(b) == 2 for b in batches)
    assert [b[0].shape for b in batches] == [(10, 3), (10, 3), (3, 3)]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), X.numpy())
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y.numpy())
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_shuffle_visits_every_example_once_in_a_new_order_each_epoch():
    _, y, ds = dataset(200)
    loader = data.DataLoader(ds, batch_size=16, shuffle=True)
    orders = []
    for _ in range(2):
        rows = np.concatenate([X[:, 0].numpy() for X, _ in loader]) / 3
        assert sorted(rows.tolist()) == list(range(200))
        orders.append(rows.tolist())
    assert orders[0] != orders[1] and orders[0] != list(range(200))


def test_next_iter_gives_the_first_batch_and_manual_seed_repeats_the_shuffle():
    _, _, ds = dataset(50)
    tg.manual_seed(3)
    first = next(iter(data.DataLoader(ds, 8, shuffle=True)))[0].numpy()
    tg.manual_seed(3)
    again = next(iter(data.DataLoader(ds, 8, shuffle=True)))[0].numpy()
    np.testing.assert_array_equal(first, again)
    a = [b[1].tolist() for b in data.DataLoader(ds, 8, shuffle=True, seed=1)]
    b = [b[1].tolist() for b in data.DataLoader(ds, 8, shuffle=True, seed=1)]
    assert a == b


def test_whole_array_batches_never_index_one_example(monkeypatch):
    _, _, ds = dataset(1000)
    loader = data.DataLoader(ds, batch_size=100, shuffle=True)

    def refuse(*args):
        raise AssertionError("a whole-array batch indexed a tensor")

    monkeypatch.setattr(Tensor, "__getitem__", refuse)
    assert sum(len(y) for _, y in loader) == 1000


def test_a_users_dataset_is_read_per_example_and_gives_the_same_batches():
    X, y, ds = dataset()
    mine = PerExample(X, y)
    for (xa, ya), (xb, yb) in zip(data.DataLoader(ds, 7), data.DataLoader(mine, 7)):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
        assert xb.dtype == xa.dtype and yb.dtype == np.int64
    assert mine.calls == 23
    assert len(data.DataLoader(mine, 7)) == 4


def test_a_subclass_that_redefines_getitem_is_read_through_it():
    X, y, _ = dataset(6)

    class Doubled(data.TensorDataset):
        def __getitem__(self, i):
            x, label = super().__getitem__(i)
            return x * 2, label

    X_batch, _ = next(iter(data.DataLoader(Doubled(X, y), 6)))
    np.testing.assert_array_equal(X_batch.numpy(), 2 * X.numpy())


def test_a_plain_list_of_pairs_is_a_dataset():
    pairs = [(np.full(2, i, dtype=np.float32), i) for i in range(5)]
    x, labels = next(iter(data.DataLoader(pairs, 5)))
    assert x.shape == (5, 2) and x.dtype == np.float32 and labels.tolist() == [0, 1, 2, 3, 4]


def test_collate_fn_is_used_even_for_a_tensor_dataset():
    _, _, ds = dataset(6)
    batches = list(data.DataLoader(ds, 4, collate_fn=lambda examples: len(examples)))
    assert batches == [4, 2]


def test_num_workers_and_pin_memory_are_accepted_and_change_nothing():
    _, _, ds = dataset()
    plain = [b[1].tolist() for b in data.DataLoader(ds, 5)]
    workers = [b[1].tolist() for b in data.DataLoader(ds, 5, num_workers=4, pin_memory=True)]
    assert plain == workers
    with pytest.raises(ValueError, match="num_workers"):
        data.DataLoader(ds, 5, num_workers=-1)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_a_bad_batch_size_is_refused(batch_size):
    _, _, ds = dataset()
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(ds, batch_size)


def test_something_that_is_no_dataset_is_refused():
    with pytest.raises(TypeError, match="map-style dataset"):
        data.DataLoader(42, 1)
    with pytest.raises(NotImplementedError, match="__len__"):
        data.DataLoader(data.Dataset(), 1)


def test_device_moves_per_example_batches_too():
    mine = PerExample(*dataset(4)[:2])
    X, y = next(iter(data.DataLoader(mine, 4, device="cpu")))
    assert X.device == "cpu" and y.device == "cpu"


# --------------------------------------------------------------------------- default_collate

def test_default_collate_follows_pytorchs_rules():
    Pair = namedtuple("Pair", ["a", "b"])
    batch = data.default_collate([
        {"x": tg.ones(2), "n": 1, "f": 0.5, "s": "one", "p": Pair(1, 2.0), "v": np.zeros(3, np.float32)},
        {"x": tg.zeros(2), "n": 2, "f": 1.5, "s": "two", "p": Pair(3, 4.0), "v": np.ones(3, np.float32)},
    ])
    assert batch["x"].shape == (2, 2) and batch["x"].tolist() == [[1, 1], [0, 0]]
    assert batch["n"].dtype == np.int64 and batch["f"].dtype == np.float64
    assert batch["s"] == ["one", "two"]
    assert isinstance(batch["p"], Pair) and batch["p"].a.tolist() == [1, 3]
    assert batch["v"].dtype == np.float32 and batch["v"].shape == (2, 3)
    assert data.default_collate([True, False]).dtype == np.bool_
    assert data.default_collate([np.float32(1), np.float32(2)]).dtype == np.float32


@pytest.mark.parametrize("batch, error, words", [
    ([tg.zeros(2), tg.zeros(3)], ValueError, "different shapes"),
    ([(1, 2), (1,)], ValueError, "different numbers of fields"),
    ([object(), object()], TypeError, "object"),
    ([], ValueError, "empty"),
])
def test_default_collate_explains_what_it_cannot_join(batch, error, words):
    with pytest.raises(error, match=words):
        data.default_collate(batch)


# --------------------------------------------------------------------------- against PyTorch

def test_batches_match_pytorchs():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    X, y, ds = dataset()
    ours = list(data.DataLoader(ds, 6))
    theirs = list(tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(X.numpy()),
                                                       torch.from_numpy(y.numpy())), 6))
    assert len(ours) == len(theirs) and type(ours[0]) is type(theirs[0])
    for ob, tb in zip(ours, theirs):
        for o, t in zip(ob, tb):
            assert o.shape == tuple(t.shape) and str(o.dtype) == str(t.dtype).replace("torch.", "")
            np.testing.assert_array_equal(o.numpy(), t.numpy())
    for drop_last in (False, True):
        assert len(data.DataLoader(ds, 5, drop_last=drop_last)) == len(
            tdata.DataLoader(tdata.TensorDataset(torch.zeros(23)), 5, drop_last=drop_last))


def test_default_collate_matches_pytorchs():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    cases = [[1, 2, 3], [0.5, 1.5], [True, False], [(1, 2.0), (3, 4.0)], [[1, 2], [3, 4]],
             [np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)],
             [np.float32(1), np.float32(2)], [{"a": 1}, {"a": 2}]]

    def flat(value):
        if isinstance(value, dict):
            return {k: flat(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(flat(v) for v in value)
        if isinstance(value, Tensor):
            return ("tensor", str(value.dtype), value.tolist())
        if isinstance(value, torch.Tensor):
            return ("tensor", str(value.dtype).replace("torch.", ""), value.tolist())
        return value

    for case in cases:
        assert flat(data.default_collate(case)) == flat(torch_collate(case)), case

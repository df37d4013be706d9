"""ArrayDataset, DataLoader and synthetic_data.

The central property: in every epoch each example is yielded exactly once, in batches of
``batch_size`` (the last one smaller unless ``drop_last``), whatever the shuffling.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_sm import backend, random
from tinygrad_sm.data import ArrayDataset, DataLoader, synthetic_data
from tinygrad_sm.tensor import Tensor

DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not backend.cuda_available(), reason="needs CuPy and an NVIDIA GPU")])]


def host(tensor):
    return backend.to_device(tensor._array, "cpu")


def indices_dataset(n):
    """Examples that are their own index (twice, to check the arrays stay aligned)."""
    return ArrayDataset(np.arange(n), np.arange(n) * 10)


def epoch(loader):
    """The index batches of one epoch, checking alignment of the two arrays on the way."""
    batches = []
    for a, b in loader:
        np.testing.assert_array_equal(host(b), host(a) * 10)
        batches.append(host(a))
    return batches


# --- ArrayDataset ----------------------------------------------------------------------------

def test_array_dataset_gathers_from_each_array():
    x = np.arange(12).reshape(6, 2)
    y = np.arange(6) + 100
    ds = ArrayDataset(x, y)
    assert len(ds) == 6
    bx, by = ds[np.array([5, 0, 5])]
    np.testing.assert_array_equal(bx, x[[5, 0, 5]])
    np.testing.assert_array_equal(by, [105, 100, 105])


def test_array_dataset_lengths_must_match():
    with pytest.raises(ValueError, match=r"same length.*\[6, 5\]"):
        ArrayDataset(np.zeros((6, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="at least one array"):
        ArrayDataset()
    with pytest.raises(ValueError, match="array 1 has no length"):
        ArrayDataset(np.zeros(3), np.float32(1))


def test_array_dataset_transform_runs_per_batch():
    calls = []

    def transform(images, labels):
        calls.append(len(images))
        return images.astype(np.float32) / 255, labels

    ds = ArrayDataset(np.full((5, 2, 2), 255, np.uint8), np.arange(5), transform=transform)
    x, y = ds[np.array([1, 2])]
    assert x.dtype == np.float32 and np.all(x == 1) and calls == [2]
    assert ds.arrays[0].dtype == np.uint8  # the stored data is untouched


# --- DataLoader: coverage and batch sizes ------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shuffle", [False, True])
def test_each_example_once_per_epoch(shuffle, device):
    loader = DataLoader(indices_dataset(103), batch_size=10, shuffle=shuffle, seed=0, device=device)
    for _ in range(3):
        batches = epoch(loader)
        assert [len(b) for b in batches] == [10] * 10 + [3]
        seen = np.concatenate(batches)
        np.testing.assert_array_equal(np.sort(seen), np.arange(103))
        if not shuffle:
            np.testing.assert_array_equal(seen, np.arange(103))


@pytest.mark.parametrize("shuffle", [False, True])
def test_drop_last(shuffle):
    loader = DataLoader(indices_dataset(103), batch_size=10, shuffle=shuffle, drop_last=True, seed=1)
    batches = epoch(loader)
    assert [len(b) for b in batches] == [10] * 10
    seen = np.concatenate(batches)
    assert len(np.unique(seen)) == 100
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(100))


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 60), batch_size=st.integers(1, 25), shuffle=st.booleans(), drop_last=st.booleans(),
       seed=st.integers(0, 2**32))
def test_coverage_property(n, batch_size, shuffle, drop_last, seed):
    loader = DataLoader(indices_dataset(n), batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed)
    batches = epoch(loader)
    assert len(batches) == len(loader)
    assert all(len(b) == batch_size for b in batches[:-1])
    seen = np.concatenate(batches) if batches else np.array([], dtype=int)
    assert len(np.unique(seen)) == len(seen)  # nothing twice
    if drop_last:
        assert len(seen) == n - n % batch_size
    else:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))  # everything once


@pytest.mark.parametrize("n, batch_size, drop_last, expected", [
    (100, 10, False, 10), (100, 10, True, 10), (101, 10, False, 11), (101, 10, True, 10),
    (9, 10, False, 1), (9, 10, True, 0), (0, 4, False, 0), (1, 1, False, 1),
])
def test_len_is_the_number_of_batches(n, batch_size, drop_last, expected):
    loader = DataLoader(indices_dataset(n), batch_size, drop_last=drop_last)
    assert len(loader) == expected == len(list(loader))


def test_partial_last_batch():
    *_, last = DataLoader(indices_dataset(25), batch_size=8)
    assert host(last[0]).tolist() == [24]


@pytest.mark.parametrize("bad", [0, -3, 2.0, 1.5, True, "8", None])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(indices_dataset(5), batch_size=bad)


def test_numpy_integer_batch_size():
    assert len(DataLoader(indices_dataset(10), batch_size=np.int64(4))) == 3


# --- DataLoader: shuffling ----------------------------------------------------------------------

def test_seed_repeats_across_loaders_and_changes_per_epoch():
    a = DataLoader(indices_dataset(50), 7, shuffle=True, seed=42)
    b = DataLoader(indices_dataset(50), 7, shuffle=True, seed=42)
    epochs_a = [np.concatenate(epoch(a)) for _ in range(3)]
    epochs_b = [np.concatenate(epoch(b)) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])  # a fresh order each epoch
    other = np.concatenate(epoch(DataLoader(indices_dataset(50), 7, shuffle=True, seed=43)))
    assert not np.array_equal(other, epochs_a[0])


def test_without_seed_shuffles_from_the_library_generator():
    loader = DataLoader(indices_dataset(50), 7, shuffle=True)
    random.manual_seed(5)
    first = np.concatenate(epoch(loader))
    random.manual_seed(5)
    again = np.concatenate(epoch(loader))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, np.arange(50))


# --- DataLoader: what it yields -------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_yields_tensors_on_the_device(device):
    images = np.random.default_rng(0).integers(0, 256, (9, 3, 3), dtype=np.uint8)
    labels = np.arange(9, dtype=np.int64)
    ds = ArrayDataset(images, labels, transform=lambda x, y: (x.astype(np.float32) / 255, y))
    batches = list(DataLoader(ds, batch_size=4, device=device))
    x, y = batches[0]
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.device == device and y.device == device
    assert x._array.dtype == np.float32 and y._array.dtype == np.int64
    assert x.shape == (4, 3, 3) and not x.requires_grad
    np.testing.assert_allclose(host(x), images[:4] / np.float32(255))
    assert backend.device_of(x._array) == device


def test_default_device_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(backend.DEVICE_ENV, "cpu")
    assert DataLoader(indices_dataset(3), 2).device == "cpu"
    monkeypatch.setenv(backend.DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        DataLoader(indices_dataset(3), 2)


def test_any_dataset_with_len_and_getitem():
    class Squares:
        def __len__(self):
            return 10

        def __getitem__(self, indices):
            return (indices ** 2,)

    seen = np.concatenate([host(s) for (s,) in DataLoader(Squares(), 3, shuffle=True, seed=0)])
    np.testing.assert_array_equal(np.sort(seen), np.arange(10) ** 2)


@pytest.mark.cuda
@pytest.mark.skipif(not backend.cuda_available(), reason="needs CuPy and an NVIDIA GPU")
def test_cuda_moves_the_dataset_once_and_matches_cpu():
    ds = indices_dataset(40)
    gpu = DataLoader(ds, 6, shuffle=True, seed=9, device="cuda")
    assert all(backend.device_of(a) == "cuda" for a in gpu._source.arrays)
    assert all(backend.device_of(a) == "cpu" for a in ds.arrays)  # the user's dataset is untouched
    cpu = DataLoader(ds, 6, shuffle=True, seed=9, device="cpu")
    for (g, _), (c, _) in zip(gpu, cpu):
        np.testing.assert_array_equal(host(g), host(c))


# --- synthetic_data ---------------------------------------------------------------------------

@pytest.mark.parametrize("make_w", [list, np.array, lambda w: Tensor(np.array(w, dtype=np.float32))],
                         ids=["list", "numpy", "tensor"])
def test_synthetic_data(make_w):
    random.manual_seed(0)
    X, y = synthetic_data(make_w([2.0, -3.4]), 4.2, 1000)
    assert isinstance(X, Tensor) and isinstance(y, Tensor)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    assert X._array.dtype == np.float32 and y._array.dtype == np.float32
    residual = y._array[:, 0] - (X._array @ np.array([2.0, -3.4]) + 4.2)
    assert abs(residual.mean()) < 0.002 and 0.008 < residual.std() < 0.012  # the N(0, 0.01) noise
    assert abs(X._array.mean()) < 0.1 and abs(X._array.std() - 1) < 0.1


def test_synthetic_data_is_repeatable_with_manual_seed():
    random.manual_seed(3)
    X1, y1 = synthetic_data([1.0], 0.0, 5)
    random.manual_seed(3)
    X2, y2 = synthetic_data(np.array([1.0]), np.array([0.0]), 5)
    np.testing.assert_array_equal(X1._array, X2._array)
    np.testing.assert_array_equal(y1._array, y2._array)


def test_synthetic_data_rejects_bad_arguments():
    with pytest.raises(ValueError, match="b must be a single number"):
        synthetic_data([1.0, 2.0], [1.0, 2.0], 5)
    with pytest.raises(ValueError, match="num_examples"):
        synthetic_data([1.0], 0.0, -1)

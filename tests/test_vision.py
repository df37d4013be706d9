"""tinygrad_sm.vision: datasets.FashionMNIST and the transforms, held to torchvision's contract
(torchvision itself is not installed here, and need not be): ToTensor gives (C, H, W) float32
from uint8 (H, W[, C]) divided by 255; Resize keeps the aspect ratio for an int size; the data
set gives (image, int label), 60,000 / 10,000 of them; a DataLoader batch of it is
(B, 1, 28, 28) float32 with int64 labels (B,)."""
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import tinygrad_sm as tg
from tinygrad_sm import vision as torchvision
from tinygrad_sm.data import fashion_mnist as fm
from tinygrad_sm.utils import data
from tinygrad_sm.vision import datasets, transforms

SYSTEM_FILES = Path(fm.SYSTEM_DIR)


@functools.lru_cache(maxsize=1)
def real_data():
    try:
        return fm.load_fashion_mnist(download=False)
    except fm.FashionMNISTNotFoundError:
        return None


@pytest.fixture
def fashion(monkeypatch):
    """The real data set (as arrays), or a skip; a failure where TINYGRAD_SM_REQUIRE_DATA is set."""
    loaded = real_data()
    if loaded is None:
        if os.environ.get("TINYGRAD_SM_REQUIRE_DATA"):
            pytest.fail("Fashion-MNIST is not installed, and TINYGRAD_SM_REQUIRE_DATA is set")
        pytest.skip("Fashion-MNIST is not installed here; apt-get install dataset-fashion-mnist")
    return loaded


def image(h=5, w=7, channels=None, seed=0):
    shape = (h, w) if channels is None else (h, w, channels)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --------------------------------------------------------------------------- ToTensor

def test_to_tensor_is_channels_first_float32_divided_by_255():
    img = image()
    x = transforms.ToTensor()(img)
    assert isinstance(x, tg.Tensor) and x.shape == (1, 5, 7) and x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy()[0], img.astype(np.float32) / np.float32(255))
    rgb = image(channels=3)
    np.testing.assert_array_equal(transforms.ToTensor()(rgb).numpy(),
                                  rgb.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert float(transforms.ToTensor()(np.full((2, 2), 255, np.uint8)).max()) == 1.0


def test_to_tensor_keeps_other_dtypes_as_torchvision_does():
    floats = np.linspace(0, 3, 12, dtype=np.float64).reshape(3, 4)
    x = transforms.ToTensor()(floats)
    assert x.dtype == np.float64 and x.shape == (1, 3, 4)
    np.testing.assert_array_equal(x.numpy()[0], floats)


@pytest.mark.parametrize("pic, words", [(tg.zeros(1, 2, 2), "already a tensor image"),
                                        (np.zeros((1, 2, 2, 3), np.uint8), r"shape \(1, 2, 2, 3\)"),
                                        (np.array(["a"]), "numbers")])
def test_to_tensor_refuses_what_is_no_image(pic, words):
    with pytest.raises(TypeError, match=words):
        transforms.ToTensor()(pic)


def test_to_tensor_batch_equals_the_examples_stacked():
    for channels in (None, 3):
        imgs = np.stack([image(channels=channels, seed=s) for s in range(4)])
        batch = transforms.ToTensor().batch(imgs)
        each = np.stack([transforms.ToTensor()(img).numpy() for img in imgs])
        assert batch.dtype == np.float32
        np.testing.assert_array_equal(batch, each)


# --------------------------------------------------------------------------- Resize

@pytest.mark.parametrize("size, hw, expected", [
    (64, (28, 28), (64, 64)), ((32, 48), (28, 28), (32, 48)), ([10], (20, 40), (10, 20)),
    (10, (40, 20), (20, 10)), (14, (28, 30), (14, 15))])
def test_resize_sizes_follow_torchvision(size, hw, expected):
    resize = transforms.Resize(size)
    assert resize.output_size(*hw) == expected
    assert resize(image(*hw)).shape == expected
    assert resize(tg.zeros(3, *hw)).shape == (3, *expected)


def test_resize_to_the_same_size_changes_nothing():
    img = image(28, 28)
    assert transforms.Resize((28, 28))(img) is img


def test_resize_keeps_an_image_uint8_and_a_tensor_image_float():
    img = image(6, 6)
    out = transforms.Resize(12)(img)
    assert out.dtype == np.uint8
    as_float = transforms.Resize(12)(transforms.ToTensor()(img))
    assert as_float.dtype == np.float32
    # Resizing then converting and converting then resizing differ by uint8 rounding only.
    np.testing.assert_allclose(transforms.ToTensor()(out).numpy(), as_float.numpy(), atol=0.5 / 255 + 1e-6)


def test_resize_is_bilinear_with_aligned_pixel_centres_as_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).random((2, 3, 9, 7)).astype(np.float32)
    for size in [(20, 15), (9, 7), (4, 5)]:
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bilinear",
                                                   align_corners=False, antialias=False).numpy()
        np.testing.assert_allclose(transforms.Resize(size).batch(x), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(transforms.Resize(size)(tg.tensor(x[0])).numpy(), expected[0],
                                   rtol=1e-5, atol=1e-6)


def test_resize_batch_equals_the_examples_stacked():
    imgs = np.stack([image(28, 28, seed=s) for s in range(3)])
    resize = transforms.Resize(64)
    np.testing.assert_array_equal(resize.batch(imgs), np.stack([resize(img) for img in imgs]))
    tensors = transforms.ToTensor().batch(imgs)
    np.testing.assert_array_equal(resize.batch(tensors),
                                  np.stack([resize(tg.tensor(t)).numpy() for t in tensors]))


@pytest.mark.parametrize("size", [0, -3, (1, 2, 3), 2.5, True, (4, 0)])
def test_resize_refuses_a_bad_size(size):
    with pytest.raises(ValueError, match="Resize"):
        transforms.Resize(size)


# --------------------------------------------------------------------------- the others

def test_normalize_is_per_channel():
    x = tg.tensor(np.random.default_rng(2).random((3, 4, 4)).astype(np.float32))
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    out = transforms.Normalize(mean, std)(x)
    # torchvision computes in the image's dtype: x.sub_(mean).div_(std)
    mean32, std32 = (np.array(v, np.float32)[:, None, None] for v in (mean, std))
    expected = (x.numpy() - mean32) / std32
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(transforms.Normalize(mean, std).batch(x.numpy()[None])[0], expected)
    with pytest.raises(ValueError, match="2 values but the image has 3 channels"):
        transforms.Normalize([0, 0], [1, 1])(x)
    with pytest.raises(ValueError, match="must not contain 0"):
        transforms.Normalize(0, 0)


def test_compose_applies_in_order_and_batches_when_all_can():
    trans = transforms.Compose([transforms.Resize(14), transforms.ToTensor()])
    x = trans(image(28, 28))
    assert x.shape == (1, 14, 14) and x.dtype == np.float32
    assert transforms.supports_batch(trans) and transforms.supports_batch(None)
    with_lambda = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda t: t * 2)])
    assert not transforms.supports_batch(with_lambda)
    np.testing.assert_array_equal(with_lambda(image()).numpy(), 2 * transforms.ToTensor()(image()).numpy())
    with pytest.raises(TypeError, match="one example only"):
        with_lambda.batch(np.stack([image()]))
    with pytest.raises(TypeError, match="not a transform"):
        transforms.Compose([transforms.ToTensor(), 3])


# --------------------------------------------------------------------------- FashionMNIST

def test_the_books_dataset_calls_give_torchvisions_shapes(fashion):
    trans = transforms.ToTensor()
    mnist_train = torchvision.datasets.FashionMNIST(root="../data", train=True, transform=trans, download=True)
    mnist_test = torchvision.datasets.FashionMNIST(root="../data", train=False, transform=trans, download=True)
    assert (len(mnist_train), len(mnist_test)) == (60000, 10000)
    x, label = mnist_train[0]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and type(label) is int
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    np.testing.assert_array_equal(x.numpy()[0], fashion.train_images[0] / np.float32(255))
    assert label == fashion.train_labels[0]
    assert mnist_test.data.dtype == np.uint8 and mnist_test.data.shape == (10000, 28, 28)
    assert mnist_test.targets.dtype == np.int64 and mnist_test.classes[9] == "Ankle boot"

    X, y = next(iter(data.DataLoader(mnist_train, batch_size=256)))
    assert X.shape == (256, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (256,) and y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), fashion.train_labels[:256])


def test_without_a_transform_an_example_is_a_uint8_image_and_a_copy(fashion):
    ds = datasets.FashionMNIST(root=None, train=False)
    img, label = ds[3]
    assert img.dtype == np.uint8 and img.shape == (28, 28) and label == fashion.test_labels[3]
    img[:] = 0
    assert ds[3][0].any()  # changing the example left the data set alone
    with pytest.raises(TypeError, match="use a DataLoader"):
        ds[np.arange(3)]


def test_whole_array_batches_equal_per_example_batches(fashion, monkeypatch):
    trans = transforms.Compose([transforms.Resize(32), transforms.ToTensor()])
    fast = datasets.FashionMNIST(root=None, train=False, transform=trans)
    slow = datasets.FashionMNIST(root=None, train=False, transform=transforms.Lambda(trans),
                                 target_transform=lambda label: label)
    for (xa, ya), (xb, yb) in zip(data.DataLoader(fast, 100), data.DataLoader(slow, 100)):
        assert xa.shape == xb.shape == (100, 1, 32, 32)
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
        break
    monkeypatch.setattr(datasets.FashionMNIST, "__getitem__",
                        lambda self, i: pytest.fail("a whole-array batch read one example"))
    assert sum(len(y) for _, y in data.DataLoader(fast, 1000, shuffle=True)) == 10000


def test_resize_works_per_batch_and_never_on_the_whole_data_set(fashion):
    trans = transforms.Compose([transforms.Resize(64), transforms.ToTensor()])
    ds = datasets.FashionMNIST(root=None, train=True, transform=trans)
    assert ds.data.shape == (60000, 28, 28)  # the stored images stay 28x28 uint8
    X, y = next(iter(data.DataLoader(ds, 32, shuffle=True)))
    assert X.shape == (32, 1, 64, 64) and X.dtype == np.float32 and y.dtype == np.int64


def link_files(directory):
    directory.mkdir(parents=True, exist_ok=True)
    files, _ = fm.find_files(SYSTEM_FILES)
    for path in files.values():
        (directory / path.name).symlink_to(path)
    return directory


def test_the_files_are_found_in_root_or_where_torchvision_keeps_them(fashion, tmp_path, monkeypatch):
    monkeypatch.delenv(fm.DIR_ENV, raising=False)
    flat = link_files(tmp_path / "flat")
    assert datasets.FashionMNIST(root=flat).source == flat
    nested = link_files(tmp_path / "data" / "FashionMNIST" / "raw")
    assert datasets.FashionMNIST(root=tmp_path / "data").source == nested
    # root comes before $FASHION_MNIST_DIR, which comes before the rest
    monkeypatch.setenv(fm.DIR_ENV, str(nested))
    assert datasets.FashionMNIST(root=flat).source == flat
    assert datasets.FashionMNIST(root=tmp_path / "nowhere").source == nested


def test_a_missing_root_falls_back_to_the_system_copy(fashion, tmp_path, monkeypatch):
    if not fm.find_files(SYSTEM_FILES)[0]:
        pytest.skip("the data set is not in the system directory here")
    monkeypatch.delenv(fm.DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    ds = datasets.FashionMNIST(root="../data", train=False, download=False)
    assert ds.source == SYSTEM_FILES and len(ds) == 10000


def test_nothing_anywhere_names_root_and_the_fixes(tmp_path, monkeypatch):
    monkeypatch.delenv(fm.DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fm, "SYSTEM_DIR", str(tmp_path / "system"))
    with pytest.raises(fm.FashionMNISTNotFoundError) as info:
        datasets.FashionMNIST(root=tmp_path / "data", download=False)
    message = str(info.value)
    assert str(tmp_path / "data") in message and "FashionMNIST/raw" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_download_true_downloads_into_the_cache(fashion, tmp_path, monkeypatch):
    """With no copy anywhere, download=True fetches the files (here from a local server)."""
    served = tmp_path / "served"
    served.mkdir()
    for name in fm.FILE_NAMES:
        source = SYSTEM_FILES / f"{name}.gz"
        if not source.is_file():
            pytest.skip("the system copy is not gzipped files to serve")
        shutil.copy(source, served / f"{name}.gz")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.delenv(fm.DIR_ENV, raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.setenv(fm.URL_ENV, f"http://127.0.0.1:{server.server_address[1]}/")
        monkeypatch.setattr(fm, "SYSTEM_DIR", str(tmp_path / "system"))
        ds = datasets.FashionMNIST(root=tmp_path / "data", train=False, download=True)
    finally:
        server.shutdown()
        server.server_close()
    assert ds.source == tmp_path / "cache" / "tinygrad_sm" / "fashion-mnist" and len(ds) == 10000
    np.testing.assert_array_equal(ds.targets.numpy(), fashion.test_labels)


def test_a_transform_that_is_not_callable_is_refused(fashion):
    with pytest.raises(TypeError, match="transform must be callable"):
        datasets.FashionMNIST(root=None, transform="ToTensor")

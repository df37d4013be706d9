"""Fashion-MNIST: where it is looked for, the download (against a local HTTP server), the checks.

The tests write tiny Fashion-MNIST look-alikes (a few 28x28 images) and point every source
(cache, system directory, download URL, checksum table) at temporary places, so nothing here
reads the user's files or touches the network. One test loads the real copy from the Debian
package when it is installed.
"""
import functools
import gzip
import hashlib
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from helpers import peak_memory
from tinygrad_sm import serialization
from tinygrad_sm.data import fashion_mnist as fm
from tinygrad_sm.data.fashion_mnist import (FILE_NAMES, ChecksumError, FashionMNISTError,
                                            FashionMNISTNotFoundError, load_fashion_mnist, text_labels)
from tinygrad_sm.data.idx import IDXError, idx_bytes, write_idx

REAL_DIR = Path("/usr/share/datasets/fashion-mnist")


def small_arrays(n_train=6, n_test=4):
    """Tiny stand-ins for the four files, keyed by file name."""
    rng = np.random.default_rng(1)
    return {
        fm.TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        fm.TRAIN_LABELS: (np.arange(n_train) % 10).astype(np.uint8),
        fm.TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        fm.TEST_LABELS: (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }


SMALL = small_arrays()
SMALL_CHECKSUMS = {name: (hashlib.sha256(idx_bytes(a)).hexdigest(), len(idx_bytes(a))) for name, a in SMALL.items()}


def write_set(directory: Path, gz=True, names=FILE_NAMES, arrays=SMALL) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_idx(directory / (name + ".gz" if gz else name), arrays[name], compress=gz)
    return directory


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Every source pointed at an empty temporary directory, and the small checksum table in force."""
    for var in ("FASHION_MNIST_DIR", "FASHION_MNIST_URL", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(fm, "SYSTEM_DIR", str(tmp_path / "system"))
    monkeypatch.setattr(fm, "CHECKSUMS", SMALL_CHECKSUMS)
    monkeypatch.setattr(fm, "BASE_URL", closed_port_url())  # never the real internet
    cache = tmp_path / "xdg" / "tinygrad_sm" / "fashion-mnist"
    assert fm.cache_dir() == cache
    return {"root": tmp_path / "root", "env": tmp_path / "env", "cache": cache,
            "system": tmp_path / "system", "served": tmp_path / "served"}


class Server:
    """An HTTP server on 127.0.0.1 (port chosen by the OS) serving one directory under /data/, in a thread."""

    def __init__(self, directory: Path, handler=None):
        directory.mkdir(parents=True, exist_ok=True)
        self.requests = requests = []

        class Handler(handler or http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def translate_path(self, path):
                # Served under /data/, as a mirror's sub-directory would be.
                return super().translate_path(path.removeprefix("/data"))

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(Handler, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data/"
        threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True).start()  # 0.01 s: quick shutdown

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(places):
    servers = []

    def start(directory=places["served"], handler=None):
        servers.append(Server(directory, handler))
        return servers[-1]
    yield start
    for s in servers:
        s.close()


def leftovers(directory: Path):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- where the data is looked for --------------------------------------------------------------

def test_source_order(places, monkeypatch):
    for where in ("root", "env", "cache", "system"):
        write_set(places[where])
    monkeypatch.setenv("FASHION_MNIST_DIR", str(places["env"]))
    assert load_fashion_mnist(root=places["root"], download=False).source == places["root"]
    assert load_fashion_mnist(download=False).source == places["env"]
    monkeypatch.delenv("FASHION_MNIST_DIR")
    assert load_fashion_mnist(download=False).source == places["cache"]
    for f in places["cache"].iterdir():
        f.unlink()
    assert load_fashion_mnist(download=False).source == places["system"]


def test_loaded_arrays(places):
    write_set(places["system"])
    data = load_fashion_mnist(download=False)
    assert data.train_images.dtype == np.uint8 and data.train_images.shape == (6, 28, 28)
    assert data.test_images.shape == (4, 28, 28)
    assert data.train_labels.dtype == np.int64 and data.test_labels.dtype == np.int64
    np.testing.assert_array_equal(data.train_images, SMALL[fm.TRAIN_IMAGES])
    np.testing.assert_array_equal(data.train_labels, SMALL[fm.TRAIN_LABELS])
    np.testing.assert_array_equal(data.test_images, SMALL[fm.TEST_IMAGES])
    np.testing.assert_array_equal(data.test_labels, SMALL[fm.TEST_LABELS])
    assert "train=6, test=4" in repr(data)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_plain_and_gz_names(places, gz):
    write_set(places["root"], gz=gz)
    data = load_fashion_mnist(root=places["root"], download=False)
    np.testing.assert_array_equal(data.test_images, SMALL[fm.TEST_IMAGES])


def test_mixed_plain_and_gz(places):
    write_set(places["root"], gz=True, names=FILE_NAMES[:2])
    write_set(places["root"], gz=False, names=FILE_NAMES[2:])
    assert load_fashion_mnist(root=places["root"], download=False).source == places["root"]


def test_root_as_string_and_tilde(places, monkeypatch):
    write_set(places["root"])
    monkeypatch.setenv("HOME", str(places["root"].parent))
    assert load_fashion_mnist(root="~/root", download=False).source == places["root"]


@pytest.mark.parametrize("how", ["root", "env"])
def test_incomplete_explicit_dir_is_an_error(places, monkeypatch, server, how):
    # A complete copy elsewhere and a working server must not hide the user's mistake.
    write_set(places["system"])
    write_set(places["served"])
    srv = server()
    write_set(places[how], names=[fm.TRAIN_IMAGES, fm.TEST_LABELS])
    kwargs = {"root": places["root"]} if how == "root" else {}
    if how == "env":
        monkeypatch.setenv("FASHION_MNIST_DIR", str(places["env"]))
    with pytest.raises(FashionMNISTNotFoundError) as info:
        load_fashion_mnist(base_url=srv.url, **kwargs)
    message = str(info.value)
    assert str(places[how]) in message
    assert f"lacks {fm.TRAIN_LABELS}[.gz], {fm.TEST_IMAGES}[.gz]" in message
    assert fm.TRAIN_IMAGES + "[" not in message
    assert srv.requests == []


def test_missing_explicit_dir(places):
    with pytest.raises(FashionMNISTNotFoundError, match=r"root .*/root does not exist"):
        load_fashion_mnist(root=places["root"])


def test_incomplete_cache_falls_through_to_system(places):
    write_set(places["cache"], names=FILE_NAMES[:3])
    write_set(places["system"])
    assert load_fashion_mnist(download=False).source == places["system"]


def test_nothing_anywhere_lists_every_place_and_the_fixes(places):
    write_set(places["cache"], names=FILE_NAMES[1:2])
    with pytest.raises(FashionMNISTNotFoundError) as info:
        load_fashion_mnist(download=False)
    message = str(info.value)
    assert "$FASHION_MNIST_DIR: not set" in message
    assert f"cache directory {places['cache']}: lacks {fm.TRAIN_IMAGES}[.gz]" in message
    assert f"{places['system']}: does not exist" in message
    assert "download: not attempted (download=False)" in message
    for fix in ("apt-get install dataset-fashion-mnist", "FASHION_MNIST_DIR", "--data-dir", "download=True"):
        assert fix in message
    assert isinstance(info.value, FileNotFoundError)


# --- downloading --------------------------------------------------------------------------------

def test_download(places, server):
    write_set(places["served"])
    srv = server()
    data = load_fashion_mnist(base_url=srv.url)
    assert data.source == places["cache"]
    np.testing.assert_array_equal(data.train_images, SMALL[fm.TRAIN_IMAGES])
    assert sorted(srv.requests) == sorted(f"/data/{name}.gz" for name in FILE_NAMES)
    assert leftovers(places["cache"]) == sorted(f"{name}.gz" for name in FILE_NAMES)
    # The second load finds the cached copy and does not ask the server again.
    assert load_fashion_mnist(base_url=srv.url).source == places["cache"]
    assert len(srv.requests) == 4


def test_download_url_from_the_environment(places, server, monkeypatch):
    write_set(places["served"])
    monkeypatch.setenv("FASHION_MNIST_URL", server().url)
    assert load_fashion_mnist().source == places["cache"]


def test_download_fetches_only_missing_files(places, server):
    write_set(places["served"])
    write_set(places["cache"], names=FILE_NAMES[:2])
    srv = server()
    load_fashion_mnist(base_url=srv.url)
    assert sorted(srv.requests) == sorted(f"/data/{name}.gz" for name in FILE_NAMES[2:])


def test_download_checksum_mismatch_leaves_nothing(places, server):
    altered = dict(SMALL, **{fm.TEST_IMAGES: SMALL[fm.TEST_IMAGES] ^ 1})
    write_set(places["served"], arrays=altered)
    srv = server()
    with pytest.raises(ChecksumError) as info:
        load_fashion_mnist(base_url=srv.url)
    message = str(info.value)
    assert f"{fm.TEST_IMAGES}.gz" in message
    assert SMALL_CHECKSUMS[fm.TEST_IMAGES][0] in message
    assert hashlib.sha256(idx_bytes(altered[fm.TEST_IMAGES])).hexdigest() in message
    assert "nothing was saved" in message
    assert fm.TEST_IMAGES + ".gz" not in leftovers(places["cache"])
    assert not any(name.endswith(".part") for name in leftovers(places["cache"]))


def test_download_of_an_html_page_is_a_checksum_error(places, server):
    places["served"].mkdir()
    for name in FILE_NAMES:
        (places["served"] / f"{name}.gz").write_text("<html>Please log in to the Wi-Fi</html>")
    srv = server()
    with pytest.raises(ChecksumError, match=r"SHA-256 of the decompressed data is|bytes when decompressed"):
        load_fashion_mnist(base_url=srv.url)
    assert leftovers(places["cache"]) == []


def test_download_of_a_broken_gzip_is_a_checksum_error(places, server):
    places["served"].mkdir()
    for name in FILE_NAMES:
        (places["served"] / f"{name}.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ChecksumError, match="(corrupt|truncated) gzip .*nothing was saved"):
        load_fashion_mnist(base_url=server().url)
    assert leftovers(places["cache"]) == []


def test_download_404(places, server):
    srv = server()  # serves an empty directory
    with pytest.raises(FashionMNISTNotFoundError) as info:
        load_fashion_mnist(base_url=srv.url)
    message = str(info.value)
    assert f"download from {srv.url} into {places['cache']}: failed" in message
    assert "HTTP 404" in message and f"{FILE_NAMES[0]}.gz" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert leftovers(places["cache"]) == []


def test_connection_refused(places):
    url = closed_port_url()
    with pytest.raises(FashionMNISTNotFoundError) as info:
        load_fashion_mnist(base_url=url, timeout=5)
    message = str(info.value)
    assert f"download from {url}" in message and "refused" in message.lower()
    assert "system directory" in message and "cache directory" in message


def test_download_cut_short_leaves_no_partial_file(places, server):
    body = gzip.compress(idx_bytes(SMALL[fm.TRAIN_IMAGES]), mtime=0)

    class CutShort(http.server.SimpleHTTPRequestHandler):
        """Promises the whole file, sends its first 1000 bytes, and hangs up."""

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:1000])
            self.wfile.flush()
            self.close_connection = True

    srv = server(handler=CutShort)
    with pytest.raises(FashionMNISTNotFoundError, match=f"closed after 1000 of {len(body)} bytes"):
        load_fashion_mnist(base_url=srv.url)
    assert leftovers(places["cache"]) == []


def test_download_partial_progress_is_kept(places, server):
    # Two files arrive, then the server loses the others: the good ones stay for next time.
    write_set(places["served"], names=FILE_NAMES[:2])
    with pytest.raises(FashionMNISTNotFoundError):
        load_fashion_mnist(base_url=server().url)
    assert leftovers(places["cache"]) == sorted(f"{name}.gz" for name in FILE_NAMES[:2])


def test_the_default_download_location_is_https():
    assert fm.BASE_URL == "https://fashion-mnist.s3.eu-central-1.amazonaws.com/"


def gzip_bomb(zeros: int) -> bytes:
    """``zeros`` zero bytes, gzipped a megabyte at a time (64 MiB -> 64 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block[:min(len(block), zeros - start)]) for start in range(0, zeros, len(block))]
    return b"".join(parts) + compressor.flush()


def test_download_of_a_gzip_bomb_stops_at_the_expected_size(places, server):
    # 64 KB that would inflate to 64 MiB: the download stops after the file's known size.
    places["served"].mkdir()
    for name in FILE_NAMES:
        (places["served"] / f"{name}.gz").write_bytes(gzip_bomb(64 << 20))
    srv = server()
    expected = SMALL_CHECKSUMS[fm.TRAIN_IMAGES][1]

    def load():
        with pytest.raises(ChecksumError, match=f"{fm.TRAIN_IMAGES}.gz: decompresses to more than "
                                                f"{expected} bytes, the size of {fm.TRAIN_IMAGES}; .*nothing was saved"):
            load_fashion_mnist(base_url=srv.url)
    assert peak_memory(load) < 4 << 20
    assert leftovers(places["cache"]) == []


class EndlessGzip(http.server.SimpleHTTPRequestHandler):
    """A gzip header, then empty deflate blocks forever: the body grows, the data never does."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        try:
            self.wfile.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
            while True:
                self.wfile.write(b"\x00\x00\x00\xff\xff" * 1000)
        except OSError:  # the client hung up
            pass


def test_a_server_that_streams_forever_is_cut_off(places, server):
    srv = server(handler=EndlessGzip)
    with pytest.raises(ChecksumError, match=r"more than \d+ bytes received, more than a gzip file of "
                                            r"\d+ bytes can take; .*nothing was saved"):
        load_fashion_mnist(base_url=srv.url)
    assert leftovers(places["cache"]) == []


def test_a_server_announcing_too_much_is_refused_before_the_body(places, server):
    class Huge(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(10 << 30))
            self.end_headers()

    with pytest.raises(ChecksumError, match=f"announces {10 << 30} bytes"):
        load_fashion_mnist(base_url=server(handler=Huge).url)
    assert leftovers(places["cache"]) == []


def test_a_download_without_a_known_size_is_bounded_too(places, server, monkeypatch):
    write_set(places["served"])
    monkeypatch.setattr(fm, "MAX_UNVERIFIED_SIZE", 1000)
    with pytest.raises(ChecksumError, match="decompresses to more than 1000 bytes"):
        load_fashion_mnist(base_url=server().url, checksums={})
    monkeypatch.setattr(fm, "MAX_UNVERIFIED_SIZE", 1 << 20)
    assert load_fashion_mnist(base_url=server().url, checksums={}).source == places["cache"]


def test_download_from_a_file_url(places):
    write_set(places["served"])
    assert load_fashion_mnist(base_url=places["served"].as_uri()).source == places["cache"]


@pytest.mark.parametrize("url", ["ftp://example.org/fashion/", "example.org/fashion", "javascript:alert(1)"])
def test_the_download_url_must_be_https_http_or_file(places, url, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_URL", url)
    with pytest.raises(ValueError, match=f"cannot download Fashion-MNIST from {re.escape(repr(url))}.*https://"):
        load_fashion_mnist()


def test_downloaded_files_get_an_ordinary_files_mode(places, server):
    write_set(places["served"])
    srv = server()
    old = os.umask(0o027)
    try:
        load_fashion_mnist(base_url=srv.url)
    finally:
        os.umask(old)
    for name in FILE_NAMES:
        assert (places["cache"] / f"{name}.gz").stat().st_mode & 0o777 == 0o640


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_next_load_removes_what_killed_downloads_left_and_nothing_else(places):
    write_set(places["system"])
    cache = places["cache"]
    cache.mkdir(parents=True)
    long_ago = time.time() - 2 * serialization.STALE_AFTER
    fates = {
        f".{fm.TRAIN_IMAGES}.gz.{dead_pid()}.0123abcd.tmp": "removed",  # its process is gone
        f".{fm.TEST_IMAGES}.gz.ab12cd34.part": "removed old",          # an earlier version's, old
        f".{fm.TEST_LABELS}.gz.x1y2z3w4.part": "kept",                  # an earlier version's, recent
        f".{fm.TRAIN_LABELS}.gz.{os.getpid()}.0123abcd.tmp": "kept",    # a download in progress
        f".{fm.TRAIN_LABELS}.{dead_pid()}.0123abcd.tmp": "kept",        # not a name we download to
        "notes.txt": "kept",
    }
    for name, fate in fates.items():
        (cache / name).write_bytes(b"x" * 100)
        if fate == "removed old":
            os.utime(cache / name, (long_ago, long_ago))
    assert load_fashion_mnist(download=False).source == places["system"]
    assert leftovers(cache) == sorted(name for name, fate in fates.items() if fate == "kept")


# --- checks on local files ----------------------------------------------------------------------

def test_local_file_with_wrong_digest(places):
    write_set(places["root"])
    write_idx(places["root"] / f"{fm.TRAIN_LABELS}.gz", SMALL[fm.TRAIN_LABELS][::-1].copy())
    with pytest.raises(ChecksumError) as info:
        load_fashion_mnist(root=places["root"])
    message = str(info.value)
    assert str(places["root"] / f"{fm.TRAIN_LABELS}.gz") in message
    assert SMALL_CHECKSUMS[fm.TRAIN_LABELS][0] in message and "delete it" in message


def test_local_file_with_wrong_size(places):
    write_set(places["root"])
    write_idx(places["root"] / f"{fm.TEST_IMAGES}.gz", SMALL[fm.TEST_IMAGES][:3])
    expected = SMALL_CHECKSUMS[fm.TEST_IMAGES][1]
    with pytest.raises(ChecksumError, match=f"{fm.TEST_IMAGES}.gz: {expected - 784} bytes when "
                                            f"decompressed, expected {expected}"):
        load_fashion_mnist(root=places["root"])


def test_local_truncated_file(places):
    write_set(places["root"], gz=False)
    path = places["root"] / fm.TRAIN_IMAGES
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IDXError, match=f"{fm.TRAIN_IMAGES}: truncated"):
        load_fashion_mnist(root=places["root"])


@pytest.mark.parametrize("change, fault", [
    ({fm.TRAIN_LABELS: np.array([0, 1, 2, 3, 4, 10], np.uint8)}, "label 10 out of range 0..9"),
    ({fm.TRAIN_LABELS: np.zeros(5, np.uint8)}, "5 labels, but .* holds 6 images"),
    ({fm.TEST_IMAGES: np.zeros((4, 28, 27), np.uint8)}, r"shape \(N, 28, 28\)"),
    ({fm.TEST_LABELS: np.zeros(4, np.int32)}, "expected uint8 labels"),
])
def test_content_checks(places, change, fault):
    # checksums={} switches the digests off, so only the content checks can catch these.
    write_set(places["root"], arrays=dict(SMALL, **change))
    with pytest.raises(FashionMNISTError, match=fault):
        load_fashion_mnist(root=places["root"], checksums={})


def test_error_classes():
    assert issubclass(ChecksumError, FashionMNISTError) and issubclass(FashionMNISTError, ValueError)
    assert issubclass(FashionMNISTNotFoundError, FileNotFoundError)


# --- labels, datasets and resizing --------------------------------------------------------------

def test_text_labels():
    assert text_labels(0) == "t-shirt"
    assert text_labels(np.uint8(9)) == "ankle boot"
    assert text_labels([0, 1, 9]) == ["t-shirt", "trouser", "ankle boot"]
    assert text_labels(np.array([[2], [3]])) == ["pullover", "dress"]
    assert text_labels([]) == []
    assert fm.FashionMNIST.text_labels([5, 6, 7, 8, 4]) == ["sandal", "shirt", "sneaker", "bag", "coat"]
    with pytest.raises(ValueError, match="0..9, got 10"):
        text_labels([1, 10])
    with pytest.raises(ValueError, match="got -1"):
        text_labels(-1)
    with pytest.raises(TypeError, match="integer labels"):
        text_labels([1.5])


def test_text_labels_of_a_tensor():
    from tinygrad_sm.tensor import Tensor
    assert text_labels(Tensor(np.array([3, 4]))) == ["dress", "coat"]


def test_datasets_convert_per_batch(places):
    write_set(places["root"])
    data = load_fashion_mnist(root=places["root"])
    train = data.train_dataset()
    assert len(train) == 6 and len(data.test_dataset()) == 4
    assert train.arrays[0] is data.train_images  # stored as uint8, no float copy of the whole set
    x, y = train[np.array([5, 0])]
    assert x.dtype == np.float32 and x.shape == (2, 1, 28, 28)
    np.testing.assert_allclose(x[:, 0], SMALL[fm.TRAIN_IMAGES][[5, 0]] / np.float32(255), rtol=1e-7)
    assert y.dtype == np.int64 and y.tolist() == [5, 0]


def test_resize(places):
    write_set(places["root"])
    data = load_fashion_mnist(root=places["root"], resize=(64, 48))
    assert data.train_images.shape == (6, 64, 48) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (4, 64, 48)
    assert data.train_dataset()[np.arange(2)][0].shape == (2, 1, 64, 48)
    assert load_fashion_mnist(root=places["root"], resize=14).train_images.shape == (6, 14, 14)
    with pytest.raises(ValueError, match="resize must be"):
        load_fashion_mnist(root=places["root"], resize=(0, 3))


def test_resize_identity_and_constant():
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(fm.resize_images(images, 28), images)
    flat = np.full((2, 7, 9), 200, dtype=np.uint8)
    np.testing.assert_array_equal(fm.resize_images(flat, (13, 4)), np.full((2, 13, 4), 200))


def test_resize_doubling_by_hand():
    # Upsampling 2 -> 4 with aligned centres puts outputs at -0.25, 0.25, 0.75, 1.25 (clamped).
    image = np.array([[[0, 100]]], dtype=np.uint8)
    assert fm.resize_images(image, (1, 4)).tolist() == [[[0, 25, 75, 100]]]


@pytest.mark.parametrize("size", [(64, 64), (20, 33), (7, 7), (28, 56)])
def test_resize_matches_torch(size):
    torch = pytest.importorskip("torch")
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28), dtype=np.uint8)
    ours = fm.resize_images(images, size)
    theirs = torch.nn.functional.interpolate(torch.from_numpy(images[:, None].astype(np.float64)), size=size,
                                             mode="bilinear", align_corners=False)[:, 0].numpy()
    assert np.abs(ours - theirs).max() <= 0.5 + 1e-3  # ours is rounded to uint8


# --- the real data set --------------------------------------------------------------------------

# CI sets TINYGRAD_SM_REQUIRE_DATA (and installs the package), so there a missing data set fails.
needs_real_data = pytest.mark.skipif(not os.environ.get("TINYGRAD_SM_REQUIRE_DATA") and
                                     not all(fm.find_files(REAL_DIR)[0].get(n) for n in FILE_NAMES),
                                     reason=f"Fashion-MNIST is not installed in {REAL_DIR} "
                                            "(apt-get install dataset-fashion-mnist)")


@needs_real_data
def test_real_data():
    data = load_fashion_mnist(root=REAL_DIR, download=False)
    assert data.train_images.shape == (60000, 28, 28) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (10000, 28, 28) and data.test_images.dtype == np.uint8
    assert data.train_labels.shape == (60000,) and data.train_labels.dtype == np.int64
    assert data.test_labels.shape == (10000,) and data.test_labels.dtype == np.int64
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images of each class.
    assert np.bincount(data.train_labels).tolist() == [6000] * 10
    assert np.bincount(data.test_labels).tolist() == [1000] * 10
    assert data.train_images.max() == 255 and data.train_images.min() == 0
    assert text_labels(data.train_labels[:5]) == ["ankle boot", "t-shirt", "t-shirt", "dress", "t-shirt"]
    x, y = data.test_dataset()[np.arange(3)]
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1


@needs_real_data
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
def test_real_data_epoch_memory():
    """Loading the real set and running an epoch of batches stays far below the 350 MiB budget."""
    script = (
        "from tinygrad_sm.data import DataLoader, load_fashion_mnist\n"
        f"data = load_fashion_mnist(root={str(REAL_DIR)!r}, download=False)\n"
        "n = 0\n"
        "for X, y in DataLoader(data.train_dataset(), batch_size=256, shuffle=True, seed=0):\n"
        "    n += len(y._array)\n"
        "assert n == 60000 and X._array.dtype.name == 'float32', (n, X._array.dtype)\n"
        # VmHWM, the peak resident size: unlike ru_maxrss it does not inherit pytest's peak across exec.
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), TINYGRAD_SM_DEVICE="cpu")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    peak_mib = int(result.stdout.split()[-1]) // 1024
    assert peak_mib < 200, f"peak RSS {peak_mib} MiB"

"""Fashion-MNIST: 70,000 grey 28x28 images of clothing in 10 classes (Xiao, Rasul & Vollgraf, 2017).

``load_fashion_mnist()`` finds the four IDX files, checks them, and returns them as NumPy arrays::

    data = load_fashion_mnist()
    data.train_images   # uint8, (60000, 28, 28)
    data.train_labels   # int64, (60000,), values 0..9
    loader = DataLoader(data.train_dataset(), batch_size=256, shuffle=True)
    for X, y in loader: ...       # X: float32 (256, 1, 28, 28) in [0, 1]; y: int64 (256,)

Where the files are looked for, in order (the first directory holding all four files wins):

1. ``root``, when given (``--data-dir`` in the scripts); then ``$FASHION_MNIST_DIR``, when set.
   Either is the user saying "the data is here", so if it lacks a file that is an error naming
   the missing files; we do not quietly take the data from somewhere else.
2. The user's cache, ``$XDG_CACHE_HOME/tinygrad_sm/fashion-mnist`` (``~/.cache/...`` by default).
3. ``/usr/share/datasets/fashion-mnist``, installed by ``apt-get install dataset-fashion-mnist``.
4. A download of the missing files from ``BASE_URL`` (or ``$FASHION_MNIST_URL``) into the cache.

Each file may be stored as ``NAME`` or ``NAME.gz``. Every load checks the files completely: the
IDX structure, the size, and the SHA-256 of the decompressed bytes (about 0.04 s on top of the
0.25 s decompression; it is what catches a well-formed but wrong file, such as MNIST's digits,
which use the same file names). Decompression stops as soon as a file outgrows its known size,
so a small gzip file that would expand to gigabytes is refused after a megabyte.

A download (over HTTPS by default) is streamed to a temporary file, decompressed and hashed as
it arrives, and stopped as soon as it outgrows the file it should be, compressed or not; only a
complete, verified file is renamed into place (``serialization.atomic_write``), so a failed,
corrupt or interrupted download leaves nothing behind, and the temporary files of a process that
was killed outright are removed by the next load.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

import numpy as np

from tinygrad_sm import serialization
from tinygrad_sm.data.dataset import ArrayDataset, Array, to_numpy
from tinygrad_sm.data.idx import GZIP_MAGIC, GzipDecoder, IDXError, parse_idx, read_idx_bytes

PathLike = Union[str, "os.PathLike[str]"]

# The official bucket, over HTTPS (the project's page links the same files over plain HTTP at
# http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/); every file is checked by SHA-256.
BASE_URL = "https://fashion-mnist.s3.eu-central-1.amazonaws.com/"
URL_SCHEMES = ("https", "http", "file")
URL_ENV = "FASHION_MNIST_URL"
DIR_ENV = "FASHION_MNIST_DIR"
SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"
DOWNLOAD_TIMEOUT = 30.0  # seconds without progress before a network call gives up
MAX_UNVERIFIED_SIZE = 1 << 28  # the most a download without a known size may decompress to

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# SHA-256 and size of each file's *decompressed* bytes: packaged copies may be recompressed
# with other settings, so the .gz bytes differ while the data is the same.
CHECKSUMS: dict[str, tuple[str, int]] = {
    TRAIN_IMAGES: ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 47040016),
    TRAIN_LABELS: ("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 60008),
    TEST_IMAGES: ("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 7840016),
    TEST_LABELS: ("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 10008),
}

# The class names used by Dive into Deep Learning, in label order.
TEXT_LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot")

IMAGE_SIZE = (28, 28)


class FashionMNISTError(ValueError):
    """A Fashion-MNIST file was found but holds the wrong data (wrong size, digest or labels)."""


class ChecksumError(FashionMNISTError):
    """A file's decompressed bytes do not have the published SHA-256 digest."""


class FashionMNISTNotFoundError(FileNotFoundError):
    """The data set is in none of the places looked at and could not be downloaded.

    The message lists every place looked at and the ways to fix it.
    """


# --- the result ------------------------------------------------------------------------------

def images_to_float(images: Array, labels: Array) -> tuple[Array, Array]:
    """Batch transform: uint8 images (n, H, W) -> float32 (n, 1, H, W) in [0, 1]; labels unchanged.

    Runs per batch (as ``ArrayDataset``'s transform) so the whole set never exists as float32.
    Works on NumPy and CuPy arrays alike.
    """
    x = images.astype(np.float32)
    x /= 255
    return x.reshape(x.shape[0], 1, *x.shape[1:]), labels


@dataclass(frozen=True, repr=False, eq=False)  # eq on arrays would be ambiguous
class FashionMNIST:
    """The loaded data set: four NumPy arrays and the directory they came from.

    ``train_images``/``test_images`` are uint8 of shape (N, 28, 28) (or (N, h, w) when loaded with
    ``resize``), pixel values 0..255 with 0 the background. ``train_labels``/``test_labels`` are
    int64 of shape (N,) with values 0..9 (int64 because that is what losses and ``argmax``
    comparisons use; ``text_labels`` turns them into names).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: Path

    def train_dataset(self) -> ArrayDataset:
        """The training set as an ``ArrayDataset`` yielding float32 (n, 1, H, W) images in [0, 1]."""
        return ArrayDataset(self.train_images, self.train_labels, transform=images_to_float)

    def test_dataset(self) -> ArrayDataset:
        """The test set, converted per batch like ``train_dataset``."""
        return ArrayDataset(self.test_images, self.test_labels, transform=images_to_float)

    @staticmethod
    def text_labels(indices: Any) -> str | list[str]:
        """Class names for labels: see the module function ``text_labels``."""
        return text_labels(indices)

    def __repr__(self) -> str:
        h, w = self.train_images.shape[1:]
        return (f"FashionMNIST(train={len(self.train_images)}, test={len(self.test_images)}, "
                f"image_size={h}x{w}, source={str(self.source)!r})")


def text_labels(indices: Any) -> str | list[str]:
    """The class name of each label: ``text_labels([0, 9]) == ['t-shirt', 'ankle boot']``.

    Accepts an int (returns one name), or a list, NumPy/CuPy array or Tensor of ints (returns
    a list of names, in the order of the flattened input).
    """
    labels = to_numpy(indices)
    if labels.size == 0:
        return []
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"text_labels expects integer labels, got dtype {labels.dtype}")
    bad = labels[(labels < 0) | (labels >= len(TEXT_LABELS))]
    if bad.size:
        raise ValueError(f"text_labels: labels must be in 0..{len(TEXT_LABELS) - 1}, got {bad.reshape(-1)[0]}")
    if labels.ndim == 0:
        return TEXT_LABELS[int(labels)]
    return [TEXT_LABELS[i] for i in labels.reshape(-1).tolist()]


# --- resizing --------------------------------------------------------------------------------

def _size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    pair = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(pair) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0 for s in pair):
        raise ValueError(f"resize must be a positive int or a (height, width) pair of them, got {size!r}")
    return int(pair[0]), int(pair[1])


def interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) matrix that bilinearly resamples a length-n_in axis to length n_out.

    Row i holds the two weights output pixel i takes from its neighbours in the input.
    Pixel centres are aligned: output pixel i sits at input coordinate
    (i + 0.5) * n_in / n_out - 0.5, as in PIL and ``torch.nn.functional.interpolate(...,
    align_corners=False)``. Coordinates past the edge are clamped, repeating the border pixel.
    """
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0, n_in - 1)
    lo = np.floor(src).astype(np.intp)
    hi = np.minimum(lo + 1, n_in - 1)
    weight = src - lo
    matrix = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    matrix[rows, lo] = 1 - weight
    matrix[rows, hi] += weight  # += because lo == hi at a clamped edge (weight 0 there)
    return matrix


def resize_images(images: np.ndarray, size: int | Sequence[int]) -> np.ndarray:
    """Bilinear resize of a stack of uint8 images (N, H, W) to (N, h, w), returned as uint8.

    ``size`` is an int (square) or (h, w). Bilinear interpolation is linear and works on rows
    and columns separately, so resizing is two matrix products, ``Ry @ image @ Rx.T``, with
    the matrices from ``interpolation_matrix``: fast BLAS calls over many images at once rather
    than a loop over pixels. Images go through in blocks so the float32 temporaries stay
    around 32 MB whatever N is (all 60,000 at 64x64 would need 1 GB as float32).
    There is no antialiasing filter, so shrinking far below 28x28 aliases.
    """
    h, w = _size_pair(size)
    n, H, W = images.shape
    rows, cols_t = interpolation_matrix(H, h), interpolation_matrix(W, w).T
    out = np.empty((n, h, w), dtype=np.uint8)
    block = max(1, (1 << 23) // (max(H, h) * max(W, w)))
    for start in range(0, n, block):
        x = images[start:start + block].astype(np.float32)
        resized = rows @ (x @ cols_t)
        # Weights are non-negative and sum to 1, so results stay in 0..255: rounding suffices.
        np.rint(resized, out=resized)
        out[start:start + block] = resized
    return out


# --- finding the files -----------------------------------------------------------------------

def cache_dir() -> Path:
    """Where downloads go: ``$XDG_CACHE_HOME/tinygrad_sm/fashion-mnist``, else ``~/.cache/...``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "tinygrad_sm" / "fashion-mnist"


def find_files(directory: PathLike) -> tuple[dict[str, Path], list[str]]:
    """The Fashion-MNIST files in ``directory`` (``NAME`` preferred over ``NAME.gz``), and the missing names."""
    directory = Path(directory)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in FILE_NAMES:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
        else:
            missing.append(name)
    return found, missing


def _describe_missing(directory: Path, missing: list[str]) -> str:
    if not directory.exists():
        return "does not exist"
    if not directory.is_dir():
        return "is not a directory"
    if len(missing) == len(FILE_NAMES):
        return "holds none of the four files"
    return "lacks " + ", ".join(f"{name}[.gz]" for name in missing)


_FIXES = """\
To fix it, do one of:
  - install the Debian/Ubuntu package: sudo apt-get install dataset-fashion-mnist
  - put the four files (gzipped or not) in a directory and set FASHION_MNIST_DIR to it,
    or pass that directory as root= (--data-dir in the scripts)
  - allow the download (download=True) on a machine that can reach {url}
    (a mirror can be given with FASHION_MNIST_URL)"""


def _explicit_dir(directory: PathLike, what: str) -> Path:
    """A directory the user named: it must hold all four files."""
    directory = Path(directory).expanduser()
    _, missing = find_files(directory)
    if missing:
        raise FashionMNISTNotFoundError(
            f"Fashion-MNIST not found: {what} {directory} {_describe_missing(directory, missing)}.\n"
            f"A directory given explicitly is used alone; it needs all of {', '.join(FILE_NAMES)}, "
            "each as NAME or NAME.gz. Put the files there, or leave it unset to use the cache, "
            "the system copy or a download.")
    return directory


def locate_fashion_mnist(root: PathLike | None = None, download: bool = True, base_url: str | None = None,
                         checksums: Mapping[str, tuple[str, int]] | None = None,
                         timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """The directory to load Fashion-MNIST from, downloading into the cache if needed.

    See the module docstring for the order. Raises ``FashionMNISTNotFoundError`` listing every
    place looked at when there is no complete copy and the download is off or fails.
    """
    if root is not None:
        return _explicit_dir(root, "root")
    if os.environ.get(DIR_ENV):
        return _explicit_dir(os.environ[DIR_ENV], f"${DIR_ENV} =")

    looked = [f"${DIR_ENV}: not set"]
    cache = cache_dir()
    for name in FILE_NAMES:  # what killed downloads left behind
        serialization.remove_stale_temporaries(cache / f"{name}.gz")
    for what, directory in (("cache directory", cache),
                            ("system directory (package dataset-fashion-mnist)", Path(SYSTEM_DIR))):
        _, missing = find_files(directory)
        if not missing:
            return directory
        looked.append(f"{what} {directory}: {_describe_missing(directory, missing)}")

    url = base_url or os.environ.get(URL_ENV) or BASE_URL
    if urllib.parse.urlsplit(url).scheme not in URL_SCHEMES:
        raise ValueError(f"cannot download Fashion-MNIST from {url!r} (base_url, or ${URL_ENV}): "
                         f"give a URL starting with https://, http:// or file://")
    if not download:
        looked.append("download: not attempted (download=False)")
    else:
        _, missing = find_files(cache)  # files already cached (and verified) are kept
        try:
            for name in missing:
                download_file(name, cache, url, checksums, timeout)
            return cache
        except (OSError, http.client.HTTPException) as e:
            # Network trouble (or an unwritable cache) is one more place that did not work out;
            # a corrupt download (ChecksumError) is not, and propagates with its own message.
            looked.append(f"download from {url} into {cache}: failed on {name}.gz: {_network_reason(e)}")

    places = "\n".join(f"  - {line}" for line in looked)
    raise FashionMNISTNotFoundError(f"Fashion-MNIST not found. Looked at:\n{places}\n"
                                    + _FIXES.format(url=url))


def _network_reason(error: BaseException) -> str:
    """A short reason for a failed download (urllib wraps the useful part in ``.reason``)."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    reason = getattr(error, "reason", None)
    return str(reason if reason is not None else error) or type(error).__name__


# --- downloading and checking ----------------------------------------------------------------

def _check_digest(source: str, digest: str, size: int, expected: tuple[str, int], fix: str) -> None:
    """Raise ``ChecksumError`` unless the decompressed data's SHA-256 ``digest`` and ``size``
    are the expected ones."""
    want_digest, want_size = expected
    if size != want_size:
        raise ChecksumError(f"{source}: {size} bytes when decompressed, expected {want_size} "
                            f"(SHA-256 {digest}, expected {want_digest}); {fix}")
    if digest != want_digest:
        raise ChecksumError(f"{source}: SHA-256 of the decompressed data is {digest}, expected {want_digest}; {fix}")


def _max_compressed_size(size: int) -> int:
    """The most bytes a gzip file of ``size`` decompressed bytes can sensibly take: deflate
    grows incompressible data by about 0.03% at worst, and the gzip wrapper adds a few bytes."""
    return size + size // 100 + (1 << 16)


def download_file(name: str, directory: PathLike, base_url: str = BASE_URL,
                  checksums: Mapping[str, tuple[str, int]] | None = None,
                  timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download ``base_url/NAME.gz`` into ``directory``, verified and atomically.

    The body is streamed to a temporary file in ``directory`` and, as it arrives, decompressed
    and hashed a megabyte at a time. It is abandoned as soon as it decompresses to more than the
    expected size (from ``checksums``; ``MAX_UNVERIFIED_SIZE`` for a file not in it), or when
    the compressed body outgrows what a gzip file of that size can take (a server that streams
    forever). Only when the decompressed bytes have the expected size and SHA-256 digest is the
    file renamed to ``NAME.gz``; on any failure, Ctrl-C included, the temporary file is removed.
    Network errors propagate as ``OSError``; a wrong file raises ``ChecksumError``.
    """
    checksums = CHECKSUMS if checksums is None else checksums
    expected = checksums.get(name)
    max_size = expected[1] if expected is not None else MAX_UNVERIFIED_SIZE
    max_compressed = _max_compressed_size(max_size)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    url = base_url.rstrip("/") + f"/{name}.gz"
    target = directory / f"{name}.gz"
    fix = "the download is damaged or the server sent another file; nothing was saved"
    print(f"Downloading {url} -> {target}", file=sys.stderr)
    with serialization.atomic_write(target) as out, urllib.request.urlopen(url, timeout=timeout) as response:
        header = (response.headers.get("Content-Length") or "").strip()
        length = int(header) if header.isdigit() else None  # none (or nonsense): read to the end
        if length is not None and length > max_compressed:
            raise ChecksumError(f"{url}: the server announces {length} bytes, more than the "
                                f"{max_compressed} a gzip file of {max_size} bytes can take; {fix}")
        # Decompressed when it is gzip (by its first two bytes, as read_idx decides), else taken
        # as it is: a mirror may serve the files already decompressed.
        decoder, digest = GzipDecoder(url, fix), hashlib.sha256()
        received, size, head = 0, 0, b""
        try:
            while chunk := response.read(1 << 20):
                received += len(chunk)
                if received > max_compressed:
                    raise ChecksumError(f"{url}: more than {max_compressed} bytes received, more "
                                        f"than a gzip file of {max_size} bytes can take; {fix}")
                out.write(chunk)
                if len(head) < 2:  # decide once the first two bytes are in
                    head += chunk[:2 - len(head)]
                pieces = decoder.feed(chunk) if head == GZIP_MAGIC else (chunk,)
                for piece in pieces:
                    size += len(piece)
                    if size > max_size:
                        raise ChecksumError(f"{url}: decompresses to more than {max_size} bytes, "
                                            f"the size of {name}; {fix}")
                    digest.update(piece)
            # urllib does not notice a connection closed early when reading in chunks; we must.
            if length is not None and received != length:
                raise ConnectionError(f"{url}: the connection closed after {received} of {length} bytes")
            if head == GZIP_MAGIC:
                decoder.finish()
        except IDXError as e:
            raise ChecksumError(str(e)) from None
        if expected is not None:
            _check_digest(url, digest.hexdigest(), size, expected, fix)
    return target


def _load_file(path: Path, name: str, checksums: Mapping[str, tuple[str, int]]) -> np.ndarray:
    """Read one file, checking its IDX structure, then its size and digest.

    Decompression stops at the size the file should have (or, for a file without a known size,
    at the size its IDX header declares), so a crafted gzip file cannot fill the memory."""
    expected = checksums.get(name)
    data = read_idx_bytes(path, max_size=expected[1] if expected is not None else None)
    array = parse_idx(data, source=str(path))
    if expected is not None:
        _check_digest(str(path), hashlib.sha256(data).hexdigest(), len(data), expected,
                      "the file is damaged or is not from the Fashion-MNIST release (MNIST's digits "
                      "use the same file names); delete it and load again to download a fresh copy, "
                      "or reinstall the package dataset-fashion-mnist")
    return array


def _check_pair(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path) -> None:
    """The checks that hold for any Fashion-MNIST split, including the small ones tests write."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SIZE:
        raise FashionMNISTError(f"{images_path}: expected uint8 images of shape (N, 28, 28), "
                                f"got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise FashionMNISTError(f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise FashionMNISTError(f"{labels_path}: {len(labels)} labels, but {images_path} holds {len(images)} images")
    if labels.size and labels.max() >= len(TEXT_LABELS):
        raise FashionMNISTError(f"{labels_path}: label {labels.max()} out of range 0..{len(TEXT_LABELS) - 1}")


def load_fashion_mnist(root: PathLike | None = None, download: bool = True,
                       resize: int | Sequence[int] | None = None, *, base_url: str | None = None,
                       checksums: Mapping[str, tuple[str, int]] | None = None,
                       timeout: float = DOWNLOAD_TIMEOUT) -> FashionMNIST:
    """Load Fashion-MNIST as NumPy arrays (see the module docstring for where it is looked for).

    Args:
        root: a directory holding the four files; when given, no other place is used.
        download: whether to download the files into the cache when no local copy exists.
        resize: an int or (h, w): bilinearly resize all images (still uint8), as the book's
            ``FashionMNIST(resize=(64, 64))`` does.
        base_url: where to download from; default ``$FASHION_MNIST_URL``, else ``BASE_URL``.
        checksums: ``{name: (sha256_hex, size)}`` of the decompressed files; default ``CHECKSUMS``.
            A file whose name is not in the mapping is not verified (``{}`` turns checking off).
        timeout: seconds a network call may stall before the download is abandoned.

    Returns:
        a ``FashionMNIST`` with uint8 images (N, 28, 28) and int64 labels (N,) for both splits.

    Raises:
        FashionMNISTNotFoundError: no complete copy anywhere, and no download.
        IDXError, ChecksumError, FashionMNISTError: a file is there but damaged or wrong
            (all ``ValueError``s; the message names the file and the fix).
    """
    checksums = CHECKSUMS if checksums is None else checksums
    directory = locate_fashion_mnist(root, download, base_url, checksums, timeout)
    files, _ = find_files(directory)
    arrays = {name: _load_file(files[name], name, checksums) for name in FILE_NAMES}
    _check_pair(arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS], files[TRAIN_IMAGES], files[TRAIN_LABELS])
    _check_pair(arrays[TEST_IMAGES], arrays[TEST_LABELS], files[TEST_IMAGES], files[TEST_LABELS])
    train_images, test_images = arrays[TRAIN_IMAGES], arrays[TEST_IMAGES]
    if resize is not None:
        train_images, test_images = resize_images(train_images, resize), resize_images(test_images, resize)
    return FashionMNIST(train_images=train_images, train_labels=arrays[TRAIN_LABELS].astype(np.int64),
                        test_images=test_images, test_labels=arrays[TEST_LABELS].astype(np.int64),
                        source=directory)

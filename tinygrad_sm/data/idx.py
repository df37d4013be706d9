"""Read and write IDX files, the format MNIST and Fashion-MNIST are published in.

An IDX file is a small big-endian header followed by the raw array::

    bytes 0-1   two zero bytes
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim, the number of dimensions
    then        ndim sizes, each a big-endian 32-bit unsigned integer
    then        prod(sizes) items, C order, big-endian

Files are often gzipped. ``read_idx`` looks at the first two bytes (gzip starts with 1f 8b)
rather than at the file name, so a renamed or already-decompressed file still reads.

Every fault (bad magic, short header, too little or too much data, a damaged gzip stream)
raises ``IDXError`` with the file name and what is wrong: a damaged download must never
turn into a silently wrong array. Decompression runs a megabyte at a time and stops as soon as
the data outgrows what the header declares, so a few megabytes of crafted gzip that would
expand to gigabytes cost a megabyte.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Iterator, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

GZIP_MAGIC = b"\x1f\x8b"

# Type code -> big-endian dtype, as the IDX format defines them.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_CHUNK = 1 << 20  # read and decompress a megabyte at a time, so we never hold more than we keep

_FIX = "delete the file and download it again"
_MAX_HEADER = 4 + 4 * 255  # the longest IDX header: 255 dimensions


class IDXError(ValueError):
    """An IDX file (or its gzip wrapper) is malformed. The message names the file and the fault."""


def read_idx(path: PathLike, max_size: int | None = None) -> np.ndarray:
    """Read an IDX file, plain or gzipped, into a native-endian NumPy array.

    The array's shape is the header's dimensions and its dtype the header's type code
    (uint8 for the (Fashion-)MNIST files). Raises ``IDXError`` (a ``ValueError``) when the
    file is not a complete, well-formed IDX file, and ``FileNotFoundError`` when it is missing.
    Decompression stops as soon as the data outgrows what the header declares (or ``max_size``
    bytes, header included), so a small gzip file that would expand to gigabytes costs nothing.
    """
    return parse_idx(read_idx_bytes(path, max_size), source=str(path))


def read_idx_bytes(path: PathLike, max_size: int | None = None) -> bytearray:
    """The decompressed bytes of the IDX file ``path``, read no further than its header declares.

    The header (the first at most 1,024 bytes) gives the exact length of the file; more data
    than that is an error as soon as it appears, and so is a header declaring more than
    ``max_size`` bytes in all. ``parse_idx`` then checks the rest.
    """
    source = str(path)
    data = bytearray()
    limit = max_size
    declared = None
    for chunk in _decompressed_chunks(path, source):
        data += chunk
        if declared is None and len(data) >= _MAX_HEADER:
            dtype, dims, header_size = _parse_header(data, source)
            declared = header_size + math.prod(dims) * dtype.itemsize
            if max_size is not None and declared > max_size:
                raise IDXError(f"{source}: the header declares {_describe(dims, dtype)}, "
                               f"{declared} bytes in all, more than the {max_size} expected; {_FIX}")
            limit = declared
        if limit is not None and len(data) > limit:
            what = "the header declares" if limit == declared else "expected"
            raise IDXError(f"{source}: trailing bytes: more than the {limit} bytes {what} "
                           f"when decompressed; {_FIX}")
    return data


def read_decompressed(path: PathLike, max_size: int | None = None) -> bytearray:
    """The bytes of ``path``, gunzipped if the file starts with the gzip magic bytes.

    A truncated or corrupt gzip stream (bad data, bad CRC, bad length) raises ``IDXError``
    instead of the ``zlib.error``/``EOFError`` the standard library would give, and so does
    more than ``max_size`` bytes of output (decompression stops there).
    A ``bytearray`` is returned so that arrays made over it with ``numpy.frombuffer`` are writable.
    """
    out = bytearray()
    for chunk in _decompressed_chunks(path, str(path)):
        out += chunk
        if max_size is not None and len(out) > max_size:
            raise IDXError(f"{path}: more than {max_size} bytes when decompressed; {_FIX}")
    return out


def _decompressed_chunks(path: PathLike, source: str) -> Iterator[bytes]:
    """The decompressed bytes of ``path`` a piece at a time (each at most ``_CHUNK`` bytes);
    the file's own bytes when it is not gzipped."""
    with open(path, "rb") as f:
        is_gzip = f.read(2) == GZIP_MAGIC
        f.seek(0)
        decoder = GzipDecoder(source) if is_gzip else None
        while chunk := f.read(_CHUNK):
            if decoder is None:
                yield chunk
            else:
                yield from decoder.feed(chunk)
        if decoder is not None:
            decoder.finish()


class GzipDecoder:
    """Decompress a gzip stream fed in pieces, with bounded output per step.

    ``feed(data)`` yields the decompressed bytes in pieces of at most a megabyte, so the caller
    can count (or hash, or write) them and stop at any point: a few megabytes of crafted gzip
    can expand to gigabytes, and must never be expanded in one call. ``finish()`` raises
    ``IDXError`` unless the stream ended properly; ``source`` and ``fix`` go into the messages. ``zlib`` with ``wbits=31`` expects the gzip
    wrapper and checks its CRC-32 and length trailer. Concatenated gzip members (allowed by the
    format) are decompressed one after another. Used for files (``read_idx``) and downloads.
    """

    def __init__(self, source: str, fix: str = _FIX) -> None:
        self.source, self.fix = source, fix
        self._decompressor = zlib.decompressobj(wbits=31)
        self.bytes_out = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            while True:
                if self._decompressor.eof:
                    if not data:
                        return
                    # A member ended and more bytes follow: they must be the next member
                    # (anything else fails zlib's header check).
                    self._decompressor = zlib.decompressobj(wbits=31)
                out = self._decompressor.decompress(data, _CHUNK)
                if out:
                    self.bytes_out += len(out)
                    yield out
                if self._decompressor.eof:
                    data = self._decompressor.unused_data
                    continue
                data = self._decompressor.unconsumed_tail
                if not data and len(out) < _CHUNK:
                    return  # everything fed is out (a full chunk may leave output pending)
        except zlib.error as e:
            raise IDXError(f"{self.source}: corrupt gzip data ({e}); {self.fix}") from None

    def finish(self) -> None:
        if not self._decompressor.eof:
            raise IDXError(f"{self.source}: truncated gzip file: the compressed stream ends early "
                           f"(after {self.bytes_out} decompressed bytes); {self.fix}")


def _describe(dims: tuple[int, ...], dtype: np.dtype) -> str:
    return "x".join(str(d) for d in dims) + f" {dtype.name}"


def _parse_header(data: bytes | bytearray | memoryview, source: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Check the header at the start of ``data``; return (big-endian dtype, dims, header size)."""
    size = len(data)
    if size < 4:
        raise IDXError(f"{source}: not an IDX file: {size} bytes, too short for the 4-byte magic number; {_FIX}")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        magic = bytes(data[:4]).hex()
        raise IDXError(f"{source}: bad magic number 0x{magic}: an IDX file starts with two zero bytes "
                       f"(is this an HTML error page or a different format?); {_FIX}")
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X} {dtype.name}" for code, dtype in IDX_DTYPES.items())
        raise IDXError(f"{source}: bad magic number: unknown type code 0x{type_code:02X} "
                       f"(known: {known}); {_FIX}")
    if ndim == 0:
        raise IDXError(f"{source}: bad header: ndim is 0, an IDX array needs at least one dimension; {_FIX}")
    header_size = 4 + 4 * ndim
    if size < header_size:
        raise IDXError(f"{source}: truncated header: ndim {ndim} needs {header_size} header bytes, "
                       f"the file has {size}; {_FIX}")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    return IDX_DTYPES[type_code], dims, header_size


def parse_idx(data: bytes | bytearray | memoryview, source: str = "<bytes>") -> np.ndarray:
    """Turn the (decompressed) bytes of an IDX file into an array, checking every header field.

    ``source`` names the data in error messages (``read_idx`` passes the file path).
    The array shares memory with ``data`` when no byte swap is needed (uint8 and int8 always).
    """
    dtype, dims, header_size = _parse_header(data, source)
    expected = math.prod(dims) * dtype.itemsize
    found = len(data) - header_size
    if found != expected:
        fault = "truncated" if found < expected else f"{found - expected} trailing bytes"
        raise IDXError(f"{source}: {fault}: header says {_describe(dims, dtype)} = {expected} bytes of data, "
                       f"found {found}; {_FIX}")
    array = np.frombuffer(data, dtype=dtype, count=math.prod(dims), offset=header_size).reshape(dims)
    # Callers do arithmetic on the result, so hand back the machine's byte order
    # (a no-op view for single bytes; a copy for multi-byte types on little-endian machines).
    return array.astype(dtype.newbyteorder("="), copy=False)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array`` (header then big-endian data), uncompressed."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        supported = ", ".join(dtype.name for dtype in IDX_DTYPES.values())
        raise ValueError(f"IDX cannot store dtype {array.dtype}; supported: {supported}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX stores arrays with 1 to 255 dimensions, got ndim {array.ndim}")
    if any(d >= 2**32 for d in array.shape):
        raise ValueError(f"IDX dimensions must be below 2**32, got shape {array.shape}")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[codes[native]]).tobytes()


def write_idx(path: PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file, gzipped when ``compress`` is true.

    ``compress=None`` (the default) gzips when the file name ends in ``.gz``.
    Supported dtypes: uint8, int8, int16, int32, float32, float64.
    """
    data = idx_bytes(array)
    if compress is None:
        compress = Path(path).suffix == ".gz"
    if compress:
        # mtime=0 makes the output depend on the data only, so tests can compare files.
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)

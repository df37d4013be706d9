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
turn into a silently wrong array.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Union

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

_CHUNK = 1 << 20  # read compressed files a megabyte at a time, so we never hold them whole

_FIX = "delete the file and download it again"


class IDXError(ValueError):
    """An IDX file (or its gzip wrapper) is malformed. The message names the file and the fault."""


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file, plain or gzipped, into a native-endian NumPy array.

    The array's shape is the header's dimensions and its dtype the header's type code
    (uint8 for the (Fashion-)MNIST files). Raises ``IDXError`` (a ``ValueError``) when the
    file is not a complete, well-formed IDX file, and ``FileNotFoundError`` when it is missing.
    """
    return parse_idx(read_decompressed(path), source=str(path))


def read_decompressed(path: PathLike) -> bytearray:
    """The bytes of ``path``, gunzipped if the file starts with the gzip magic bytes.

    A truncated or corrupt gzip stream (bad data, bad CRC, bad length) raises ``IDXError``
    instead of the ``zlib.error``/``EOFError`` the standard library would give.
    A ``bytearray`` is returned so that arrays made over it with ``numpy.frombuffer`` are writable.
    """
    with open(path, "rb") as f:
        is_gzip = f.read(2) == GZIP_MAGIC
        f.seek(0)
        if not is_gzip:
            data = bytearray(os.fstat(f.fileno()).st_size)
            del data[f.readinto(data):]  # in case the file shrank since fstat
            return data
        return _gunzip(f, str(path))


def _gunzip(f, source: str) -> bytearray:
    """Decompress an open gzip file chunk by chunk (lower peak memory than reading it whole).

    ``zlib`` with ``wbits=31`` expects the gzip wrapper and checks its CRC-32 and length
    trailer. Concatenated gzip members (allowed by the format) are decompressed one after another.
    """
    out = bytearray()
    decompressor = zlib.decompressobj(wbits=31)
    try:
        while chunk := f.read(_CHUNK):
            out += decompressor.decompress(chunk)
            while decompressor.eof and decompressor.unused_data:
                # A member ended and more bytes follow: they must be the next member
                # (anything else fails zlib's header check below).
                rest = decompressor.unused_data
                decompressor = zlib.decompressobj(wbits=31)
                out += decompressor.decompress(rest)
    except zlib.error as e:
        raise IDXError(f"{source}: corrupt gzip data ({e}); {_FIX}") from None
    if not decompressor.eof:
        raise IDXError(f"{source}: truncated gzip file: the compressed stream ends early "
                       f"(after {len(out)} decompressed bytes); {_FIX}")
    return out


def parse_idx(data: bytes | bytearray | memoryview, source: str = "<bytes>") -> np.ndarray:
    """Turn the (decompressed) bytes of an IDX file into an array, checking every header field.

    ``source`` names the data in error messages (``read_idx`` passes the file path).
    The array shares memory with ``data`` when no byte swap is needed (uint8 and int8 always).
    """
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
    dtype = IDX_DTYPES[type_code]
    expected = math.prod(dims) * dtype.itemsize
    found = size - header_size
    if found != expected:
        fault = "truncated" if found < expected else f"{found - expected} trailing bytes"
        shape = "x".join(str(d) for d in dims)
        raise IDXError(f"{source}: {fault}: header says {shape} {dtype.name} = {expected} bytes of data, "
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

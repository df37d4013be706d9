"""IDX reading and writing: round trips for every type code, and one test per kind of damage.

Every error test checks that the message names the file and the fault, since those messages
are what a user with a broken download sees.
"""
import gzip
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers import peak_memory
from tinygrad_sm.data import idx
from tinygrad_sm.data.idx import IDXError, read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def sample(dtype, shape=(3, 4, 5)):
    """Values that use the whole range of ``dtype``, so a wrong byte order cannot go unnoticed."""
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return (rng.standard_normal(shape) * 1e3).astype(dtype)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip(tmp_path, dtype, compress):
    array = sample(dtype)
    path = tmp_path / "data.idx"
    write_idx(path, array, compress=compress)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    assert result.shape == array.shape
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable


def test_header_is_big_endian(tmp_path):
    path = tmp_path / "x"
    write_idx(path, np.array([[1, 2, 3]], dtype=np.int32))
    assert path.read_bytes() == (b"\x00\x00\x0c\x02" + b"\x00\x00\x00\x01" + b"\x00\x00\x00\x03"
                                 + b"\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03")


def test_gzip_detected_by_magic_not_name(tmp_path):
    array = sample(np.uint8, (2, 3))
    gz_without_suffix = tmp_path / "images-idx2-ubyte"
    plain_with_suffix = tmp_path / "images-idx2-ubyte.gz"
    write_idx(gz_without_suffix, array, compress=True)
    write_idx(plain_with_suffix, array, compress=False)
    np.testing.assert_array_equal(read_idx(gz_without_suffix), array)
    np.testing.assert_array_equal(read_idx(plain_with_suffix), array)


def test_compress_defaults_to_the_suffix(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros(3, np.uint8))
    write_idx(tmp_path / "a", np.zeros(3, np.uint8))
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "a").read_bytes()[:2] == b"\x00\x00"


def test_concatenated_gzip_members(tmp_path, monkeypatch):
    # The gzip format allows several members back to back; a tiny read size also puts member
    # boundaries in the middle of, and exactly at the end of, read chunks.
    data = idx.idx_bytes(sample(np.int16, (50, 7)))
    path = tmp_path / "multi.gz"
    path.write_bytes(gzip.compress(data[:100]) + gzip.compress(data[100:333]) + gzip.compress(data[333:]))
    for chunk in (1, 7, 64, 1 << 20):
        monkeypatch.setattr(idx, "_CHUNK", chunk)
        np.testing.assert_array_equal(read_idx(path), sample(np.int16, (50, 7)))


@settings(max_examples=60, deadline=None)
@given(array=hnp.arrays(dtype=st.sampled_from([np.dtype(d) for d in DTYPES]),
                        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)),
       compress=st.booleans())
def test_round_trip_property(array, compress):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.idx"
        write_idx(path, array, compress=compress)
        result = read_idx(path)
    assert result.shape == array.shape and result.dtype == array.dtype
    # Compare bytes, not values: NaNs and -0.0 must survive too.
    assert result.tobytes() == array.tobytes()


def test_non_native_input_is_written_correctly(tmp_path):
    array = np.array([1.5, -2.25], dtype=">f8")
    write_idx(tmp_path / "x", array)
    result = read_idx(tmp_path / "x")
    assert result.dtype == np.float64 and result.dtype.isnative
    np.testing.assert_array_equal(result, [1.5, -2.25])


@pytest.mark.parametrize("array, fault", [
    (np.zeros(3, dtype=np.int64), "cannot store dtype int64"),
    (np.zeros(3, dtype=bool), "cannot store dtype bool"),
    (np.array(5, dtype=np.uint8), "ndim 0"),
])
def test_write_rejects_what_idx_cannot_hold(tmp_path, array, fault):
    with pytest.raises(ValueError, match=fault):
        write_idx(tmp_path / "x", array)


# --- damaged files ----------------------------------------------------------------------------

def idx_file(tmp_path, data: bytes, name="train-images-idx3-ubyte", gz=False) -> Path:
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
GOOD = idx.idx_bytes(IMAGES)  # header 16 bytes + 24 data bytes


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("data, faults", [
    (GOOD[:-5], ["truncated", "header says 2x3x4 uint8 = 24 bytes of data, found 19"]),
    (GOOD + b"\x00\x07", ["2 trailing bytes", "24 bytes of data, found 26"]),
    (b"\x01\x00" + GOOD[2:], ["bad magic number 0x0100", "two zero bytes"]),
    (b"<!DOCTYPE html><html>Not found</html>", ["bad magic number 0x3c21", "HTML"]),
    (b"\x00\x00\x07" + GOOD[3:], ["unknown type code 0x07"]),
    (GOOD[:3] + b"\x00" + GOOD[4:], ["ndim is 0"]),
    (GOOD[:3] + b"\x0c" + GOOD[4:], ["truncated header", "ndim 12 needs 52 header bytes", "has 40"]),
    (GOOD[:3] + b"\x0a" + GOOD[4:], ["truncated header", "ndim 10 needs 44 header bytes", "has 40"]),
    (GOOD[:3] + b"\x02" + GOOD[4:], ["trailing bytes", "header says 2x3 uint8 = 6 bytes"]),
    (GOOD[:10], ["truncated header"]),
    (GOOD[:3], ["too short"]),
    (b"", ["too short"]),
], ids=["truncated", "trailing", "bad-magic", "html", "bad-type", "ndim-0", "ndim-too-big",
        "ndim-past-end", "ndim-too-small", "short-header", "tiny", "empty"])
def test_malformed_file_raises_naming_file_and_fault(tmp_path, data, faults, gz):
    path = idx_file(tmp_path, data, gz=gz)
    with pytest.raises(IDXError) as info:
        read_idx(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    for fault in faults:
        assert fault in message
    assert "download it again" in message


def test_idx_error_is_a_value_error():
    assert issubclass(IDXError, ValueError)


def test_wrong_ndim_is_caught_by_the_size_check(tmp_path):
    # An images file relabelled as 1-D: the header's one dimension cannot explain the data.
    data = GOOD[:3] + b"\x01" + GOOD[4:8] + GOOD[16:]
    path = idx_file(tmp_path, data)
    with pytest.raises(IDXError, match="trailing bytes"):
        read_idx(path)


def test_real_style_message(tmp_path):
    header = b"\x00\x00\x08\x03" + np.array([60000, 28, 28], dtype=">u4").tobytes()
    path = idx_file(tmp_path, header + bytes(1234), gz=True)
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte\.gz: truncated: header says "
                                       r"60000x28x28 uint8 = 47040000 bytes of data, found 1234"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    compressed = gzip.compress(GOOD)
    for cut in (5, len(compressed) // 2, len(compressed) - 1):
        path = tmp_path / "cut.gz"
        path.write_bytes(compressed[:cut])
        with pytest.raises(IDXError, match=r"cut\.gz: truncated gzip file"):
            read_idx(path)


@pytest.mark.parametrize("position, fault", [
    (-6, "incorrect data check"),     # the CRC-32 in the trailer
    (-2, "incorrect length check"),   # the uncompressed length in the trailer
    (3, "corrupt gzip data"),         # the flags byte of the header
], ids=["crc", "length", "header"])
def test_corrupt_gzip(tmp_path, position, fault):
    data = bytearray(gzip.compress(GOOD))
    data[position] ^= 0xFF
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(IDXError) as info:
        read_idx(path)
    assert str(info.value).startswith(f"{path}: corrupt gzip data")
    assert fault in str(info.value)


def test_corrupt_gzip_body(tmp_path):
    # A flipped byte in the deflate body: zlib sees an invalid code or the CRC disagrees.
    data = bytearray(gzip.compress(sample(np.float64, (20, 20)).tobytes()))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "body.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(IDXError, match=r"body\.gz: (corrupt|truncated) gzip"):
        read_idx(path)


def test_garbage_after_gzip_stream(tmp_path):
    path = tmp_path / "tail.gz"
    path.write_bytes(gzip.compress(GOOD) + b"this is not gzip")
    with pytest.raises(IDXError, match=r"tail\.gz: corrupt gzip data"):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


# --- bounded decompression --------------------------------------------------------------------

def gzip_bomb(head: bytes, zeros: int) -> bytes:
    """``head`` then ``zeros`` zero bytes, gzipped a megabyte at a time (64 MiB -> 64 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(head)]
    block = bytes(1 << 20)
    for start in range(0, zeros, len(block)):
        parts.append(compressor.compress(block[:zeros - start]))
    return b"".join(parts) + compressor.flush()


def test_a_gzip_bomb_stops_at_the_size_its_header_declares(tmp_path):
    # A 64 KB file whose header declares 24 bytes of data, followed by 64 MiB of zeros: reading
    # stops a megabyte in, not after inflating it all.
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip_bomb(GOOD, 64 << 20))
    assert path.stat().st_size < 100_000

    def read():
        with pytest.raises(IDXError, match=r"bomb\.gz: trailing bytes: more than the 40 bytes the "
                                           r"header declares"):
            read_idx(path)
    assert peak_memory(read) < 4 << 20


def test_max_size_refuses_a_header_that_declares_too_much(tmp_path):
    # A well-formed file, but far larger than the caller expects: refused from its header.
    header = b"\x00\x00\x08\x03" + np.array([60000, 28, 28], dtype=">u4").tobytes()
    path = tmp_path / "big.gz"
    path.write_bytes(gzip_bomb(header, 60000 * 28 * 28))

    def read():
        with pytest.raises(IDXError, match=r"big\.gz: the header declares 60000x28x28 uint8, "
                                           r"47040016 bytes in all, more than the 7840016 expected"):
            read_idx(path, max_size=7840016)
    assert peak_memory(read) < 4 << 20
    assert read_idx(path).shape == (60000, 28, 28)  # without the bound it is a valid file


def test_read_decompressed_stops_at_max_size(tmp_path):
    path = tmp_path / "zeros.gz"
    path.write_bytes(gzip_bomb(b"", 64 << 20))

    def read():
        with pytest.raises(IDXError, match=r"zeros\.gz: more than 1000 bytes when decompressed"):
            idx.read_decompressed(path, max_size=1000)
    assert peak_memory(read) < 4 << 20
    assert len(idx.read_decompressed(path)) == 64 << 20


def test_gzip_decoder_yields_bounded_pieces():
    decoder = idx.GzipDecoder("<test>")
    pieces = list(decoder.feed(gzip_bomb(b"", 5 << 20)))
    decoder.finish()
    assert sum(map(len, pieces)) == 5 << 20 and max(map(len, pieces)) <= 1 << 20
    with pytest.raises(IDXError, match="<test>: truncated gzip file"):
        cut = idx.GzipDecoder("<test>")
        list(cut.feed(gzip.compress(GOOD)[:-4]))
        cut.finish()

"""Files the library writes and reads back: atomic writes, and ``.npz`` archives checked before they are read.

Two mechanisms, shared by everything that saves or loads (``Module.save``/``load``,
``Optimizer.save``/``load``, the Fashion-MNIST download):

**Atomic writes.** ``atomic_write(path)`` hands out a temporary file next to ``path`` and renames
it over ``path`` only once it is completely written and flushed to disk, so a crash midway leaves
the previous file intact, never a half-written one. The temporary file is named
``.NAME.PID.XXXXXXXX.tmp`` (a dot, the target's name, the writer's process id, 8 random hex
digits). It is removed on any exception, Ctrl-C included; a process killed outright (SIGKILL,
power loss) cannot clean up after itself, so every later write to the same target first removes
the *stale* temporary files of that target: those whose process is gone, or that nobody has
written to for ``STALE_AFTER`` seconds. Only names of exactly that pattern are touched. The file
gets the permissions an ordinary ``open(path, "wb")`` would give it: ``0o666 & ~umask`` for a
new file, the old file's mode when it replaces one.

**Checked ``.npz`` archives.** ``save_npz(path, arrays)`` writes the layout ``numpy.savez``
writes (a zip of ``NAME.npy`` members), atomically; inside a ``saved_together()`` block several
files (a model and its optimizer state) are renamed into place together. ``NpzReader`` reads one back in three steps,
so that nothing is read that has not been checked:

1. ``reader.names``: the member names, from the zip's directory (no data read);
2. ``reader.headers()``: each member's ``.npy`` header (dtype, shape, order), read with
   ``numpy.lib.format``'s header readers; Python objects (pickles) and anything but numbers are
   refused, and each member must be exactly as long as its header says;
3. ``reader.read(name)`` / ``reader.read_all()``: the arrays themselves.

A caller checks names and headers against what it expects (a model's parameter names and
shapes) between the steps, so a crafted file that declares a 1 TiB array is refused after
reading a few hundred bytes, not with a ``MemoryError``.
"""
from __future__ import annotations

import math
import os
import re
import secrets
import signal
import stat
import threading
import time
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Iterable, Iterator, Mapping, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["atomic_write", "remove_stale_temporaries", "save_npz", "saved_together",
           "flatten_state", "NpzReader", "ArrayHeader", "CheckpointError", "max_npz_size",
           "STALE_AFTER"]

STALE_AFTER = 3600.0
"""Seconds after its last write when a temporary file counts as stale even if its process lives
(process ids are reused; a write in progress touches its file far more often than that)."""

MAX_HEADER_SIZE = 10_000
"""The longest ``.npy`` header read (numpy's own default limit): ours are about 100 bytes."""

_MEMBER_OVERHEAD = 1 << 17  # zip local + central entries (name, extras) and an .npy header, at most
_ARCHIVE_OVERHEAD = 1 << 17  # the end-of-directory records and a zip comment, at most


class CheckpointError(ValueError):
    """A saved file is damaged, or holds something other than the arrays it should.

    The message names the file and the fault."""


# ------------------------------------------------------------------------------ atomic writes

def _temporary_pattern(basename: str) -> re.Pattern[str]:
    """Our temporary names for the target ``basename``: the current form (with the writer's
    process id), and the form earlier versions made with ``tempfile.mkstemp`` (no process id)."""
    name = re.escape(basename)
    return re.compile(rf"\.{name}\.(?:(?P<pid>[0-9]+)\.[0-9a-f]{{8}}\.tmp|[a-z0-9_]{{8}}\.(?:tmp|part))")


def _process_is_running(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there: rely on the age
        return True
    if pid <= 0:  # os.kill(0, ...) means "my process group": never a writer's id
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        return True
    except (OSError, OverflowError):  # not a valid process id
        return False
    return True


def remove_stale_temporaries(path: PathLike, max_age: float = STALE_AFTER) -> list[str]:
    """Remove the stale temporary files that writes to ``path`` left behind; return their paths.

    A temporary file of ``path`` is one named ``.NAME.PID.XXXXXXXX.tmp`` in its directory (or
    ``.NAME.XXXXXXXX.tmp`` / ``.part``, as earlier versions named them). It is stale when its
    process ``PID`` is no longer running, or when it was last modified more than ``max_age``
    seconds ago. Best effort: a file that cannot be removed is left alone, silently.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = _temporary_pattern(os.path.basename(path))
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > max_age
            pid = match.group("pid")
            if old or (pid is not None and not _process_is_running(int(pid))):
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            continue
    return removed


def _create_temporary(path: str) -> tuple[int, str]:
    """Create and open (exclusively) a new temporary file for ``path``, with an ordinary
    file's permissions: ``os.open`` applies the umask to 0o666, as ``open(path, "w")`` does
    (``tempfile.mkstemp`` would make it 0o600 whatever the umask)."""
    directory, basename = os.path.split(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{basename}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        break
    try:
        # Replacing a file keeps its mode, as an ordinary write into it would.
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return fd, tmp
    try:
        os.chmod(tmp, mode)
    except OSError:
        pass
    return fd, tmp


class _PendingFile:
    """A temporary file being written for ``path``: ``commit()`` renames it into place,
    ``discard()`` removes it."""

    def __init__(self, path: PathLike) -> None:
        self.path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"cannot write {self.path!r}: the directory {directory!r} "
                                    "does not exist; create it first")
        remove_stale_temporaries(self.path)
        fd, self.tmp = _create_temporary(self.path)
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def finish(self) -> None:
        """Flush the data to disk (so the rename never exposes a file whose data is not there)."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.file.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (they are delivered at the end) where that is possible:
    in the main thread, on systems with ``pthread_sigmask``."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def atomic_write(path: PathLike) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically: ``with atomic_write(p) as f: f.write(...)``.

    ``f`` is a temporary file in the same directory (see the module docstring for its name and
    mode); when the block ends without an exception it is flushed to disk and renamed over
    ``path`` (``os.replace``, atomic within one file system). On any exception, Ctrl-C
    included, it is removed and ``path`` is left as it was. Stale temporary files of ``path``
    from killed processes are removed first. Raises ``FileNotFoundError`` if the directory does
    not exist.
    """
    pending = _PendingFile(path)
    try:
        yield pending.file
        pending.finish()
        pending.commit()
    except BaseException:
        pending.discard()
        raise


# ------------------------------------------------------------------------------ writing .npz

def _write_npz(f: IO[bytes], arrays: Mapping[str, Any]) -> None:
    """The layout ``np.savez`` writes: a zip with one ``NAME.npy`` member per array, stored.

    Written by hand because ``np.savez(f, **arrays)`` would reject an array named ``file``.
    """
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def save_npz(path: PathLike, arrays: Mapping[str, Any]) -> None:
    """Write ``arrays`` (name -> array) to ``path`` as an ``.npz`` file, atomically.

    The file is exactly ``path`` (no ``.npz`` is appended) and reads with ``numpy.load``.
    Inside a ``saved_together()`` block the file is renamed into place when the block ends.
    """
    pending = _PendingFile(path)
    try:
        _write_npz(pending.file, arrays)
        pending.finish()
        group = getattr(_group, "pending", None)
        if group is not None:
            group.append(pending)
            return
        pending.commit()
    except BaseException:
        pending.discard()
        raise


_group = threading.local()


@contextmanager
def saved_together() -> Iterator[None]:
    """Make the saves inside the block land together (a model and its optimizer state).

    Each ``save_npz`` in the block (``Module.save``, ``Optimizer.save``) writes its temporary file
    completely, as usual, but none is renamed into place until the block ends without an
    exception; then all are, with Ctrl-C and SIGTERM held back until the last rename. So an
    interruption or an error leaves either all the old files or all the new ones (only a hard
    kill between two renames, a window of microseconds, could mix them). In one thread; blocks
    do not nest.
    """
    if getattr(_group, "pending", None) is not None:
        raise RuntimeError("saved_together() blocks do not nest")
    pending: list[_PendingFile] = []
    _group.pending = pending
    try:
        try:
            yield
        finally:
            _group.pending = None
        with _signals_deferred():
            while pending:
                pending[0].commit()
                pending.pop(0)
    except BaseException:
        for p in pending:
            p.discard()
        raise


def flatten_state(state: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dicts and lists of numbers and arrays -> one flat dict of named arrays.

    ``{"hyperparameters": {"lr": 0.1, "betas": (0.9, 0.999)}, "state": [{"step": 3}]}`` becomes
    ``{"hyperparameters.lr": array(0.1), "hyperparameters.betas": array([0.9, 0.999]),
    "state.0.step": array(3)}``. A dict or a list of dicts is walked into (list items are named
    by index); anything else becomes one array (so a pair of numbers is one array of 2).
    """
    if isinstance(state, Mapping):
        items: Iterable[tuple[Any, Any]] = state.items()
    elif isinstance(state, (list, tuple)) and state and all(isinstance(s, Mapping) for s in state):
        items = enumerate(state)
    elif isinstance(state, (list, tuple)) and not state and prefix:
        return {}
    else:
        return {prefix: np.asarray(state)}
    flat: dict[str, np.ndarray] = {}
    for key, value in items:
        key = str(key)
        if not key or "." in key:
            raise ValueError(f"flatten_state: key {key!r} under {prefix or 'the top'!r} is empty "
                             "or holds a '.', which separates the levels of a flattened name")
        flat.update(flatten_state(value, f"{prefix}.{key}" if prefix else key))
    return flat


# ------------------------------------------------------------------------------ reading .npz

@dataclass(frozen=True)
class ArrayHeader:
    """What the ``.npy`` header of one member declares; no data has been read."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


def max_npz_size(sizes: Iterable[int], itemsize: int = 16) -> int:
    """The most bytes a valid ``.npz`` file can take that holds arrays of ``sizes`` elements
    (each of at most ``itemsize`` bytes, plus generous room for zip and ``.npy`` headers).
    A longer file is refused before its zip directory is even parsed."""
    sizes = list(sizes)
    return _ARCHIVE_OVERHEAD + sum(_MEMBER_OVERHEAD + itemsize * int(n) for n in sizes)


class NpzReader:
    """Read an ``.npz`` file (as ``save_npz`` or ``numpy.savez`` writes) one checked step at a time.

    ``NpzReader(path, max_size=None)`` opens the file and its zip directory; ``max_size``
    refuses a longer file outright. Then ``names`` (from the directory), ``headers()`` (the
    ``.npy`` headers only) and ``read(name)`` / ``read_all()`` (the data). Use it as a context
    manager. A missing or unreadable file raises ``FileNotFoundError`` / ``OSError``; anything
    wrong with the content raises ``CheckpointError`` (a ``ValueError``) naming the path.
    """

    def __init__(self, path: PathLike, max_size: int | None = None) -> None:
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"{self.path!r} is a directory, not a checkpoint file")
        self._file = open(self.path, "rb")  # OSErrors (missing, permission) propagate as they are
        try:
            size = os.fstat(self._file.fileno()).st_size
            if max_size is not None and size > max_size:
                raise self.error(f"it is {size} bytes long, more than a file holding the expected "
                                 f"arrays can be ({max_size} bytes at most)")
            if self._file.read(6) == b"\x93NUMPY":
                raise self.error("it holds a single bare array (an .npy file), not named arrays")
            self._file.seek(0)
            try:
                self._zip = zipfile.ZipFile(self._file)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
                raise self.error(f"it is not a valid .npz file (truncated or corrupt?): {e}") from None
            self._members = self._check_members()
        except BaseException:
            self._file.close()
            raise
        self._headers: dict[str, ArrayHeader] | None = None

    def error(self, fault: str) -> CheckpointError:
        return CheckpointError(f"cannot read checkpoint {self.path!r}: {fault}")

    def _check_members(self) -> dict[str, zipfile.ZipInfo]:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            if not info.filename.endswith(".npy") or info.is_dir():
                raise self.error(f"its member {info.filename!r} is not an .npy array")
            name = info.filename[:-len(".npy")]
            if name in members:
                raise self.error(f"it holds two members named {info.filename!r}")
            if info.flag_bits & 0x1:
                raise self.error(f"its member {info.filename!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self.error(f"its member {info.filename!r} uses compression method "
                                 f"{info.compress_type}; only stored and deflated are read")
            members[name] = info
        return members

    @property
    def names(self) -> list[str]:
        """The array names, in the file's order, from the zip directory alone."""
        return list(self._members)

    def headers(self) -> dict[str, ArrayHeader]:
        """Every member's header (dtype, shape, order), checked; no array data is read.

        Refused: a damaged header, a header longer than ``MAX_HEADER_SIZE``, an object dtype
        (Python objects are stored as pickles, and unpickling runs code), any dtype but bool,
        integer, float and complex, and a member whose length is not the header's plus the data
        the header declares (checked against the zip directory, so a member declaring 2**38
        floats in 500 bytes is refused before anything is allocated).
        """
        if self._headers is None:
            self._headers = {name: self._read_header(name, info) for name, info in self._members.items()}
        return self._headers

    def _read_header(self, name: str, info: zipfile.ZipInfo) -> ArrayHeader:
        fmt = np.lib.format
        member = f"member {info.filename!r}"
        try:
            with self._zip.open(info) as f:
                version = fmt.read_magic(f)
                if version == (1, 0):
                    shape, fortran_order, dtype = fmt.read_array_header_1_0(f, max_header_size=MAX_HEADER_SIZE)
                elif version == (2, 0):
                    shape, fortran_order, dtype = fmt.read_array_header_2_0(f, max_header_size=MAX_HEADER_SIZE)
                else:
                    raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
                offset = f.tell()
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, SyntaxError) as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise self.error(f"{member} has a damaged .npy header: {reason}") from None
        if dtype.hasobject:
            raise self.error(f"{member} holds Python objects (dtype {dtype}), which are stored as "
                             "pickles; loading them could run code, so they are never read")
        if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biufc":
            raise self.error(f"{member} has dtype {dtype}; only arrays of numbers are read")
        header = ArrayHeader(name, tuple(int(d) for d in shape), dtype, bool(fortran_order))
        if info.file_size != offset + header.nbytes:
            raise self.error(f"{member} is {info.file_size} bytes long, but its header declares "
                             f"shape {header.shape} {dtype} = {header.nbytes} bytes of data after "
                             f"{offset} bytes of header (truncated or crafted?)")
        return header

    def read(self, name: str) -> np.ndarray:
        """The array ``name``, read after its header was checked by ``headers()``."""
        header = self.headers()[name]
        try:
            with self._zip.open(self._members[name]) as f:
                array = np.lib.format.read_array(f, allow_pickle=False, max_header_size=MAX_HEADER_SIZE)
                if f.read(1):  # also makes zipfile check the member's CRC-32 at its end
                    raise ValueError("data past the declared end")
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise self.error(f"member {name + '.npy'!r} is damaged: {e}") from None
        if array.shape != header.shape or array.dtype != header.dtype:  # the file changed under us
            raise self.error(f"member {name + '.npy'!r} changed while it was read")
        return array

    def read_all(self) -> dict[str, np.ndarray]:
        """Every array, by name, in the file's order (after ``headers()`` checks them all)."""
        self.headers()
        return {name: self.read(name) for name in self._members}

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""What the main scripts share: argument types, one-line errors, output checks, and signals.

Every bad input to a script (an argument, a file, an environment variable) ends the same way:
one line ``error: ...`` on stderr that names the value and the fix, and exit status 2, before
any work is done where it can be checked that early. A failure during the work itself (training
diverged, a disk filled up) is an ``error: ...`` line with exit status 1. Ctrl-C and SIGTERM
both interrupt the script as ``KeyboardInterrupt`` does, so every ``finally`` and ``except``
clean-up runs (no temporary file is left behind); the script then ends by that same signal, so
the shell or job scheduler sees the conventional status (130 for Ctrl-C, 143 for SIGTERM).
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, NoReturn


class InputError(Exception):
    """A bad argument or input: the script prints ``error: <message>`` and exits with status 2."""


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM: handled like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument raises ``InputError`` (one line, exit 2 from ``main``)
    instead of printing the usage and calling ``sys.exit`` from deep inside ``parse_args``."""

    def error(self, message: str) -> NoReturn:
        raise InputError(f"{message} (see {self.prog} --help)")


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = _parse(text, int, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an integer of at least 0 (a seed, for instance)."""
    value = _parse(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number above 0 (NaN and inf are refused)."""
    value = _parse(text, float, "a number")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
    return value


def path_argument(text: str) -> str:
    """An argparse type: a non-empty path (an empty one would silently mean the current folder)."""
    if not text or "\0" in text:
        raise argparse.ArgumentTypeError(f"must be a path, got {text!r}")
    return text


def _parse(text: str, kind: type, what: str) -> int | float:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def error_text(e: BaseException) -> str:
    """An exception's message (``str(KeyError(m))`` would wrap it in quotes)."""
    if isinstance(e, KeyError) and len(e.args) == 1 and isinstance(e.args[0], str):
        return e.args[0]
    return str(e) or type(e).__name__


def fail(message: object, status: int = 2) -> int:
    """Print ``error: message`` to stderr, as one line (a library message of several lines is
    joined), and return ``status``, for ``return fail(...)``."""
    line = " ".join(part.strip() for part in str(message).splitlines())
    print(f"error: {line}", file=sys.stderr)
    return status


# ------------------------------------------------------------------ outputs

def output_dir_problem(path: str, what: str) -> str | None:
    """Why files could not be written into the folder ``path`` (made if missing), or None.

    Checked at start-up, so an unusable ``--out`` is an error before training, not a traceback
    after it. The folder is not created here: a run that fails later leaves nothing behind.
    """
    full = os.path.abspath(path)
    if os.path.exists(full):
        if not os.path.isdir(full):
            return f"{what} {path} is not a folder; pick another {what}"
        if not os.access(full, os.W_OK | os.X_OK):
            return f"{what} {path} is not writable; pick another {what}"
        return None
    parent = os.path.dirname(full)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"cannot create {what} {path}: {parent} is not a folder; pick another {what}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create {what} {path}: {parent} is not writable; pick another {what}"
    return None


def output_file_problem(path: str, what: str) -> str | None:
    """Why ``path`` could not be written (atomically: a new file in its folder, renamed over
    it), or None. Its folder must exist already."""
    full = os.path.abspath(path)
    folder = os.path.dirname(full)
    if os.path.isdir(full):
        return f"{what} {path} is a folder; give a file name"
    if not os.path.isdir(folder):
        return f"{what} {path}: the folder {folder} does not exist; create it first"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{what} {path}: the folder {folder} is not writable; pick another {what}"
    return None


# ------------------------------------------------------------------ signals and the entry point

@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` (a ``KeyboardInterrupt``) in the main thread,
    as Ctrl-C raises ``KeyboardInterrupt``, so clean-up code runs either way. Only in the main
    thread, where Python runs signal handlers; the old handler is put back on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated(signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run(main: Callable[[], int]) -> NoReturn:
    """A script's entry point: ``sys.exit(main())``, with SIGTERM handled like Ctrl-C.

    After an interruption (whose clean-up has run as the exception went up) it prints one line
    and ends the process by the same signal, with the default action, so the parent sees
    "killed by SIGTERM" (status 143 in a shell) or "by SIGINT" (130), as for any program.
    """
    try:
        with sigterm_as_interrupt():
            status = main()
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Terminated) else signal.SIGINT
        print(f"interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        sys.exit(128 + signum)  # where the signal does not end the process (Windows)
    sys.exit(status)

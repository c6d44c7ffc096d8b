"""Diagram code runs in a separate process that the operating system bounds.

Scripts, and expressions that could do unbounded work, are sent to a runner: a Python
process of its own (`python -m engine.runner`), started with none of the server's
environment (no database address, no secret key) and no open files but its two pipes,
whose memory and file sizes are capped by `setrlimit` before it reads any diagram code.
The server waits for an answer at most `MAX_SECONDS`; a runner that overruns is killed
and replaced, and the caller gets `ScriptLimitExceeded`. A runner that runs out of
memory answers so, or dies; either way the server's own memory does not grow. What a
runner sends back is read only up to `MAX_RESULT` bytes, unpickled with a whitelist of
plain data types, and checked like data a client sends (nesting, integer size).

The restricted language (engine.scripting's checker) still refuses imports, dunders and
attributes outside a short list, before anything is sent: the process is the bound on
resources, the checker the bound on reach.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAX_SECONDS = 2.0  # wall time of one script or expression
MAX_MEMORY = 256 * 1024 * 1024  # a runner's address space, the interpreter's own (about 30 MB) included
MAX_RESULT = 4 * 1024 * 1024  # bytes of what one call sends back
MAX_REQUEST = 8 * 1024 * 1024  # bytes of the data a call is given (a case's data is bounded by this too)
MAX_DEPTH = 32  # nesting of what a script produces, as of a client's JSON
MAX_INT_BITS = 14_300  # about 4,300 decimal digits, as of a client's JSON
POOL = 4  # runners per server process, at most (one per thread that runs diagram code at once)

HEADER = struct.Struct("!I")


class SandboxError(Exception):
    """The runner could not run the code: it overran its time or memory, its answer was
    too big, or it died. The message says which, for a person to read."""


# --- what crosses the pipe -----------------------------------------------------------

_ALLOWED_CLASSES = {
    ("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"), ("datetime", "timedelta"),
    ("datetime", "timezone"), ("decimal", "Decimal"), ("builtins", "set"), ("builtins", "frozenset"),
}


class _PlainData(pickle.Unpickler):
    """Unpickles plain data only: a runner's answer is not trusted to name classes."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_CLASSES:
            raise pickle.UnpicklingError(f"{module}.{name} is not plain data")
        return super().find_class(module, name)


def plain(value, depth: int = 0):
    """`value` as plain data (what a script may hand back), or SandboxError naming what is not."""
    if depth > MAX_DEPTH:
        raise SandboxError(f"the data nests deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, float, str, decimal.Decimal, dt.timedelta)):
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise SandboxError("an integer of more than 4300 digits")
        return value
    if isinstance(value, (dt.date, dt.time)):  # datetimes too; zones as fixed offsets
        tz = getattr(value, "tzinfo", None)
        if tz is not None and not isinstance(tz, dt.timezone):
            offset = value.utcoffset()
            value = value.replace(tzinfo=dt.timezone(offset) if offset is not None else None)
        return value
    if isinstance(value, dict):
        return {plain(k, depth + 1): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return {plain(v, depth + 1) for v in value}
    raise SandboxError(f"a value of type {type(value).__name__} cannot be kept as data")


def send(stream, obj) -> None:
    write(stream, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def write(stream, data: bytes) -> None:
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


# --- the server's side -----------------------------------------------------------------

class _Runner:
    def __init__(self) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
               "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.runner"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, env=env,
                                     close_fds=True, start_new_session=True)
        self.calendar_key = None

    def call(self, request: bytes, timeout: float):
        write(self.proc.stdin, request)
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        header = self._read(fd, HEADER.size, deadline)
        (size,) = HEADER.unpack(header)
        if size > MAX_RESULT + 4096:  # the runner checks this itself: one that does not is not trusted
            raise EOFError
        return _PlainData(io.BytesIO(self._read(fd, size, deadline))).load()

    @staticmethod
    def _read(fd: int, n: int, deadline: float) -> bytes:
        chunks, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class Sandbox:
    """The runners of this process (made on first use, again after a fork)."""

    def __init__(self, size: int = POOL, seconds: float = MAX_SECONDS):
        self.size = size
        self.seconds = seconds
        self._pid = None
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()

    def _take(self) -> _Runner:
        with self._lock:
            if self._pid != os.getpid():  # a forked child never uses its parent's runners
                self._pid, self._idle, self._made = os.getpid(), queue.LifoQueue(), 0
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                if self._made < self.size:
                    self._made += 1
                    make = True
                else:
                    make = False
        if make:
            try:
                return _Runner()
            except BaseException:
                with self._lock:
                    self._made -= 1
                raise
        return self._idle.get()

    def _give(self, runner: _Runner | None) -> None:
        if runner is None:
            with self._lock:
                self._made -= 1
            return
        self._idle.put(runner)

    def run(self, kind: str, source: str, context: dict, extra: dict | None, now: dt.datetime, calendar):
        """Run `source` ("eval" or "exec") on `context` in a runner; returns the value, or
        for "exec" (changed {name: value}, [deleted names]). Raises SandboxError when the
        runner overruns, or the script's own error as (type name, message) in ScriptFailed."""
        runner = self._take()
        key = calendar.key if calendar is not None else None
        send = None if calendar is None or runner.calendar_key == key else calendar
        data = pickle.dumps((kind, source, context, extra or {}, now, send), protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > MAX_REQUEST:  # the runner never sees it
            self._give(runner)
            raise SandboxError(f"the data it is given is larger than {MAX_REQUEST // (1024 * 1024)} MiB")
        try:
            status, value = runner.call(data, self.seconds)
        except TimeoutError:
            runner.kill()
            self._give(None)
            raise SandboxError(f"it ran longer than {self.seconds:g} s") from None
        except (EOFError, OSError, pickle.UnpicklingError, struct.error):
            runner.kill()
            self._give(None)
            raise SandboxError("it stopped the process it ran in (out of memory?)") from None
        if calendar is not None:
            runner.calendar_key = key
        self._give(runner)
        if status == "limit":
            raise SandboxError(value)
        if status == "error":
            raise ScriptFailed(*value)
        return value

    def close(self) -> None:
        """End this process's runners (tests, shutdown)."""
        while True:
            try:
                runner = self._idle.get_nowait()
            except queue.Empty:
                break
            runner.kill()
            with self._lock:
                self._made -= 1


class ScriptFailed(Exception):
    """The script raised an error of its own (a KeyError, a ZeroDivisionError...): its type's
    name and its arguments."""

    def __init__(self, kind: str, args: list):
        super().__init__(f"{kind}: {', '.join(map(str, args))}" if args else kind)
        self.kind = kind
        self.args_ = tuple(args)

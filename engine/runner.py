"""The sandbox runner: the process diagram code runs in (engine.sandbox starts it).

It bounds itself with `setrlimit` before it reads any request, then answers requests on its
pipes until they close: each is a script or an expression, the task data it runs on, the
hall's time and, when it counts working days, the hall's calendar.
"""

from __future__ import annotations

import pickle
import resource
import signal
import sys

from engine import calendar, clock, scripting
from engine.sandbox import HEADER, MAX_MEMORY, MAX_RESULT, SandboxError, plain, send


def _limit_self() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY, MAX_MEMORY))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # writes no file
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))


def _answer(kind: str, source: str, context: dict, extra: dict):
    try:
        if kind == "eval":
            answer = ("ok", plain(scripting.run_eval(source, context, extra)))
        else:
            before = pickle.loads(pickle.dumps(context))
            scripting.run_exec(source, context, extra)
            changed = {k: plain(v) for k, v in context.items() if k not in before or before[k] != v}
            answer = ("ok", (changed, [k for k in before if k not in context]))
        if len(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)) > MAX_RESULT:
            answer = ("limit", f"its result is larger than {MAX_RESULT // (1024 * 1024)} MiB")
    except MemoryError:
        answer = ("limit", f"it needs more than {MAX_MEMORY // (1024 * 1024)} MiB of memory")
    except RecursionError:
        answer = ("limit", "it recurses too deeply")
    except SandboxError as e:
        answer = ("limit", str(e))
    except Exception as e:  # the script's own error, as SpiffWorkflow would report it
        args = [a if isinstance(a, (str, int, float, bool, type(None))) else str(a) for a in e.args[:4]]
        answer = ("error", (type(e).__name__, [a[:2000] if isinstance(a, str) else a for a in args]))
    return answer


def serve() -> None:
    """Read requests from stdin, answer on stdout, until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the server's
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    _limit_self()
    holder = calendar.Fixed()
    calendar.activate(holder)
    while True:
        header = inp.read(HEADER.size)
        if len(header) < HEADER.size:
            return
        (size,) = HEADER.unpack(header)
        kind, source, context, extra, now, cal = pickle.loads(inp.read(size))
        if cal is not None:
            holder.calendar = cal
        clock.freeze(now)
        answer = _answer(kind, source, context, extra)
        try:
            send(out, answer)
        except MemoryError:
            send(out, ("limit", f"it needs more than {MAX_MEMORY // (1024 * 1024)} MiB of memory"))


if __name__ == "__main__":
    serve()

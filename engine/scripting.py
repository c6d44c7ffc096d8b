"""The restricted environment every expression and script from a diagram runs in.

A diagram is uploaded by a person, so its text must never become a way to run code on the
server. Two bounds hold it:
- reach: code is parsed and checked against a whitelist (no imports, no dunder or private
  attributes, no attribute outside a short list of data methods, no open/exec/eval/
  compile), at deploy time (`check`) and again before it runs, so what deploys is what runs;
- resources: scripts, and any expression that could do more than a few steps (a call, a
  loop, arithmetic), run in another process the operating system bounds (engine.sandbox):
  killed after MAX_SECONDS, its memory capped, its result sized and checked. Only an
  expression made of names, constants, subscripts, comparisons, `and`/`or`/`not`, `len`,
  `.get(...)` and the hall's helpers (a gateway's `decision == "accept"`, a due date's
  `${workdays(3)}`) runs in the server's process: its work is bounded by the size of the
  data it reads, which is bounded as a client's is.

Camunda diagrams write expressions as `${...}` and use `true`/`false`/`null`; both work.
"""

from __future__ import annotations

import ast
import datetime as _dt
import decimal
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import calendar, clock, sandbox

MAX_SOURCE = 20_000          # characters of one expression or script


class ScriptError(Exception):
    """Code that the restricted environment refuses, with the reason."""


class ScriptLimitExceeded(ScriptError):
    """The code ran past its bounds (time, memory, the size of its result); it was stopped."""


# Attribute names a script may use: the everyday methods of str, list, dict, set,
# date, datetime and timedelta. Everything else is refused at check time.
ALLOWED_ATTRIBUTES = frozenset("""
    get keys values items update setdefault pop popitem copy clear
    append extend insert remove index count sort reverse
    add discard union intersection difference symmetric_difference issubset issuperset
    strip lstrip rstrip split rsplit splitlines join lower upper title capitalize casefold
    startswith endswith replace find rfind partition rpartition
    isdigit isdecimal isnumeric isalpha isalnum isspace islower isupper
    year month day hour minute second microsecond tzinfo
    weekday isoweekday isoformat isocalendar date time timestamp astimezone strftime
    days seconds microseconds total_seconds
    real imag is_integer
""".split())

FORBIDDEN_NAMES = frozenset({
    "open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "dir",
    "getattr", "setattr", "delattr", "hasattr", "input", "breakpoint", "help", "type",
    "object", "memoryview", "bytearray", "bytes", "super", "classmethod", "staticmethod",
    "property", "exit", "quit", "license", "credits", "copyright",
})

_EL = re.compile(r"^\s*\$\{(.*)\}\s*$", re.S)


def unwrap(source: str) -> str:
    """`${expr}` (Camunda's expression syntax) -> `expr`; anything else unchanged."""
    m = _EL.match(source)
    return m.group(1) if m else source


class _Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[str] = []

    def refuse(self, node: ast.AST, why: str) -> None:
        line = getattr(node, "lineno", None)
        self.problems.append(f"line {line}: {why}" if line else why)

    def visit_Import(self, node):
        self.refuse(node, "import is not allowed")

    visit_ImportFrom = visit_Import

    def visit_Name(self, node):
        if node.id.startswith("__"):
            self.refuse(node, f"name '{node.id}' is not allowed (double underscore)")
        elif node.id in FORBIDDEN_NAMES:
            self.refuse(node, f"'{node.id}' is not allowed")

    def visit_Attribute(self, node):
        if node.attr.startswith("_"):
            self.refuse(node, f"attribute '{node.attr}' is not allowed (underscore)")
        elif node.attr not in ALLOWED_ATTRIBUTES:
            self.refuse(node, f"attribute '{node.attr}' is not allowed")
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        self.refuse(node, "class definitions are not allowed")

    def visit_Global(self, node):
        self.refuse(node, "global/nonlocal are not allowed")

    visit_Nonlocal = visit_Global

    def _refuse_kind(self, node):
        self.refuse(node, f"{type(node).__name__} is not allowed")

    visit_AsyncFunctionDef = visit_Await = visit_Yield = visit_YieldFrom = _refuse_kind
    visit_AsyncFor = visit_AsyncWith = visit_With = _refuse_kind

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.refuse(node, "a bare 'except:' is not allowed; name the exception")
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.decorator_list:
            self.refuse(node, "decorators are not allowed")
        if node.name.startswith("_"):
            self.refuse(node, f"function name '{node.name}' is not allowed (underscore)")
        self.generic_visit(node)

    def visit_arg(self, node):
        if node.arg.startswith("__"):
            self.refuse(node, f"argument '{node.arg}' is not allowed")


def check(source: str, mode: str = "eval") -> list[str]:
    """Problems that keep `source` from running in the restricted environment (empty: fine)."""
    if source is None or not str(source).strip():
        return ["empty expression"]
    if len(source) > MAX_SOURCE:
        return [f"longer than {MAX_SOURCE} characters"]
    try:
        tree = ast.parse(unwrap(source).strip() if mode == "eval" else source, mode=mode)
    except SyntaxError as e:
        return [f"syntax error at line {e.lineno}: {e.msg}"]
    checker = _Checker()
    checker.visit(tree)
    return checker.problems


@lru_cache(maxsize=4096)
def compile_code(source: str, mode: str = "eval"):
    """Check, guard and compile. Raises ScriptError naming what is refused."""
    problems = check(source, mode)
    if problems:
        raise ScriptError("; ".join(problems))
    tree = ast.parse(unwrap(source).strip() if mode == "eval" else source, mode=mode)
    return compile(tree, "<diagram>", mode)


# An expression made only of these does work bounded by the size of what it reads.
_BOUNDED_NODES = (ast.Expression, ast.Name, ast.Load, ast.Constant, ast.Compare, ast.BoolOp, ast.And, ast.Or,
                  ast.UnaryOp, ast.Not, ast.USub, ast.Subscript, ast.List, ast.Tuple, ast.Eq, ast.NotEq, ast.Lt,
                  ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn)
_BOUNDED_CALLS = frozenset({"len", "workdays", "now", "today"})
_BOUNDED_METHODS = frozenset({"get", "isoformat"})


@lru_cache(maxsize=4096)
def bounded(source: str) -> bool:
    """Can this expression run in the server's own process (see the module's docstring)?"""
    try:
        tree = ast.parse(unwrap(source).strip(), mode="eval")
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            plain = isinstance(f, ast.Name) and f.id in _BOUNDED_CALLS
            method = isinstance(f, ast.Attribute) and f.attr in _BOUNDED_METHODS
            if not (plain or method) or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                return False
        elif isinstance(node, ast.Attribute):
            if node.attr not in _BOUNDED_METHODS:
                return False
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, int) and abs(node.value).bit_length() > 64:
                return False
        elif isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                return False
        elif not isinstance(node, _BOUNDED_NODES):
            return False
    return True


# ---------------------------------------------------------------------------------------
# The names a script sees.

SAFE_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "abs all any bool dict divmod enumerate filter float frozenset int isinstance len list range "
        "map max min next reversed round set slice sorted str sum tuple zip iter callable chr ord "
        "Exception ValueError KeyError IndexError TypeError ZeroDivisionError ArithmeticError "
        "LookupError RuntimeError AssertionError NameError"
    ).split()
}


def _today() -> _dt.date:
    return clock.local_now().date()


# Names every expression sees besides the task data.
HELPERS: dict[str, Any] = {
    "true": True, "false": False, "null": None, "None": None, "True": True, "False": False,
    "date": _dt.date, "datetime": _dt.datetime, "timedelta": _dt.timedelta, "timezone": _dt.timezone,
    "Decimal": decimal.Decimal, "math_floor": math.floor, "math_ceil": math.ceil,
    "now": clock.local_now, "today": _today, "workdays": calendar.workdays,
}


def _globals(context: Mapping, extra: Mapping | None) -> dict:
    g = {"__builtins__": SAFE_BUILTINS}
    g.update(HELPERS)
    g.update(context)
    if extra:
        g.update(extra)
    return g


def run_eval(source: str, context: Mapping, extra: Mapping | None = None) -> Any:
    """Evaluate checked code here, in this process: for a bounded expression, or in a
    sandbox runner (engine.sandbox)."""
    return eval(compile_code(source, "eval"), _globals(context, extra))


def run_exec(source: str, context: dict, extra: Mapping | None = None) -> None:
    """Run a checked script here (in a sandbox runner): what it assigns at top level becomes
    task data, what it deletes is removed; functions it defines and the helpers are left out."""
    g = _globals(context, extra)
    injected = {k: v for k, v in g.items() if k not in context}
    exec(compile_code(source, "exec"), g)
    result = {
        k: v for k, v in g.items()
        if not k.startswith("__") and not (k in injected and injected[k] is v) and not callable(v)
    }
    context.clear()
    context.update(result)


def evaluate(source: str, context: Mapping, extra: Mapping | None = None) -> Any:
    """The value of an expression from a diagram over `context` (task data)."""
    compile_code(source, "eval")  # what the checker refuses is refused here, before anything runs
    if bounded(source):
        return run_eval(source, context, extra)
    return _sandboxed("eval", source, context, extra)


def execute(source: str, context: dict, extra: Mapping | None = None) -> None:
    """Run a script from a diagram on `context` (task data), in a sandbox runner."""
    compile_code(source, "exec")
    changed, deleted = _sandboxed("exec", source, context, extra)
    for name in deleted:
        context.pop(name, None)
    context.update(changed)


_SANDBOX = None


def _sandboxed(kind: str, source: str, context: Mapping, extra: Mapping | None):
    global _SANDBOX
    if _SANDBOX is None:
        _SANDBOX = sandbox.Sandbox()
    counts_workdays = "workdays" in _names(source, kind)  # the runner gets the calendar only when it counts
    try:
        return _SANDBOX.run(kind, source, dict(context), dict(extra or {}), clock.now(),
                            calendar.current() if counts_workdays else None)
    except sandbox.SandboxError as e:
        raise ScriptLimitExceeded(f"the script was stopped: {e}") from None
    except sandbox.ScriptFailed as e:
        raise _as_raised(e) from None


@lru_cache(maxsize=4096)
def _names(source: str, mode: str) -> frozenset[str]:
    tree = ast.parse(unwrap(source).strip() if mode == "eval" else source, mode=mode)
    return frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))


def _as_raised(e) -> Exception:
    """A script's own error, as the builtin exception it raised where there is one."""
    cls = SAFE_BUILTINS.get(e.kind)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(*e.args_)
    return ScriptError(str(e))


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow environment: every evaluate/execute goes through the checks above."""

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, context, external_context)

    def execute(self, script, context, external_context=None):
        execute(script, context, external_context)
        return True

    def call_service(self, context, **kwargs):
        raise ScriptError("service tasks are not supported")


class HallScriptEngine(PythonScriptEngine):
    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression):
        # DMN uses validate() to probe syntax; keep its SyntaxError contract.
        ast.parse(unwrap(expression))

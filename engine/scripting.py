"""The restricted environment every expression and script from a diagram runs in.

A diagram is uploaded by a person, so its text must never become a way to run code on the
server. Code is parsed, checked against a whitelist (no imports, no dunder or private
attributes, no attribute outside a short list of data methods, no open/exec/eval/compile),
rewritten so that loops, comprehensions, calls into user functions and size-amplifying
operators pass through guards, and only then compiled. The same check runs at deploy time
(`check`) and at run time (`compile_code`), so what deploys is what runs.

Camunda diagrams write expressions as `${...}` and use `true`/`false`/`null`; both work.
"""

from __future__ import annotations

import ast
import datetime as _dt
import decimal
import math
import re
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import clock

MAX_SOURCE = 20_000          # characters of one expression or script
MAX_STEPS = 1_000_000        # loop iterations, comprehension items and function calls per run
MAX_SECONDS = 2.0            # wall time per run
MAX_SIZE = 1_000_000         # longest string / collection an operator may build
MAX_POWER_BITS = 100_000     # largest integer a power or shift may produce


class ScriptError(Exception):
    """Code that the restricted environment refuses, with the reason."""


class ScriptLimitExceeded(BaseException):
    """Raised when code runs past its budget.

    A BaseException, so that no `except` clause a script may write can swallow it (bare
    `except:` and `except BaseException` are refused by the checker)."""


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

# Methods whose result can be far larger than their inputs: routed through `_guarded_call`.
AMPLIFYING_METHODS = frozenset({"join", "replace"})

FORBIDDEN_NAMES = frozenset({
    "open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "dir",
    "getattr", "setattr", "delattr", "hasattr", "input", "breakpoint", "help", "type",
    "object", "memoryview", "bytearray", "bytes", "super", "classmethod", "staticmethod",
    "property", "exit", "quit", "license", "credits", "copyright",
})

_GUARD_PREFIX = "__hall_"
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

    def visit_FormattedValue(self, node):
        # f"{x:>999999999}" would allocate without bound: keep format specs short.
        spec = node.format_spec
        if spec is not None:
            text = "".join(v.value for v in getattr(spec, "values", []) if isinstance(v, ast.Constant))
            if any(len(d) > 4 for d in re.findall(r"\d+", text)):
                self.refuse(node, "format width too large")
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


class _Guard(ast.NodeTransformer):
    """Insert budget and size guards; runs only on code that passed `_Checker`."""

    def _call(self, name: str, *args: ast.expr) -> ast.Call:
        return ast.Call(func=ast.Name(id=_GUARD_PREFIX + name, ctx=ast.Load()), args=list(args), keywords=[])

    def _tick(self) -> ast.Expr:
        return ast.Expr(value=self._call("tick"))

    def visit_While(self, node):
        self.generic_visit(node)
        node.body.insert(0, self._tick())
        return node

    def visit_For(self, node):
        self.generic_visit(node)
        node.iter = self._call("iter", node.iter)
        return node

    def visit_comprehension(self, node):
        self.generic_visit(node)
        node.iter = self._call("iter", node.iter)
        return node

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        node.body.insert(0, self._tick())
        return node

    def visit_Lambda(self, node):
        self.generic_visit(node)
        node.body = ast.BoolOp(op=ast.Or(), values=[self._call("tick"), node.body])
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        op = {ast.Mult: "mult", ast.Pow: "pow", ast.LShift: "lshift", ast.Mod: "mod"}.get(type(node.op))
        return self._call(op, node.left, node.right) if op else node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        op = {ast.Mult: "mult", ast.Pow: "pow", ast.LShift: "lshift", ast.Mod: "mod"}.get(type(node.op))
        if not op:
            return node
        load = ast.Name(id=node.target.id, ctx=ast.Load()) if isinstance(node.target, ast.Name) else None
        if load is None:  # subscript/attribute targets: keep the guard by refusing nothing, evaluate plainly
            return node
        return ast.Assign(targets=[node.target], value=self._call(op, load, node.value), lineno=node.lineno)

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in AMPLIFYING_METHODS:
            return ast.Call(
                func=ast.Name(id=_GUARD_PREFIX + "call", ctx=ast.Load()),
                args=[f.value, ast.Constant(f.attr), *node.args],
                keywords=node.keywords,
            )
        return node


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
    tree = ast.fix_missing_locations(_Guard().visit(tree))
    return compile(tree, "<diagram>", mode)


# ---------------------------------------------------------------------------------------
# Run-time guards and the names a script sees.

class _Budget:
    __slots__ = ("deadline", "spent", "steps")

    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS
        self.spent = False

    def tick(self):
        self.steps += 1
        if self.spent or self.steps > MAX_STEPS or (
            not self.steps & 0xFFF and time.monotonic() > self.deadline
        ):
            self.spent = True
            raise ScriptLimitExceeded(f"script ran longer than allowed ({MAX_STEPS} steps or {MAX_SECONDS} s)")
        return False

    def iterate(self, iterable):
        for item in iterable:
            self.tick()
            yield item


def _size(value) -> int:
    return len(value) if isinstance(value, (str, list, tuple, bytes)) else 0


def _too_big(what: str):
    return ScriptError(f"{what} would exceed the size limit ({MAX_SIZE})")


def _mult(a, b):
    if isinstance(a, int) and _size(b):
        a, b = b, a
    if _size(a) and isinstance(b, int) and _size(a) * b > MAX_SIZE:
        raise _too_big("repetition")
    return a * b


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        if a.bit_length() * b > MAX_POWER_BITS:
            raise _too_big("power")
    return a**b


def _lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > MAX_POWER_BITS:
        raise _too_big("shift")
    return a << b


_PCT_WIDTH = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d+))?")


def _mod(a, b):
    if isinstance(a, str) and any(len(w) > 4 for m in _PCT_WIDTH.findall(a) for w in m):
        raise _too_big("format width")
    return a % b


def _call(obj, name, *args, **kwargs):
    if name == "join" and isinstance(obj, str):
        parts = list(args[0]) if args else []
        if sum(len(p) if isinstance(p, str) else 0 for p in parts) + len(obj) * len(parts) > MAX_SIZE:
            raise _too_big("join")
        return obj.join(parts, **kwargs)
    if name == "replace" and isinstance(obj, str) and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
            grow = (obj.count(old) if old else len(obj) + 1) * (len(new) - len(old))
            if len(obj) + grow > MAX_SIZE:
                raise _too_big("replace")
    return getattr(obj, name)(*args, **kwargs)


def _range(*args):
    r = range(*args)
    if len(r) > MAX_SIZE:
        raise _too_big("range")
    return r


SAFE_BUILTINS: dict[str, Any] = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "abs all any bool dict divmod enumerate filter float frozenset int isinstance len list "
        "map max min next reversed round set slice sorted str sum tuple zip iter callable chr ord "
        "Exception ValueError KeyError IndexError TypeError ZeroDivisionError ArithmeticError "
        "LookupError RuntimeError AssertionError NameError"
    ).split()
}
SAFE_BUILTINS["range"] = _range


def _today() -> _dt.date:
    return clock.local_now().date()


# Names every expression sees besides the task data. Hall-specific helpers (working days)
# are added by `register_helper`.
HELPERS: dict[str, Any] = {
    "true": True, "false": False, "null": None, "None": None, "True": True, "False": False,
    "date": _dt.date, "datetime": _dt.datetime, "timedelta": _dt.timedelta, "timezone": _dt.timezone,
    "Decimal": decimal.Decimal, "math_floor": math.floor, "math_ceil": math.ceil,
    "now": clock.local_now, "today": _today,
}


def register_helper(name: str, fn: Callable) -> None:
    HELPERS[name] = fn


def _globals(context: Mapping, budget: _Budget) -> dict:
    g = {
        "__builtins__": SAFE_BUILTINS,
        "__hall_tick": budget.tick, "__hall_iter": budget.iterate,
        "__hall_mult": _mult, "__hall_pow": _pow, "__hall_lshift": _lshift, "__hall_mod": _mod,
        "__hall_call": _call,
    }
    g.update(HELPERS)
    g.update(context)
    return g


def evaluate(source: str, context: Mapping, extra: Mapping | None = None) -> Any:
    budget = _Budget()
    g = _globals(context, budget)
    if extra:
        g.update(extra)
    return eval(compile_code(source, "eval"), g)


def execute(source: str, context: dict, extra: Mapping | None = None) -> None:
    """Run a script in `context` (the task data): what it assigns at top level becomes task
    data, what it deletes is removed; functions it defines and the helpers are left out."""
    budget = _Budget()
    g = _globals(context, budget)
    if extra:
        g.update(extra)
    injected = {k: v for k, v in g.items() if k not in context}
    exec(compile_code(source, "exec"), g)
    result = {
        k: v for k, v in g.items()
        if not k.startswith("__") and not (k in injected and injected[k] is v) and not callable(v)
    }
    context.clear()
    context.update(result)


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

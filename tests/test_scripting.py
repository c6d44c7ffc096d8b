"""The restricted environment: a diagram must never become a way to run code on the server."""

import pytest

from engine import scripting

REFUSED = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('x=1')",
    "compile('1', 'x', 'eval')",
    "getattr(1, '__class__')",
    "type(1)",
    "'{0.__class__}'.format(1)",
    "(lambda: 0).__globals__",
    "[x for x in ()].gi_frame",
    "globals()",
    "vars()",
    "x._secret",
]
REFUSED_SCRIPTS = [
    "import os",
    "from os import path",
    "class A: pass",
    "try:\n    pass\nexcept:\n    pass",
    "def f():\n    yield 1",
    "global x\nx = 1",
    "with open('x') as f: pass",
]


@pytest.mark.parametrize("source", REFUSED)
def test_expressions_that_reach_outside_are_refused(source):
    assert scripting.check(source)
    with pytest.raises(scripting.ScriptError):
        scripting.evaluate(source, {"x": 1})


@pytest.mark.parametrize("source", REFUSED_SCRIPTS)
def test_scripts_that_reach_outside_are_refused(source):
    assert scripting.check(source, "exec")


@pytest.mark.parametrize("source", [
    "while True:\n    pass",
    "x = 0\nwhile True:\n    try:\n        x += 1\n    except Exception:\n        pass",
    "n = sum(1 for a in range(10**6) for b in range(10**6))",
    "def f():\n    try:\n        f()\n    except Exception:\n        f()\nf()",
    "f = lambda g: g(g)\nf(f)",
])
def test_endless_work_is_stopped(source):
    with pytest.raises((scripting.ScriptLimitExceeded, RecursionError)):
        scripting.execute(source, {})


@pytest.mark.parametrize("source", [
    "x = 'a' * 10**8", "x = [0] * 10**8", "x = 2 ** 10**8", "x = 1 << 10**8", "x = '%999999999d' % 1",
    "x = ''.join(['a' * 100000] * 100)", "x = ('a' * 300000).replace('a', 'aaaa')", "x = list(range(10**8))",
])
def test_unbounded_allocation_is_refused(source):
    with pytest.raises(scripting.ScriptError):
        scripting.execute(source, {})


def test_ordinary_hall_scripts_work():
    data = {"depts": [{"name": "工商", "agree": True}, {"name": "国税", "agree": False}], "amount": 8000}
    scripting.execute("agreed = [d['name'] for d in depts if d.get('agree')]\n"
                      "total = sum(1 for d in depts)\n"
                      "label = '、'.join(d['name'] for d in depts)\n"
                      "big = amount >= 5000 and len(depts) > 1\n"
                      "del amount", data)
    assert data["agreed"] == ["工商"] and data["total"] == 2 and data["label"] == "工商、国税"
    assert data["big"] is True and "amount" not in data
    assert scripting.evaluate("${decision == 'accept' && true}".replace("&&", "and"), {"decision": "accept"})
    assert scripting.evaluate("today().year >= 2026", {})

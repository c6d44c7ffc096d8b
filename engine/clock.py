"""The hall's clock: every "now" in the engine comes from here, so tests can move time.

SpiffWorkflow's timer events call `datetime.now(timezone.utc)` themselves; the module-level
`datetime` they use is replaced by one whose `now()` asks this clock, so a timer's due time
and its firing follow the same (possibly test-controlled) time.
"""

from __future__ import annotations

import datetime as _dt
from contextlib import contextmanager

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

import forms
from forms import FIRST_DAY, HALL_TZ, LAST_DAY  # noqa: F401  (the engine's too: forms need nothing of it)

_offset = _dt.timedelta(0)
_frozen: _dt.datetime | None = None


def now() -> _dt.datetime:
    """Aware UTC now."""
    if _frozen is not None:
        return _frozen
    return _dt.datetime.now(_dt.UTC) + _offset


def local_now() -> _dt.datetime:
    """Now in the hall's time zone (Asia/Shanghai)."""
    return now().astimezone(HALL_TZ)


def set_offset(delta: _dt.timedelta) -> None:
    """Run the clock ahead (or behind) real time by `delta`; for tests and demos."""
    global _offset
    _offset = delta


def advance(delta: _dt.timedelta) -> None:
    global _offset, _frozen
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def freeze(at: _dt.datetime | None) -> None:
    """Stop the clock at `at` (aware); None lets it run again."""
    global _frozen
    _frozen = at.astimezone(_dt.UTC) if at is not None else None


@contextmanager
def frozen_at(at: _dt.datetime):
    """Run a block with the clock stopped at `at`, then let it go on as it was."""
    global _frozen
    before = _frozen
    freeze(at)
    try:
        yield
    finally:
        _frozen = before


def reset() -> None:
    global _offset, _frozen
    _offset, _frozen = _dt.timedelta(0), None


class _ClockDatetime(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        n = now()
        return n.astimezone(tz) if tz is not None else n.astimezone(HALL_TZ).replace(tzinfo=None)


_spiff_timer.datetime = _ClockDatetime
forms.use_clock(now)  # the forms' "now" (a meeting must lie ahead) is the hall's
# Naive timer dates in diagrams ("2026-12-01T09:00") mean hall time, not the server's zone.
_spiff_timer.LOCALTZ = HALL_TZ

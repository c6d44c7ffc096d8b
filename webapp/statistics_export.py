"""What the statistics' API and pages share: the period a request names, and the workbook."""

from __future__ import annotations

import tempfile

from engine import statistics
from webapp import db, hall

SPOOL_BYTES = 8 * 1024 * 1024  # a workbook larger than this goes to a temporary file, not memory


def period_of(args) -> statistics.Period:
    """The period of a request's arguments: `period` (2026, 2026-Q1, 2026-03) or `from`/`to`."""
    first = args.get("from_", args.get("from"))
    last = args.get("to")
    return statistics.period(args.get("period") or None, first or None, last or None)


def xlsx_file(actor, of: statistics.Period):
    """The period's workbook in a temporary file, at its start: Flask sends it in chunks."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        hall().statistics.xlsx(actor, of, db.engine, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def export_name(of: statistics.Period, ext: str) -> str:
    return f"statistics-{of.name.replace('..', '_')}.{ext}"

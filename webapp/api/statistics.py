"""The hall's statistics over the API: the figures of a period, by a breakdown, and their
exports (CSV, XLSX). For the director, the management office and the supervisor."""

from __future__ import annotations

from flask import Response, send_file

from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import StatisticsOut, StatisticsQuery
from webapp.auth import current_actor, token_required
from webapp.statistics_export import export_name, period_of, xlsx_file

PREFIX = ""
blp = Blueprint("api_statistics", __name__, description="The hall's figures (统计)")


@blp.route("/statistics", methods=["GET"])
@token_required
@blp.arguments(StatisticsQuery(), location="query")
@blp.response(200, StatisticsOut)
def statistics(query):
    """A period's figures (consultations, cases received, accepted, refused, completed, rates,
    working days, new enterprises, satisfaction...), with rows by `by` when asked."""
    report = hall().statistics.report(current_actor(), period_of(query), query.get("by"))
    return as_json(report)


@blp.route("/statistics.csv", methods=["GET"])
@token_required
@blp.arguments(StatisticsQuery(), location="query")
@blp.response(200, description="the figures as CSV (UTF-8 with BOM)", content_type="text/csv")
def statistics_csv(query):
    """The same figures as CSV: the totals, then a row per `by` group."""
    of = period_of(query)
    text = hall().statistics.csv(current_actor(), of, query.get("by"))
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={export_name(of, 'csv')}"})


@blp.route("/statistics.xlsx", methods=["GET"])
@token_required
@blp.arguments(StatisticsQuery(), location="query")
@blp.response(200, description="a workbook: the figures, each breakdown, every case of the period",
              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def statistics_xlsx(query):
    """The period as a workbook (streamed)."""
    of = period_of(query)
    return send_file(xlsx_file(current_actor(), of), mimetype=XLSX, as_attachment=True,
                     download_name=export_name(of, "xlsx"))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def as_json(report) -> dict:
    return {"period": report.period.name, "first_day": report.period.first, "last_day": report.period.last,
            "by": report.by, "figures": [{"key": f.key, "label": f.label, "unit": f.unit} for f in report.figures],
            "totals": report.totals,
            "rows": [{"key": r.key, "label": r.label, "values": r.values} for r in report.rows],
            "trend": [{"key": r.key, "label": r.label, "values": r.values} for r in report.trend],
            "pause_reasons": [{"reason": reason, "cases": n} for reason, n in report.pause_reasons],
            "complaint_kinds": [{"kind": kind, "complaints": n} for kind, n in report.complaint_kinds]}

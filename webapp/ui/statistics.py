"""The statistics page (统计): a period's figures as the hall's report opens, a breakdown
table, charts; exports. For the director, the management office and the supervisor."""

from __future__ import annotations

from flask import Response, render_template, request, send_file
from flask_babel import gettext as _

from engine import clock, statistics
from webapp import hall
from webapp.auth import page_actor
from webapp.statistics_export import export_name, period_of, xlsx_file
from webapp.ui import page_blueprint

bp = page_blueprint("statistics")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



def N_(text: str) -> str:
    """Marks a message for the catalog (babel's N_ keyword) without translating it here."""
    return text


# The words of engine.statistics (figures, breakdowns, reasons), for the catalog: the page
# translates them as it shows them (gettext). A figure added there needs its words here.
WORDS = (
    N_("咨询量"),
    N_("收件"),
    N_("受理"),
    N_("不予受理/不予许可"),
    N_("撤回"),
    N_("办结"),
    N_("办结率"),
    N_("按时办结率"),
    N_("平均办理工作日"),
    N_("即办件占比"),
    N_("全程代理办结"),
    N_("全程代理平均工作日"),
    N_("暂停计时办件"),
    N_("新设企业"),
    N_("新设内资企业"),
    N_("新设外资企业"),
    N_("注册资本（万元）"),
    N_("满意率"),
    N_("差评"),
    N_("差评整改率"),
    N_("回访计划"),
    N_("回访企业"),
    N_("回访率"),
    N_("回访满意率"),
    N_("意见建议和投诉"),
    N_("其中意见建议"),
    N_("其中投诉"),
    N_("投诉属实"),
    N_("按时答复率"),
    N_("意见建议"),
    N_("投诉"),
    N_("大项目三级联动办结"),
    N_("迁出挽留成功"),
    N_("办理环节"),
    N_("环节按时率"),
    N_("部门"),
    N_("窗口类别"),
    N_("办理事项"),
    N_("工作人员"),
    N_("月份"),
    N_("内资"),
    N_("外资"),
    N_("建设"),
    N_("社会事务"),
    N_("补正"),
    N_("退回修改"),
    N_("听证"),
    N_("检验检测"),
    N_("鉴定"),
    N_("专家评审"),
)


def _args() -> dict:
    a = request.args
    return {k: a.get(k) for k in ("period", "from", "to", "by") if a.get(k)}


@bp.route("/statistics")
def index():
    args = _args()
    of = period_of(args)
    by = args.get("by", "department")
    report = hall().statistics.report(page_actor(), of, by)
    year = clock.local_now().year
    return render_template("statistics/index.html", report=report, args=args, by=by,
                           dimensions=statistics.DIMENSIONS, figure_of=statistics.FIGURE,
                           years=list(range(year, year - 6, -1)),
                           chart={"months": [r.label for r in report.trend],
                                  "series": {k: [r.values[k] for r in report.trend] for k in statistics.TREND},
                                  "labels": {k: _(statistics.FIGURE[k].label) for k in statistics.TREND},
                                  "rows": [r.label for r in report.rows] if by == "department" else [],
                                  "bars": {k: [r.values.get(k) for r in report.rows]
                                           for k in ("tasks_done",)} if by == "department" else {},
                                  "bar_labels": {"tasks_done": _("办理环节")}})


@bp.route("/statistics.csv")
def export_csv():
    args = _args()
    of = period_of(args)
    text = hall().statistics.csv(page_actor(), of, args.get("by"))
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={export_name(of, 'csv')}"})


@bp.route("/statistics.xlsx")
def export_xlsx():
    of = period_of(_args())
    return send_file(xlsx_file(page_actor(), of), mimetype=XLSX, as_attachment=True,
                     download_name=export_name(of, "xlsx"))

"""Printed notices (通知书): 受理通知书, 补正告知书 (一次性告知), 不予受理通知书 and 办结通知书.

Real PDFs in Chinese (the font is embedded, so they print alike everywhere), each with the
case number and a QR code that opens the case's page for its applicant. A notice is issued
when its case reaches an element that carries it (the diagram's `notice` property), in the
action's own transaction: what it tells of the case then (`issued`) is kept with it. Its PDF
is made the first time it is read and kept in the file store; neither changes afterwards."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

from engine import bpmn, calendar, clock, db
from engine.errors import NotFound
from engine.identity import Actor
from engine.models import CatalogueItem, Enterprise, Notice, User
from forms import parallel_approval

# the kinds a diagram may name (bpmn.NOTICE_KINDS), and their titles
KINDS = dict(zip(bpmn.NOTICE_KINDS, ("受理通知书", "补正告知书", "不予受理通知书", "办结通知书"), strict=True))
SUPPLEMENT_WORKDAYS = 10  # the applicant is asked to bring what is missing within this many working days
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # Debian's fonts-wqy-microhei: TrueType, embeddable
_FONT_NAME = "HallSans"
OUTCOMES = dict(parallel_approval.OUTCOMES)  # a result as the hall's forms word it


def _font() -> str:
    # reportlab is imported when a PDF is made (here and in render): most processes never make one
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        if not Path(FONT).exists():
            raise RuntimeError(f"the notices' font {FONT} is missing: install Debian's fonts-wqy-microhei")
        pdfmetrics.registerFont(TTFont(_FONT_NAME, FONT, subfontIndex=0))
    return _FONT_NAME


def _day(value) -> str:
    """A day as a notice writes it, in the hall's time zone."""
    local = value.astimezone(clock.HALL_TZ) if getattr(value, "tzinfo", None) else value
    return f"{local.year} 年 {local.month} 月 {local.day} 日"


FACTS = ("received_materials", "tolerated_materials", "promised_by", "missing_materials", "acceptance_comments",
         "reject_reason", "prereview_comments", "outcome", "licence_no", "refusal_reason", "item")


def issued(case, kind: str, by: str, now) -> dict:
    """A notice's row as a case action issues it: the case as the notice tells it, now."""
    data = case.data or {}
    facts = {"number": case.number, "title": case.title, "created_at": case.created_at.isoformat(),
             "due_at": case.due_at.isoformat() if case.due_at else None,
             "ended_at": case.ended_at.isoformat() if case.ended_at else None,
             "data": {k: data[k] for k in FACTS if k in data}}
    return {"case_id": case.id, "kind": kind, "title": KINDS[kind], "facts": facts, "storage_key": None,
            "size": None, "sha256": None, "issued_at": now, "issued_by": by}


def render(kind: str, *, hall_name: str, case, applicant: str, item: dict | None, terms, data: dict,
           issued_at, status_url: str) -> bytes:
    """The PDF of a notice: what it says follows the hall's usual wording for its kind.
    `case` has number, title, created_at, due_at and ended_at."""
    from xml.sax.saxutils import escape

    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=24)
    plain = ParagraphStyle("plain", parent=body, firstLineIndent=0)
    title = ParagraphStyle("title", parent=plain, fontSize=20, leading=30, alignment=1, spaceAfter=6)
    right = ParagraphStyle("right", parent=plain, alignment=2)
    item_name = item["name"] if item else case.title or case.number
    filed = _day(case.created_at)

    class QR(Flowable):
        def wrap(self, *_):
            return 30 * mm, 30 * mm

        def draw(self):
            widget = QrCodeWidget(status_url)
            x0, y0, x1, y1 = widget.getBounds()
            d = Drawing(30 * mm, 30 * mm, transform=[30 * mm / (x1 - x0), 0, 0, 30 * mm / (y1 - y0), 0, 0])
            d.add(widget)
            renderPDF.draw(d, self.canv, 0, 0)

    def p(text, style=body):
        return Paragraph(escape(text), style)

    def listing(names):
        return [p(f"{n}. {name}", plain) for n, name in enumerate(names, start=1)]

    flow = [p(hall_name, ParagraphStyle("hall", parent=plain, alignment=1, fontSize=14)), p(KINDS[kind], title),
            p(f"编号：{case.number}", right), Spacer(1, 6), p(f"{applicant}：", plain)]
    if kind == "receipt":
        flow.append(p(f"您（单位）于 {filed} 提交的《{item_name}》申请，经审查，申请材料齐全、符合法定形式，"
                      "本中心决定予以受理。"))
        if data.get("received_materials"):
            flow += [p("已收材料：", plain), *listing(data["received_materials"])]
        if data.get("tolerated_materials"):
            by = data.get("promised_by") or ""
            flow += [p(f"容缺受理，以下材料请于 {by} 前补交：", plain), *listing(data["tolerated_materials"])]
        if case.due_at is not None:
            limits = (f"承诺时限 {item['promised_days']} 个工作日（法定时限 {item['legal_days']} 个工作日），"
                      if item else "")
            flow.append(p(f"本件{limits}预计于 {_day(case.due_at)} 前办结。依法需要听证、检验、检测、鉴定、"
                          "专家评审的，所需时间不计入办理时限。"))
    elif kind == "supplement":
        by = calendar.current().add_workdays(issued_at, SUPPLEMENT_WORKDAYS)
        flow.append(p(f"您（单位）于 {filed} 提交的《{item_name}》申请，材料不齐全或者不符合法定形式。"
                      "根据《中华人民共和国行政许可法》第三十二条，现一次性告知您需要补正的全部内容："))
        flow += listing(data.get("missing_materials") or [])
        if data.get("acceptance_comments"):
            flow.append(p(f"说明：{data['acceptance_comments']}", plain))
        flow.append(p(f"请于 {_day(by)} 前补正。补正期间不计入办理时限，已收材料无需重复提交。"))
    elif kind == "refusal":
        flow.append(p(f"您（单位）于 {filed} 提交的《{item_name}》申请，经审查，本中心决定不予受理。"))
        flow.append(p(f"理由：{data.get('reject_reason') or data.get('prereview_comments') or '—'}", plain))
        flow.append(p("如不服本决定，可以自收到本通知书之日起六十日内依法申请行政复议，或者自收到本通知书之日起"
                      "六个月内依法向人民法院提起行政诉讼。"))
    elif kind == "completion":
        outcome = OUTCOMES.get(data.get("outcome"), "已办结")
        flow.append(p(f"您（单位）于 {filed} 提交的《{item_name}》申请，已于 {_day(case.ended_at or issued_at)} 办结，"
                      f"办理结果：{outcome}。"))
        if data.get("licence_no"):
            flow.append(p(f"证照编号：{data['licence_no']}", plain))
        if data.get("refusal_reason"):
            flow.append(p(f"理由：{data['refusal_reason']}", plain))
            flow.append(p("如不服本决定，可以依法申请行政复议或者提起行政诉讼。"))
        flow.append(p("欢迎您对本次服务作出评价（好差评）。"))
    if terms is not None:
        flow.append(p(f"办理地点：{terms.place}　咨询电话：{terms.phone}", plain))
    qr = Table([[QR(), p("扫码查看办件进度（申请人登录企业之家后可见）", plain)]], colWidths=[34 * mm, None])
    qr.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    flow += [Spacer(1, 12), qr, Spacer(1, 12), p(f"{hall_name}（印章）", right), p(_day(issued_at), right)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, topMargin=25 * mm,
                            bottomMargin=20 * mm, title=f"{KINDS[kind]} {case.number}", author=hall_name,
                            invariant=1)
    doc.build(flow)
    return out.getvalue()


class Notices:
    def __init__(self, session, runtime, store, hall_name: str = "区行政服务中心",
                 base_url: str = "http://127.0.0.1:5000"):
        self.session = session
        self.runtime = runtime
        self.store = store
        self.hall_name = hall_name
        self.base_url = base_url.rstrip("/")

    def of_case(self, actor: Actor, case_id: int) -> list[Notice]:
        """The notices issued for a case, in the order they were issued."""
        self.runtime.visible_case(actor, case_id)
        rows = list(self.session.scalars(sa.select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)))
        self.session.rollback()
        return rows

    def open(self, actor: Actor, case_id: int, notice_id: int):
        """(the notice's row, its PDF opened for reading), the PDF made on first reading."""
        case = self.runtime.visible_case(actor, case_id)
        row = self._row(case_id, notice_id)
        if row.storage_key is None:
            row = self._make(case, row)
        return row, open(self.store.path(row.storage_key), "rb")

    def _row(self, case_id: int, notice_id: int) -> Notice:
        row = self.session.scalar(sa.select(Notice).where(Notice.id == notice_id, Notice.case_id == case_id)
                                  .execution_options(populate_existing=True))
        self.session.rollback()
        if row is None:
            raise NotFound(f"no notice {notice_id} in case {case_id}")
        return row

    def _make(self, case, row: Notice) -> Notice:
        """Write a notice's PDF from what it was issued with; the first node to do so wins."""
        facts = row.facts
        applicant = (self.session.scalar(sa.select(Enterprise.name).where(Enterprise.id == case.enterprise_id))
                     if case.enterprise_id else None) or facts.get("title") or self.session.scalar(
            sa.select(User.display_name).where(User.id == case.started_by_id)) or "申请人"
        terms = self.session.get(CatalogueItem, case.item_id) if case.item_id else None
        self.session.rollback()
        told = SimpleNamespace(number=facts["number"], title=facts.get("title"),
                               **{k: dt.datetime.fromisoformat(facts[k]) if facts.get(k) else None
                                  for k in ("created_at", "due_at", "ended_at")})
        pdf = render(row.kind, hall_name=self.hall_name, case=told, applicant=applicant,
                     item=facts["data"].get("item"), terms=terms, data=facts["data"], issued_at=row.issued_at,
                     status_url=f"{self.base_url}/portal/cases/{case.id}")
        key, size, sha, _kind = self.store.write(io.BytesIO(pdf), len(pdf))
        with db.write(self.session) as s:
            made = s.execute(sa.update(Notice).where(Notice.id == row.id, Notice.storage_key.is_(None))
                             .values(storage_key=key, size=size, sha256=sha)).rowcount
        if not made:
            self.store.remove(key)  # another node made it meanwhile: theirs is the notice
        return self._row(case.id, row.id)

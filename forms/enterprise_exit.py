"""Forms of the enterprise_exit process (企业迁出挽留).

The commerce chief representative reports; 管理办 and 招商局 each record their analysis in
their own section (`guanliban`, `zhaoshang`), so the two parallel answers never overwrite
each other; the 常务副主任's meeting decides `outcome` (retained / leaving).
"""

from marshmallow import Schema, fields, validate

from forms import choice, register

URGENCY = [("一般", "一般"), ("紧急", "紧急"), ("特急", "特急")]
OUTCOMES = [("retained", "挽留成功"), ("leaving", "确定迁出")]
BUSINESS_STATUS = [("正常经营", "正常经营"), ("仍有迁出意向", "仍有迁出意向"), ("已迁出", "已迁出")]

_NOT_EMPTY = validate.Length(min=1, error="不能为空")
CREDIT_CODE = validate.Regexp(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
                              error="统一社会信用代码应为18位数字或大写字母")


def _text(label, required=True):
    if required:
        return fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": label, "multiline": True})
    return fields.String(load_default="", metadata={"label": label, "multiline": True})


class EnterpriseSection(Schema):
    name = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "企业名称"})
    credit_code = fields.String(required=True, validate=CREDIT_CODE, metadata={"label": "统一社会信用代码"})
    annual_tax = fields.Float(required=True, validate=validate.Range(min=0), metadata={"label": "年纳税额（万元）"})
    annual_output = fields.Float(required=True, validate=validate.Range(min=0), metadata={"label": "年产值（万元）"})
    employees = fields.Integer(required=True, strict=True, validate=validate.Range(min=0),
                               metadata={"label": "职工人数"})


@register("qc_report")
class ReportForm(Schema):
    """商务首席代表报告企业拟迁出 (start form)."""

    enterprise = fields.Nested(EnterpriseSection, required=True, metadata={"label": "企业情况"})
    destination = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "拟迁往地"})
    reasons = _text("迁出原因")
    urgency = choice(URGENCY, "紧急程度", required=True)


class AnalysisSection(Schema):
    analysis = _text("原因分析")
    measures = _text("拟提供的挽留措施")
    contact = fields.String(load_default="", metadata={"label": "联络人"})


@register("qc_guanliban_analysis")
class GuanlibanAnalysisForm(Schema):
    """管理办分析并提出挽留措施."""

    guanliban = fields.Nested(AnalysisSection, required=True, metadata={"label": "管理办意见"})


@register("qc_zhaoshang_analysis")
class ZhaoshangAnalysisForm(Schema):
    """招商局分析并提出挽留措施."""

    zhaoshang = fields.Nested(AnalysisSection, required=True, metadata={"label": "招商局意见"})


@register("qc_meeting")
class MeetingForm(Schema):
    """常务副主任约谈企业 (on time, or after the deadline was missed)."""

    met_on = fields.Date(required=True, metadata={"label": "约谈日期"})
    attendees = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "参加人员"})
    enterprise_demands = _text("企业诉求")
    commitments = _text("政府承诺事项", required=False)
    outcome = choice(OUTCOMES, "约谈结果", required=True)


@register("qc_reschedule")
class RescheduleForm(Schema):
    """管理办协调重新安排约谈 (the meeting deadline has passed)."""

    overdue_reason = _text("超期原因")
    rescheduled_on = fields.Date(required=True, metadata={"label": "重新约定的约谈日期"})


@register("qc_record_retained")
class RecordRetainedForm(Schema):
    """管理办登记挽留结果."""

    retention_agreement = _text("挽留协议及承诺事项")
    responsible = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "落实责任单位"})


@register("qc_record_departure")
class RecordDepartureForm(Schema):
    """管理办登记迁出原因."""

    departure_reasons = _text("迁出原因（核实）")
    lessons = _text("改进建议", required=False)


@register("qc_follow_up")
class FollowUpForm(Schema):
    """招商局回访企业."""

    visited_on = fields.Date(required=True, metadata={"label": "回访日期"})
    business_status = choice(BUSINESS_STATUS, "企业经营状况", required=True)
    commitments_kept = fields.Boolean(required=True, metadata={"label": "承诺事项是否落实"})
    issues = _text("企业反映的问题", required=False)


@register("qc_case")
class CaseData(Schema):
    """What the process writes into the case (process property `caseData`): its labels."""

    meeting_overdue = fields.Boolean(metadata={"label": "约谈超期"})
    meeting_missed_at = fields.DateTime(metadata={"label": "约谈期限届满时间"})

"""Forms of the poor_rating process (差评整改): the rated window verifies the 差评 with the
rater, rectifies, 管理办 reviews, and the window tells the rater the result."""

from marshmallow import Schema, fields

from forms import choice, register, text

VERIFICATIONS = [("founded", "属实"), ("partly", "部分属实"), ("unfounded", "不属实")]
REVIEWS = [("pass", "通过"), ("return", "退回整改")]
REPLY_WAYS = [("phone", "电话"), ("sms", "短信"), ("visit", "当面"), ("portal", "企业之家")]
STAGES = [("accepted", "受理"), ("completed", "办结"), ("rectified", "整改后")]
CHANNELS = [("api", "申请人"), ("portal", "企业之家"), ("counter", "窗口代录"), ("device", "评价器")]


class _RatedRecord(Schema):
    """The 差评 as engine.ratings hands it to the process: what the window verifies."""

    case_number = fields.String(metadata={"label": "被评价办件"})
    case_title = fields.String(metadata={"label": "企业/申请人"})
    window = fields.String(metadata={"label": "被评价窗口"})
    stage = choice(STAGES, "评价环节")
    label = fields.String(metadata={"label": "评价"})
    aspects = fields.String(metadata={"label": "分项评价"})
    comment = fields.String(metadata={"label": "评价意见"})
    channel = choice(CHANNELS, "评价渠道")
    at = fields.DateTime(metadata={"label": "评价时间"})
    contact_name = fields.String(metadata={"label": "联系人"})
    contact_phone = fields.String(metadata={"label": "联系电话"})


@register("cp_case")
class CaseData(Schema):
    rating = fields.Nested(_RatedRecord, metadata={"label": "差评"})


@register("cp_verify")
class VerifyForm(Schema):
    """被评价窗口联系评价人核实差评 (within 1 working day)."""

    contacted = fields.Boolean(required=True, metadata={"label": "已联系评价人"})
    verification = choice(VERIFICATIONS, "核实结论", required=True)
    verify_note = text("核实情况", multiline=True)


@register("cp_rectify")
class RectifyForm(Schema):
    """整改 (within 15 working days)."""

    measures = text("整改措施", multiline=True)
    result = text("整改结果", multiline=True)


@register("cp_review")
class ReviewForm(Schema):
    """管理办复核整改."""

    review = choice(REVIEWS, "复核结论", required=True)
    review_note = text("复核意见", required=False, multiline=True, load_default="")


@register("cp_report")
class ReportForm(Schema):
    """整改结果反馈评价人."""

    reply_way = choice(REPLY_WAYS, "反馈方式", required=True)
    reply = text("反馈内容", multiline=True)

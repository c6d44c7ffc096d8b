"""Forms of the poor_rating process (差评整改): the rated window verifies the 差评 with the
rater, rectifies, 管理办 reviews, and the window tells the rater the result."""

from marshmallow import Schema, fields

from forms import choice, register, text

VERIFICATIONS = [("founded", "属实"), ("partly", "部分属实"), ("unfounded", "不属实")]
REVIEWS = [("pass", "通过"), ("return", "退回整改")]
REPLY_WAYS = [("phone", "电话"), ("sms", "短信"), ("visit", "当面"), ("portal", "企业之家")]


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

"""Forms of the return-visit process (回访): 管理办's call or visit, with the script of
questions it asks, the outcome (reached or not: tried again), the satisfaction (the five
好差评 levels) and any suggestion."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from forms import choice, register, text

LEVELS = [(5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")]
METHODS = [("phone", "电话回访"), ("visit", "上门回访")]
YES_NO = [("yes", "是"), ("no", "否")]


@register("rv_call")
class CallForm(Schema):
    """电话/上门回访, by the script: was it reached; if so, the answers."""

    method = choice(METHODS, "回访方式", required=True)
    reached = fields.Boolean(required=True, metadata={"label": "已联系上企业"})
    satisfaction = fields.Integer(allow_none=True, strict=True, validate=validate.OneOf([v for v, _ in LEVELS]),
                                  metadata={"label": "总体满意度", "choices": LEVELS})
    q_once = choice(YES_NO, "办理过程中是否只需跑一次（一次告知、材料齐全即可办结）", allow_none=True)
    q_fees = choice(YES_NO, "是否遇到收费、索要财物或吃拿卡要", allow_none=True)
    q_attitude = choice(YES_NO, "窗口工作人员态度是否热情、解释是否清楚", allow_none=True)
    suggestion = text("意见建议", required=False, multiline=True, max_len=2000, allow_none=True)
    note = text("回访记录", required=False, multiline=True, max_len=1000, allow_none=True)

    @validates_schema
    def _answers_when_reached(self, data, **kwargs):
        if data.get("reached") and data.get("satisfaction") is None:
            raise ValidationError("联系上企业的，须记录满意度", "satisfaction")


@register("rv_case")
class CaseData(Schema):
    """What the case holds (process property `caseData`): its labels."""

    enterprise_name = fields.String(metadata={"label": "企业"})
    contact = fields.String(metadata={"label": "联系人"})
    phone = fields.String(metadata={"label": "联系电话"})
    served_case = fields.String(metadata={"label": "所办事项办件"})
    department = fields.String(metadata={"label": "服务窗口"})
    attempts = fields.Integer(metadata={"label": "未联系上次数"})

"""Forms of the green_channel process (绿色通道).

The start form is the enterprise's application; the DMN decision `green_channel_eligibility`
reads its `project` section. The agent (代办员) of the 首席服务台 takes the case, collects the
materials and picks the departments whose express approvals the project needs.
"""

from marshmallow import Schema, fields, validate

from forms import choice, register

INVESTOR_TYPES = [("内资", "内资"), ("外资", "外资"), ("市外投资", "市外投资")]
DEPARTMENTS = [("工商", "工商"), ("国税", "国税"), ("地税", "地税"), ("质监", "质监"), ("公安", "公安"),
               ("银行", "银行开户")]
NOTIFY_METHODS = [("电话", "电话告知"), ("短信", "短信告知"), ("现场", "现场告知"), ("书面", "书面告知")]

_NOT_EMPTY = validate.Length(min=1, error="不能为空")
CREDIT_CODE = validate.Regexp(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
                              error="统一社会信用代码应为18位数字或大写字母")
PHONE = validate.Regexp(r"^[0-9+\-() ]{7,20}$", error="请填写有效的电话号码")


class EnterpriseSection(Schema):
    name = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "企业名称"})
    credit_code = fields.String(required=True, validate=CREDIT_CODE, metadata={"label": "统一社会信用代码"})


class ProjectSection(Schema):
    name = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "项目名称"})
    investment = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False),
                              metadata={"label": "投资额（万元）"})
    investor_type = choice(INVESTOR_TYPES, "投资方类型", required=True)
    city_introduced = fields.Boolean(required=True, metadata={"label": "是否市引进企业"})
    key_project = fields.Boolean(required=True, metadata={"label": "是否重大项目"})


class ContactSection(Schema):
    name = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "联系人"})
    phone = fields.String(required=True, validate=PHONE, metadata={"label": "联系电话"})


@register("ls_application")
class ApplicationForm(Schema):
    """绿色通道申请 (start form)."""

    enterprise = fields.Nested(EnterpriseSection, required=True, metadata={"label": "企业信息"})
    project = fields.Nested(ProjectSection, required=True, metadata={"label": "项目信息"})
    contact = fields.Nested(ContactSection, required=True, metadata={"label": "联系人"})


@register("ls_notify_normal")
class NotifyNormalForm(Schema):
    """告知转一般程序: the 首席服务台 tells the applicant to use the normal parallel approval."""

    notify_method = choice(NOTIFY_METHODS, "告知方式", required=True)
    notify_note = fields.String(load_default="", metadata={"label": "告知情况", "multiline": True})


@register("ls_take_case")
class TakeCaseForm(Schema):
    """受理并指定代办员: the agent who takes the case handles everything for the enterprise."""

    agent = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "代办员（系统账号）"})
    agent_name = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "代办员姓名"})
    agent_phone = fields.String(required=True, validate=PHONE, metadata={"label": "代办员电话"})


@register("ls_collect_materials")
class CollectMaterialsForm(Schema):
    """代办收集材料, and the departments whose express approval the project needs."""

    materials = fields.List(fields.String(validate=_NOT_EMPTY), required=True,
                            validate=validate.Length(min=1, error="至少登记一项材料"),
                            metadata={"label": "已收材料清单"})
    departments = fields.List(
        fields.String(validate=validate.OneOf([c[0] for c in DEPARTMENTS])), required=True,
        validate=validate.Length(min=1, error="至少选择一个审批部门"),
        metadata={"label": "需审批部门", "choices": DEPARTMENTS, "multiple": True})
    materials_note = fields.String(load_default="", metadata={"label": "材料说明", "multiline": True})


@register("ls_express_approval")
class ExpressApprovalForm(Schema):
    """部门快速审批 (one per department)."""

    approved = fields.Boolean(required=True, metadata={"label": "是否准予"})
    opinion = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "审批意见", "multiline": True})
    licence_no = fields.String(load_default="", metadata={"label": "证照/批文编号"})


@register("ls_supervise")
class SuperviseForm(Schema):
    """常务副主任督办 a late department approval."""

    instruction = fields.String(required=True, validate=_NOT_EMPTY, metadata={"label": "督办意见", "multiline": True})


@register("ls_deliver")
class DeliverForm(Schema):
    """代办员送达审批结果（办结）."""

    delivered_on = fields.Date(required=True, metadata={"label": "送达日期"})
    delivery_note = fields.String(load_default="", metadata={"label": "办结说明", "multiline": True})


class _ApprovalRecord(Schema):
    dept = fields.String(metadata={"label": "审批部门", "choices": DEPARTMENTS})
    approved = fields.Boolean(metadata={"label": "是否准予"})
    opinion = fields.String(metadata={"label": "审批意见"})
    licence_no = fields.String(metadata={"label": "证照/批文编号"})


@register("ls_case")
class CaseData(Schema):
    """What the process writes into the case (process property `caseData`): its labels."""

    eligible = fields.Boolean(metadata={"label": "符合绿色通道"})
    reason = fields.String(metadata={"label": "判定理由"})
    approvals = fields.List(fields.Nested(_ApprovalRecord), metadata={"label": "部门快速审批"})

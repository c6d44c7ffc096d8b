"""Forms of the complaint process (意见建议与投诉): what was raised (the start form), 管理办's
classification and assignment, the department's investigation and rectification, the reply
to the person who raised it, the 驻厅监察's close.

The kinds of misconduct are those of 审批问责 (engine.deadlines.MISCONDUCT, by the same codes)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from forms import choice, register, text

MISCONDUCT = [("ultra_vires", "越权审批"), ("overtime", "超时审批"), ("wrong", "错批"), ("missed", "漏批"),
              ("bad_return", "不合理退批"), ("illegal_fee", "违规收费"), ("shirking", "办事敷衍推诿"),
              ("rude", "服务态度生硬")]
KINDS = [("suggestion", "意见建议"), ("complaint", "投诉"), *MISCONDUCT]
CHANNELS = [("portal", "企业之家"), ("counter", "窗口"), ("phone", "电话"), ("supervision", "驻厅监察"),
            ("visit", "回访")]
# the hall's windows and departments: who may be given a complaint to investigate
DEPARTMENTS = ["网上预审", "内资窗口", "外资窗口", "建设窗口", "社会事务窗口", "工商", "国税", "地税", "质监", "公安",
               "银行", "首席服务台", "管理办", "招商局", "商务"]
FINDINGS = [("none", "无违规"), *MISCONDUCT]
REPLY_WAYS = [("online", "企业之家"), ("phone", "电话"), ("letter", "书面"), ("visit", "上门")]


@register("ts_intake")
class IntakeForm(Schema):
    """What was raised (start form): engine.complaints fills in where it came from (`source`)."""

    kind = choice(KINDS, "类别", required=True)
    subject = text("主题", max_len=100)
    content = text("内容", multiline=True, max_len=2000)
    source = choice(CHANNELS, "渠道", required=True)
    contact_name = text("联系人", required=False, max_len=50, allow_none=True)
    contact_phone = fields.String(allow_none=True, validate=validate.Regexp(r"^[0-9+\-() ]{5,20}$",
                                                                            error="须为电话号码"),
                                  metadata={"label": "联系电话"})
    about_case = fields.String(allow_none=True, validate=validate.Length(max=40), metadata={"label": "涉及办件"})
    about_step = fields.String(allow_none=True, validate=validate.Length(max=256), metadata={"label": "涉及环节"})


@register("ts_classify")
class ClassifyForm(Schema):
    """管理办分类交办."""

    kind = choice(KINDS, "类别", required=True)
    department = choice([(d, d) for d in DEPARTMENTS], "责任部门", required=True)
    investigate_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=20),
                                      metadata={"label": "调查期限（工作日）"})
    note = text("交办意见", required=False, multiline=True, max_len=1000)


@register("ts_investigate")
class InvestigateForm(Schema):
    """责任部门调查核实: what was found, whether it holds, what misconduct, who answers for it."""

    findings = text("调查情况", multiline=True, max_len=2000)
    substantiated = fields.Boolean(required=True, metadata={"label": "反映情况属实"})
    misconduct = choice(FINDINGS, "违规情形", required=True)
    responsible_task = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1),
                                      metadata={"label": "责任环节（任务编号）", "description":
                                                "所涉办件中办理该环节的任务编号：由完成该任务的人员负责"})

    @validates_schema
    def _misconduct_is_substantiated(self, data, **kwargs):
        if data.get("misconduct", "none") != "none" and not data.get("substantiated"):
            raise ValidationError("查实违规的，反映情况应属实", "substantiated")


@register("ts_rectify")
class RectifyForm(Schema):
    """责任部门落实整改."""

    measures = text("整改措施", multiline=True, max_len=2000)
    result = text("整改结果", multiline=True, max_len=2000)


@register("ts_reply")
class ReplyForm(Schema):
    """管理办答复建议主体: what the person who raised it is told."""

    reply = text("答复内容", multiline=True, max_len=2000)
    way = choice(REPLY_WAYS, "答复方式", required=True)


@register("ts_close")
class CloseForm(Schema):
    """驻厅监察审核结案: the finding confirmed (a misconduct becomes an 审批问责 record) or not."""

    opinion = text("监察意见", multiline=True, max_len=2000)
    accountable = fields.Boolean(required=True, metadata={"label": "确认问责"})


@register("ts_case")
class CaseData(Schema):
    """What the case holds (process property `caseData`): its labels."""

    kind = choice(KINDS, "类别")
    subject = fields.String(metadata={"label": "主题"})
    content = fields.String(metadata={"label": "内容"})
    source = choice(CHANNELS, "渠道")
    contact_name = fields.String(metadata={"label": "联系人"})
    contact_phone = fields.String(metadata={"label": "联系电话"})
    about_case = fields.String(metadata={"label": "涉及办件"})
    about_step = fields.String(metadata={"label": "涉及环节"})
    department = fields.String(metadata={"label": "责任部门"})
    findings = fields.String(metadata={"label": "调查情况"})
    misconduct = choice(FINDINGS, "违规情形")
    measures = fields.String(metadata={"label": "整改措施"})
    result = fields.String(metadata={"label": "整改结果"})
    reply = fields.String(metadata={"label": "答复内容"})
    opinion = fields.String(metadata={"label": "监察意见"})

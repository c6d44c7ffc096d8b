"""Forms of the big_project process (大项目三级联动).

Level 1, the executive deputy director (常务副主任), takes in the project (sj_project),
names a management-office coordinator (sj_assign) and acts on what is escalated to him
(sj_director); level 2, the coordinator, breaks the project into department approvals
(sj_plan), resolves late approvals (sj_supervise) and reports completion (sj_report);
level 3, the departments' chief representatives, carry out the approvals (sj_approval).
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from forms import register, text

# Departments whose chief representatives carry out approvals (value = their group).
DEPARTMENTS = [
    ("工商", "工商"), ("国税", "国税"), ("地税", "地税"), ("质监", "质监"), ("公安", "公安"),
    ("银行", "银行"), ("建设窗口", "建设"), ("商务", "商务"), ("招商局", "招商局"),
]
RESULTS = [("approved", "准予许可"), ("rejected", "不予许可")]
MAX_DAYS = 60


@register("sj_project")
class ProjectForm(Schema):
    """大项目交办（开始表单）."""

    project_name = text("项目名称", max_len=200)
    investor = text("投资方", max_len=200)
    investment = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False,
                                                                     error="投资额须大于0"),
                              metadata={"label": "投资额（万元）"})
    approvals_needed = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                                   validate=validate.Length(min=1, error="至少列出一项需办理的审批"),
                                   metadata={"label": "需办理的审批事项"})
    description = text("项目概况", required=False, multiline=True, max_len=5000, load_default="")


@register("sj_assign")
class AssignForm(Schema):
    """常务副主任指定管理办协调员."""

    coordinator = fields.String(required=True, validate=validate.Regexp(r"^\S{1,64}$", error="请填写协调员的用户名"),
                                metadata={"label": "协调员（用户名）"})
    instructions = text("交办要求", required=False, multiline=True, load_default="")
    target_date = fields.Date(metadata={"label": "要求办结日期"})


class ApprovalItem(Schema):
    dept = fields.String(required=True,
                         validate=validate.OneOf([c[0] for c in DEPARTMENTS], labels=[c[1] for c in DEPARTMENTS]),
                         metadata={"label": "承办部门", "choices": DEPARTMENTS})
    item = text("审批事项", max_len=200)
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_DAYS),
                          metadata={"label": "办理时限（工作日）"})


@register("sj_plan")
class PlanForm(Schema):
    """协调员分解审批事项."""

    approvals = fields.List(fields.Nested(ApprovalItem), required=True,
                            validate=validate.Length(min=1, error="至少分解出一项审批"),
                            metadata={"label": "部门审批事项"})
    plan_note = text("分解说明", required=False, multiline=True, load_default="")

    @validates_schema
    def _check(self, data, **kwargs):
        keys = [(a["dept"], a["item"]) for a in data.get("approvals") or []]
        if len(set(keys)) != len(keys):
            raise ValidationError({"approvals": ["同一部门的同一审批事项只能列一次"]})


@register("sj_approval")
class ApprovalForm(Schema):
    """首席代表办理审批事项."""

    result = fields.String(required=True,
                           validate=validate.OneOf([c[0] for c in RESULTS], labels=[c[1] for c in RESULTS]),
                           metadata={"label": "审批结果", "choices": RESULTS})
    document_no = text("批准文号", required=False, max_len=100, load_default="")
    note = text("办理意见（不予许可时必填）", required=False, multiline=True, load_default="")

    @validates_schema
    def _check(self, data, **kwargs):
        if data.get("result") == "rejected" and not (data.get("note") or "").strip():
            raise ValidationError({"note": ["不予许可须写明理由"]})
        if data.get("result") == "approved" and not (data.get("document_no") or "").strip():
            raise ValidationError({"document_no": ["准予许可须填写批准文号"]})


@register("sj_supervise")
class SuperviseForm(Schema):
    """协调员协调督办超期的审批事项."""

    resolved = fields.Boolean(required=True, metadata={"label": "已协调解决"})
    measures = text("协调措施及结果", multiline=True)


@register("sj_director")
class DirectorForm(Schema):
    """常务副主任协调未解决的事项."""

    instructions = text("批示意见", multiline=True)


@register("sj_report")
class ReportForm(Schema):
    """协调员报告项目办结."""

    summary = text("办结情况", multiline=True, max_len=5000)


class _ApprovalRecord(ApprovalItem):
    result = fields.String(metadata={"label": "审批结果", "choices": RESULTS})
    document_no = fields.String(metadata={"label": "批准文号"})
    note = fields.String(metadata={"label": "办理意见"})
    done_at = fields.DateTime(metadata={"label": "办结时间"})


@register("sj_case")
class CaseData(Schema):
    """What the process writes into the case (process property `caseData`): its labels."""

    approvals = fields.List(fields.Nested(_ApprovalRecord), metadata={"label": "部门审批事项"})

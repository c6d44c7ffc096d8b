"""Forms of the joint_review process (会审会).

The lead window convenes the meeting (hs_convene), each participating department's chief
representative records an opinion (hs_opinion), the lead window decides (hs_decision) and
writes the minutes with the follow-up items (hs_minutes), and 管理办 tracks the follow-up
items to completion (hs_track).
"""

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from forms import FIRST_DAY, HALL_TZ, LAST_DAY, choice, now, register, text

# Departments whose chief representatives sit on a joint review (value = their group).
DEPARTMENTS = [
    ("工商", "工商"), ("国税", "国税"), ("地税", "地税"), ("质监", "质监"), ("公安", "公安"),
    ("银行", "银行"), ("建设窗口", "建设"), ("商务", "商务"), ("招商局", "招商局"),
]
# Who may lead a joint review (value = their group; the lead window's tasks go to it).
LEAD_WINDOWS = [
    ("内资窗口", "内资窗口"), ("外资窗口", "外资窗口"), ("建设窗口", "建设窗口"),
    ("社会事务窗口", "社会事务窗口"), ("管理办", "管理办"),
]
# Who may own a follow-up item.
OWNERS = list({v: (v, label) for v, label in LEAD_WINDOWS + DEPARTMENTS}.values())

POSITIONS = [("agree", "同意"), ("disagree", "不同意"), ("conditional", "有条件同意")]
DECISIONS = [("approved", "通过"), ("conditional", "有条件通过"), ("rejected", "不通过")]
CASE_NUMBER = r"^[A-Z0-9]{1,8}-\d{8}-\d{5}$"


@register("hs_convene")
class ConveneForm(Schema):
    """召集会审（开始表单）."""

    subject = text("会审议题", max_len=200)
    related_case = fields.String(
        validate=validate.Regexp(CASE_NUMBER, error="案件编号格式应为 BL-20261129-00001"),
        metadata={"label": "关联案件编号"})
    lead_window = choice(LEAD_WINDOWS, "牵头窗口", required=True)
    departments = fields.List(
        fields.String(validate=validate.OneOf([c[0] for c in DEPARTMENTS], labels=[c[1] for c in DEPARTMENTS])),
        required=True, validate=validate.Length(min=1, error="至少选择一个参会部门"),
        metadata={"label": "参会部门", "choices": DEPARTMENTS, "multiple": True})
    meeting_at = fields.AwareDateTime(required=True, default_timezone=HALL_TZ,
                                      metadata={"label": "会审时间"})
    place = text("会审地点", max_len=200)
    materials = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                            metadata={"label": "会审材料"})

    @validates_schema
    def _check(self, data, **kwargs):
        errors = {}
        depts = data.get("departments") or []
        if len(set(depts)) != len(depts):
            errors["departments"] = ["参会部门不能重复"]
        at = data.get("meeting_at")
        if at is not None and not FIRST_DAY <= at.date() <= LAST_DAY:  # before _local_time converts it
            errors["meeting_at"] = [f"must lie between {FIRST_DAY} and {LAST_DAY}"]
        elif at is not None and at <= now():
            errors["meeting_at"] = ["会审时间应晚于现在"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _local_time(self, data, **kwargs):
        data["meeting_at"] = data["meeting_at"].astimezone(HALL_TZ)
        return data


@register("hs_opinion")
class OpinionForm(Schema):
    """部门首席代表出具会审意见."""

    position = choice(POSITIONS, "会审意见", required=True)
    opinion = text("意见说明（不同意或有条件同意时必填）", required=False, multiline=True, load_default="")

    @validates_schema
    def _check(self, data, **kwargs):
        if data.get("position") in ("disagree", "conditional") and not (data.get("opinion") or "").strip():
            raise ValidationError({"opinion": ["不同意或有条件同意时请说明理由或条件"]})


@register("hs_decision")
class DecisionForm(Schema):
    """牵头窗口作出会审决定."""

    decision = choice(DECISIONS, "会审决定", required=True)
    decision_note = text("决定说明（有条件通过的条件 / 不通过的理由）", required=False, multiline=True,
                          load_default="")

    @validates_schema
    def _check(self, data, **kwargs):
        if data.get("decision") in ("conditional", "rejected") and not (data.get("decision_note") or "").strip():
            raise ValidationError({"decision_note": ["有条件通过须写明条件，不通过须写明理由"]})


class FollowUpItem(Schema):
    item = text("督办事项", max_len=500)
    owner = choice(OWNERS, "责任单位", required=True)
    deadline = fields.Date(required=True, metadata={"label": "完成时限"})


@register("hs_minutes")
class MinutesForm(Schema):
    """形成会议纪要及督办事项."""

    minutes = text("会议纪要", multiline=True, max_len=20000)
    attendees = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                            metadata={"label": "参会人员"})
    follow_ups = fields.List(fields.Nested(FollowUpItem), load_default=list, metadata={"label": "督办事项"})


@register("hs_track")
class TrackForm(Schema):
    """管理办督办落实."""

    progress = text("落实情况", multiline=True, max_len=5000)
    all_done = fields.Boolean(required=True, metadata={"label": "督办事项已全部落实"})


class _ReviewRecord(Schema):
    dept = fields.String(metadata={"label": "参会部门", "choices": DEPARTMENTS})
    position = fields.String(metadata={"label": "会审意见", "choices": POSITIONS})
    opinion = fields.String(metadata={"label": "意见说明"})
    deemed = fields.Boolean(metadata={"label": "逾期视为同意"})
    answered_at = fields.DateTime(metadata={"label": "答复时间"})


@register("hs_case")
class CaseData(Schema):
    """What the process writes into the case (process property `caseData`): its labels."""

    reviews = fields.List(fields.Nested(_ReviewRecord), metadata={"label": "各部门会审意见"})
    objections = fields.List(fields.String(metadata={"choices": DEPARTMENTS}), metadata={"label": "不同意的部门"})
    conditional_depts = fields.List(fields.String(metadata={"choices": DEPARTMENTS}),
                                    metadata={"label": "有条件同意的部门"})
    deemed_depts = fields.List(fields.String(metadata={"choices": DEPARTMENTS}), metadata={"label": "视为同意的部门"})
    all_agreed = fields.Boolean(metadata={"label": "各部门均同意"})

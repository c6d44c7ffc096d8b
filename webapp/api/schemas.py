"""The API's request and response shapes (they are also its OpenAPI document).

Routes pass `blp.arguments` an instance, not the class: given a class, webargs builds a
new schema for every request, which costs more than reading the request."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from engine import ratings
from engine.clock import FIRST_DAY, LAST_DAY
from engine.deadlines import ACCOUNTABILITY_KINDS, MISCONDUCT
from engine.models import CalendarDay, Case, Rating
from engine.runtime import CASE_STATUSES, CHANNELS
from webapp import ID_MAX


def Id(**kw) -> fields.Integer:  # named as marshmallow names its fields
    """A row id given in a request: a positive 64-bit integer."""
    return fields.Integer(validate=validate.Range(min=1, max=ID_MAX), **kw)


TEXT_CHARS = 4000  # a note or a reason a person writes


def _chars(column) -> int:
    """What a text column holds: a longer value is refused here, not by the database."""
    return column.type.length


def Day(**kw) -> fields.Date:
    """A day given in a request, within the days the hall counts with."""
    return fields.Date(validate=validate.Range(min=FIRST_DAY, max=LAST_DAY),
                       metadata={"description": f"a day from {FIRST_DAY} to {LAST_DAY}"}, **kw)


class TokenRequest(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenResponse(Schema):
    token = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds"})


class ProcessModel(Schema):
    process_id = fields.String()
    name = fields.String()
    latest_version = fields.Integer()


class DeployForm(Schema):
    class Meta:
        unknown = EXCLUDE

    process_id = fields.String(metadata={"description": "which process to deploy when the files define several"})


class DeployedVersion(Schema):
    process_id = fields.String()
    version = fields.Integer()
    name = fields.String()
    deployed_at = fields.DateTime()
    deployed_by = fields.String()


class FormField(Schema):
    name = fields.String()
    type = fields.String(metadata={
        "description": "string | text | long | number | boolean | date | datetime | enum | list | object"})
    label = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.Dict(), allow_none=True, metadata={"description": "[{value, label}] of an enum"})
    help = fields.String(metadata={"description": "what the field asks for, when the form says more"})
    fields_ = fields.List(fields.Dict(), data_key="fields", metadata={"description": "an object's fields"})
    item = fields.Dict(metadata={"description": "a list's item: a field of its own"})


class TaskOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    process_id = fields.String()
    element_id = fields.String()
    name = fields.String()
    lane = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    form_key = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    context = fields.Dict(allow_none=True, metadata={"description": "the item a multi-instance task is about"})
    warning = fields.String(metadata={"description": "none | yellow (a working day or less left) | red (overdue)"})
    escalation = fields.Integer(metadata={"description": "0, 1 (coordinators told), 2 (director told)"})
    due_note = fields.String(allow_none=True, metadata={
        "description": "\"calendar:YEAR\" while due_at lies in a year whose holidays are not entered yet: counted "
                       "Monday to Friday until an admin enters the year, then counted again"})


class TaskDetail(TaskOut):
    form = fields.Nested(FormField, many=True)
    case_data = fields.Dict(metadata={"description": "the part of the case data this task's worker reads"})
    data = fields.Dict(allow_none=True, metadata={"description": "what was submitted, once completed"})


class EventOut(Schema):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    element_id = fields.String(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    detail = fields.Dict(allow_none=True)


class CaseSummary(Schema):
    id = fields.Integer()
    number = fields.String()
    process_id = fields.String()
    version = fields.Integer()
    status = fields.String()
    title = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    next_timer_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True, metadata={"description": "the committed limit (承诺时限)"})
    warning = fields.String(metadata={"description": "none | yellow | red, for the committed limit"})
    paused_since = fields.DateTime(allow_none=True, metadata={"description": "the clock stopped since"})
    paused_reason = fields.String(allow_none=True)
    due_note = fields.String(allow_none=True, metadata={
        "description": "\"calendar:YEAR\" while due_at lies in a year whose schedule is not entered yet"})
    waiting = fields.List(fields.String(), metadata={
        "description": "the messages the case waits for (补正材料, 重新提交): POST .../messages/<name>"})
    channel = fields.String(metadata={"description": "where it was filed: online | counter"})
    suspended_at = fields.DateTime(allow_none=True, metadata={"description": "挂起: held by a coordinator since"})
    suspended_reason = fields.String(allow_none=True)


class CaseOut(CaseSummary):
    data = fields.Dict()
    error = fields.String(allow_none=True)
    started_by = fields.String(allow_none=True)
    open_tasks = fields.Nested(TaskOut, many=True)
    events = fields.Nested(EventOut, many=True)


class StartCase(Schema):
    process_id = fields.String(load_default=None, metadata={
        "description": "the process to start; with `item`, the item's process (and may be left out)"})
    item = fields.String(load_default=None, metadata={
        "description": "the code of a catalogue item (GET /catalogue): the case is filed under its latest "
                       "version, whose terms decide its limit and whether it is a 即办件"})
    channel = fields.String(load_default="online", validate=validate.OneOf(CHANNELS), metadata={
        "description": "online (网上预审 first), or counter: a window clerk takes in a walk-in applicant"})
    data = fields.Raw(load_default=dict, metadata={
        "type": "object",
        "description": "the start form's fields (a JSON object): GET /process-models/{process_id}/start-form "
                       "lists them, with their types, choices and whether each is required"})


class CaseQuery(Schema):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    process_id = fields.String()
    q = fields.String(metadata={"description": "search in case number and title"})


class TaskQuery(Schema):
    scope = fields.String(validate=validate.OneOf(("mine", "group")))
    process_id = fields.String()
    case_id = Id()


class CompleteTask(Schema):
    data = fields.Raw(load_default=dict, metadata={"description": "the task form's fields (a JSON object)"})


class AssignTask(Schema):
    username = fields.String(required=True)


class Message(Schema):
    data = fields.Raw(load_default=dict)


class Withdraw(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class Reason(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


def _level(**kw) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=5), **kw)


class RateCase(Schema):
    level = _level(required=True, metadata={
        "description": "5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意 (1 and 2 are 差评)"})
    stage = fields.String(load_default=None, validate=validate.OneOf(ratings.STAGES), metadata={
        "description": "accepted (受理), completed (办结), rectified (after a 差评整改 reported back); "
                       "default: completed if the case is finished, else accepted"})
    dimensions = fields.Dict(keys=fields.String(validate=validate.OneOf(ratings.DIMENSIONS)), values=_level(),
                             load_default=None, metadata={"description": "levels of any of " + ", ".join(
                                 f"{k} ({v})" for k, v in ratings.DIMENSIONS.items())})
    comment = fields.String(load_default=None, validate=validate.Length(max=_chars(Rating.comment)))


class RatingOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    stage = fields.String()
    level = fields.Integer()
    dimensions = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    comment = fields.String(allow_none=True)
    channel = fields.String(metadata={"description": "api | portal | counter (recorded at the window) | device"})
    window = fields.String(allow_none=True, metadata={"description": "the window that took the case in"})
    rectification_case_id = fields.Integer(allow_none=True, metadata={"description": "a 差评's 差评整改 case"})
    recorded_by = fields.String(allow_none=True)
    at = fields.DateTime()
    recorded_by = fields.String(allow_none=True)


class ExtendTask(Schema):
    workdays = fields.Integer(required=True, validate=validate.Range(min=1, max=60))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_CHARS))


class EscalateTask(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=TEXT_CHARS))


class ReassignTask(Schema):
    """Either a username or a group, not both."""

    username = fields.String(metadata={"description": "hand the task to this person (or give group)"})
    group = fields.String(metadata={"description": "put the task in this group's queue (or give username)"})

    @validates_schema
    def _one_of(self, data, **kwargs):
        if bool(data.get("username")) == bool(data.get("group")):
            raise ValidationError("give either a username or a group", "username")


class Note(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_CHARS))
    task_id = Id()


class PauseCase(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=_chars(Case.paused_reason)),
                           metadata={"description": "听证, 检验检测, 鉴定, 专家评审 or another special procedure"})


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    case_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    message = fields.String()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class ReadNotifications(Schema):
    ids = fields.List(Id(), load_default=None)


class RatingQuery(Schema):
    window = fields.String(validate=validate.Length(max=64), metadata={"description": "the window rated"})
    poor = fields.Boolean(metadata={"description": "差评 only"})
    since = Day()
    until = Day()


class RatingFigures(Schema):
    ratings = fields.Integer()
    poor = fields.Integer(metadata={"description": "差评 (level 1 or 2)"})
    rectified = fields.Integer(metadata={"description": "差评 whose 整改 is reported back to the rater"})
    rectification_rate = fields.Float(allow_none=True, metadata={"description": "差评整改率"})
    satisfaction_rate = fields.Float(allow_none=True, metadata={"description": "满意率 (level 3 and above)"})


class AccountabilityQuery(Schema):
    kind = fields.String(validate=validate.OneOf(tuple(ACCOUNTABILITY_KINDS)))
    department = fields.String()
    person = fields.String()
    since = Day()
    until = Day()


class AccountabilityOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    case_id = fields.Integer()
    case_number = fields.String()
    case_title = fields.String(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    task_name = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "late | extension | rejection, or a misconduct a complaint "
                                                  "found: " + " | ".join(MISCONDUCT)})
    department = fields.String(allow_none=True, metadata={"description": "the group answerable"})
    person = fields.String(allow_none=True, metadata={
        "description": "late: who completed it; extension: who held the task (none while unclaimed); "
                       "rejection: who refused; misconduct: who completed the step complained of"})
    person_name = fields.String(allow_none=True)
    days_over = fields.Float(allow_none=True, metadata={
        "description": "late: working days begun after the deadline, at least 1"})
    days_granted = fields.Integer(allow_none=True, metadata={"description": "extension: working days given"})
    granted_by = fields.String(allow_none=True, metadata={"description": "extension: the coordinator"})
    granted_by_name = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class CalendarDayIn(Schema):
    workday = fields.Boolean(required=True, allow_none=True,
                             metadata={"description": "true: a working day; false: closed; null: no override"})
    note = fields.String(load_default=None, validate=validate.Length(max=_chars(CalendarDay.note)))


class CalendarYearIn(Schema):
    holidays = fields.List(Day(), required=True)
    workdays = fields.List(Day(), load_default=list, metadata={"description": "make-up working days (调休)"})
    note = fields.String(load_default=None, validate=validate.Length(max=_chars(CalendarDay.note)))


class FileOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    material = fields.String(metadata={"description": "the item's material it is (or 其他材料)"})
    version = fields.Integer(metadata={"description": "1 for the first file of this material, then 2, 3..."})
    filename = fields.String()
    content_type = fields.String(metadata={"description": "as read from the file's bytes: PDF, JPEG, PNG or OFD"})
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()


def upload_body(what: str) -> dict:
    """The OpenAPI request body of an upload (webapp.uploaded_file reads either form)."""
    return {"description": f"{what}: the whole body (application/octet-stream, its name in `filename`), or a "
                           "multipart form's field `file`",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        "multipart/form-data": {"schema": {"type": "object", "properties": {
                            "file": {"type": "string", "format": "binary"}}}}}}


class UploadQuery(Schema):
    material = fields.String(required=True, metadata={"description": "one of the case's item's materials"})
    filename = fields.String(load_default=None, metadata={"description": "the file's name, for a body sent whole"})


class NoticeOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    kind = fields.String(metadata={"description": "receipt | supplement | refusal | completion"})
    title = fields.String(metadata={"description": "受理通知书, 补正告知书, 不予受理通知书 or 办结通知书"})
    issued_at = fields.DateTime()
    issued_by = fields.String()


class StatisticsQuery(Schema):
    period = fields.String(validate=validate.Length(max=40), metadata={
        "description": "a year (2026), a quarter (2026-Q1) or a month (2026-03), in the hall's time zone; "
                       "default: this year"})
    from_ = Day(data_key="from")  # a period of one's own: from this day
    to = Day()  # to this one, included; a period is at most three years
    by = fields.String(validate=validate.OneOf(("department", "category", "item", "staff", "month")), metadata={
        "description": "rows by department, window category, catalogue item, staff member or month"})


class StatisticsFigure(Schema):
    key = fields.String()
    label = fields.String()
    unit = fields.String(metadata={"description": "count | percent (a share, 0 to 1) | days (working days) | "
                                                  "money (万元)"})


class StatisticsRow(Schema):
    key = fields.Raw(allow_none=True, metadata={"description": "the group, category code, item code, user id "
                                                               "or month (YYYY-MM); null: none"})
    label = fields.String()
    values = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))


class StatisticsOut(Schema):
    period = fields.String()
    first_day = fields.Date()
    last_day = fields.Date()
    by = fields.String(allow_none=True)
    figures = fields.List(fields.Nested(StatisticsFigure))
    totals = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    rows = fields.List(fields.Nested(StatisticsRow))
    trend = fields.List(fields.Nested(StatisticsRow), metadata={"description": "received, accepted, completed "
                                                                              "month by month"})
    pause_reasons = fields.List(fields.Dict(), metadata={"description": "[{reason, cases}]"})
    complaint_kinds = fields.List(fields.Dict(), metadata={"description": "[{kind, complaints}]: 意见建议, 投诉 and "
                                                                           "the misconduct kinds, as classified"})

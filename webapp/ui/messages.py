"""Error messages in the person's language.

marshmallow writes its messages in English ("Missing data for required field.", "Length
must be between 1 and 50."), and so does the engine ("task 12 is held by wang"). A page
shows them to a Chinese clerk, so each known message is read back into its parts and said
again with `gettext`: Chinese by default, English (from the catalog) when English is
chosen. A form's own message written as "中文 / English" shows the half of the person's
language; any other message is shown as it is.

    localize("Not a valid integer.")              # 请填写整数 / "Enter a whole number."
    localize_errors(flat_errors, form_fields)     # every message next to every field
    engine_message(error)                         # a HallError's message
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from flask_babel import get_locale, pgettext
from flask_babel import gettext as _

from engine.errors import EngineFailure, HallError, Invalid
from webapp.ui.fields import flatten_errors

Rule = Callable[..., str]


def english() -> bool:
    """Is the person reading English?"""
    locale = get_locale()
    return locale is not None and locale.language == "en"


def join_words(items) -> str:
    return (", " if english() else "、").join(str(i) for i in items)


# --- the field an error is about -------------------------------------------------------

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_at(fields: list[dict] | None, path: str) -> dict | None:
    """The description (forms.describe) of the input at `path` ("a.b", "rows[0].x", "tags[2]")."""
    desc, current = None, fields or []
    for name, index in _PATH_PART.findall(path):
        if index:
            if not desc or desc.get("type") != "list":
                return None
            desc = desc.get("item") or {}
            current = desc.get("fields") or []
            continue
        desc = next((d for d in current if d.get("name") == name), None)
        if desc is None:
            return None
        current = desc.get("fields") or []
    return desc


def _choices_of(desc: dict | None) -> list[dict]:
    if not desc:
        return []
    return desc.get("choices") or (desc.get("item") or {}).get("choices") or []


# --- marshmallow ---------------------------------------------------------------------

_FIXED: dict[str, Rule] = {
    # fields
    "Missing data for required field.": lambda: _("此项为必填项"),
    "Field may not be null.": lambda: _("此项为必填项"),
    "Invalid value.": lambda: _("填写的值无效"),
    "Not a valid string.": lambda: _("请填写文字"),
    "Not a valid utf-8 string.": lambda: _("文字编码无效（须为 UTF-8）"),
    "Not a valid number.": lambda: _("请填写数字"),
    "Number too large.": lambda: _("数值过大"),
    "Not a valid integer.": lambda: _("请填写整数"),
    "Special numeric values (nan or infinity) are not permitted.": lambda: _("不接受无穷大或非数值（NaN）"),
    "Not a valid boolean.": lambda: _("请选择“是”或“否”"),
    "Not a valid date.": lambda: _("请填写有效的日期（年-月-日）"),
    "Not a valid datetime.": lambda: _("请填写有效的日期和时间"),
    "Not a valid time.": lambda: _("请填写有效的时间（时:分）"),
    "Not a valid naive datetime.": lambda: _("须为不带时区的日期和时间"),
    "Not a valid aware datetime.": lambda: _("须为带时区的日期和时间"),
    "Not a valid naive time.": lambda: _("须为不带时区的时间"),
    "Not a valid aware time.": lambda: _("须为带时区的时间"),
    "Not a valid period of time.": lambda: _("请填写有效的时长"),
    "Not a valid list.": lambda: _("须为列表"),
    "Not a valid tuple.": lambda: _("须为列表"),
    "Not a valid mapping type.": lambda: _("须为一组“名称: 值”"),
    "Invalid type.": lambda: _("格式不正确"),
    "Not a valid UUID.": lambda: _("不是有效的 UUID"),
    "Not a valid URL.": lambda: _("请填写有效的网址"),
    "Not a valid email address.": lambda: _("请填写有效的电子邮箱地址"),
    # schemas
    "Invalid input type.": lambda: _("提交的数据格式不正确"),
    "Unknown field.": lambda: _("表单中没有此项"),
    # validators
    "Invalid input.": lambda: _("填写的值无效"),
    "String does not match expected pattern.": lambda: _("格式不正确"),
    # forms.load and the engine's short field messages
    "must be a JSON object": lambda: _("须为 JSON 对象"),
    "required": lambda: _("此项为必填项"),
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_GE, _GT, _LE, _LT = ("greater than or equal to", "greater than", "less than or equal to", "less than")


def _bound(op: str, value: str) -> str:
    """One bound of a range, as a whole sentence."""
    if _DATE.match(value):
        return {_GE: lambda: _("不能早于 %(v)s", v=value), _GT: lambda: _("须晚于 %(v)s", v=value),
                _LE: lambda: _("不能晚于 %(v)s", v=value), _LT: lambda: _("须早于 %(v)s", v=value)}[op]()
    return {_GE: lambda: _("不能小于 %(v)s", v=value), _GT: lambda: _("须大于 %(v)s", v=value),
            _LE: lambda: _("不能大于 %(v)s", v=value), _LT: lambda: _("须小于 %(v)s", v=value)}[op]()


def _range(m: re.Match, desc: dict | None) -> str:
    low_op, low, high_op, high = m["op1"], m["v1"], m["op2"], m["v2"]
    if high is None:
        return _bound(low_op, low)
    if _DATE.match(low):
        if (low_op, high_op) == (_GE, _LE):
            return _("须在 %(min)s 至 %(max)s 之间", min=low, max=high)
        return _("%(low)s，且%(high)s", low=_bound(low_op, low), high=_bound(high_op, high))
    return {
        (_GE, _LE): lambda: _("须在 %(min)s 到 %(max)s 之间", min=low, max=high),
        (_GT, _LE): lambda: _("须大于 %(min)s 且不大于 %(max)s", min=low, max=high),
        (_GE, _LT): lambda: _("须不小于 %(min)s 且小于 %(max)s", min=low, max=high),
        (_GT, _LT): lambda: _("须大于 %(min)s 且小于 %(max)s", min=low, max=high),
    }[(low_op, high_op)]()


def _list_kind(desc: dict | None) -> str | None:
    """How a list input is filled: "choose" (checkboxes), "rows" (a table of rows), "enter"
    (a line each); None when the input is not a list."""
    if not desc or desc.get("type") != "list":
        return None
    item = desc.get("item") or {}
    if item.get("type") == "enum" or item.get("choices"):
        return "choose"
    return "rows" if item.get("type") == "object" else "enter"


_LIST_LENGTHS: dict[str, dict[str, Callable[..., str]]] = {
    "choose": {
        "one": lambda: _("至少选择一项"),
        "min": lambda n: _("至少选择 %(n)s 项", n=n),
        "max": lambda n: _("最多选择 %(n)s 项", n=n),
        "between": lambda lo, hi: _("须选择 %(min)s 到 %(max)s 项", min=lo, max=hi),
        "equal": lambda n: _("须选择 %(n)s 项", n=n),
    },
    "rows": {
        "one": lambda: _("至少添加一行"),
        "min": lambda n: _("至少添加 %(n)s 行", n=n),
        "max": lambda n: _("最多 %(n)s 行", n=n),
        "between": lambda lo, hi: _("须为 %(min)s 到 %(max)s 行", min=lo, max=hi),
        "equal": lambda n: _("须为 %(n)s 行", n=n),
    },
    "enter": {
        "one": lambda: _("至少填写一项"),
        "min": lambda n: _("至少填写 %(n)s 项", n=n),
        "max": lambda n: _("最多填写 %(n)s 项", n=n),
        "between": lambda lo, hi: _("须填写 %(min)s 到 %(max)s 项", min=lo, max=hi),
        "equal": lambda n: _("须填写 %(n)s 项", n=n),
    },
}


def _shorter(m: re.Match, desc: dict | None) -> str:
    n, kind = int(m["min"]), _list_kind(desc)
    if kind:
        return _LIST_LENGTHS[kind]["one"]() if n == 1 else _LIST_LENGTHS[kind]["min"](n)
    return _("不能为空") if n == 1 else _("至少 %(n)s 个字", n=n)


def _longer(m: re.Match, desc: dict | None) -> str:
    n, kind = int(m["max"]), _list_kind(desc)
    return _LIST_LENGTHS[kind]["max"](n) if kind else _("最多 %(n)s 个字", n=n)


def _between(m: re.Match, desc: dict | None) -> str:
    lo, hi, kind = int(m["min"]), int(m["max"]), _list_kind(desc)
    return _LIST_LENGTHS[kind]["between"](lo, hi) if kind else _("须为 %(min)s 到 %(max)s 个字", min=lo, max=hi)


def _exactly(m: re.Match, desc: dict | None) -> str:
    n, kind = int(m["n"]), _list_kind(desc)
    return _LIST_LENGTHS[kind]["equal"](n) if kind else _("须为 %(n)s 个字", n=n)


def _one_of(m: re.Match, desc: dict | None) -> str:
    labels = [c["label"] for c in _choices_of(desc)]
    return _("请从以下选项中选择：%(choices)s", choices=join_words(labels) if labels else m["choices"])


def _only(m: re.Match, desc: dict | None) -> str:
    labels = [c["label"] for c in _choices_of(desc)]
    return _("所选的内容须在以下选项之中：%(choices)s", choices=join_words(labels) if labels else m["choices"])


_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match, dict | None], str]]] = [
    (re.compile(rf"^Must be (?P<op1>{_GE}|{_GT}|{_LE}|{_LT}) (?P<v1>.+?)"
                rf"(?: and (?P<op2>{_LE}|{_LT}) (?P<v2>.+?))?\.$"), _range),
    (re.compile(r"^Shorter than minimum length (?P<min>\d+)\.$"), _shorter),
    (re.compile(r"^Longer than maximum length (?P<max>\d+)\.$"), _longer),
    (re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$"), _between),
    (re.compile(r"^Length must be (?P<n>\d+)\.$"), _exactly),
    (re.compile(r"^Must be one of: (?P<choices>.*)\.$", re.S), _one_of),
    (re.compile(r"^One or more of the choices you made was not in: (?P<choices>.*)\.$", re.S), _only),
    (re.compile(r"^One or more of the choices you made was in: (?P<values>.*)\.$", re.S),
     lambda m, d: _("不能选择：%(values)s", values=m["values"])),
    (re.compile(r"^Must be equal to (?P<other>.*)\.$", re.S), lambda m, d: _("须等于 %(other)s", other=m["other"])),
    (re.compile(r"^Not a valid (?P<kind>IP|IPv4|IPv6) address\.$"),
     lambda m, d: _("请填写有效的 %(kind)s 地址", kind=m["kind"])),
    (re.compile(r"^Not a valid (?P<kind>IP|IPv4|IPv6) interface\.$"),
     lambda m, d: _("请填写有效的 %(kind)s 网络接口地址", kind=m["kind"])),
]

# "不能为空 / must not be empty": a form's own message in both languages
_BILINGUAL = re.compile(r"^(?P<zh>.*[\u3400-\u9fff].*?)\s+/\s+(?P<en>[^\u3400-\u9fff]+)$", re.S)


def localize(message, field: dict | None = None) -> str:
    """A validation message in the person's language; `field` is the description of the
    input it is about (lengths of lists are counted in items, choices named by label)."""
    if not isinstance(message, str):
        return str(message)
    text = message.strip()
    if text in _FIXED:
        return _FIXED[text]()
    for pattern, rule in _PATTERNS:
        m = pattern.match(text)
        if m:
            return rule(m, field)
    m = _BILINGUAL.match(text)
    if m:
        return m["en"].strip() if english() else m["zh"].strip()
    return _engine_text(text) or message


_ITEM = re.compile(r"^(.*)\[(\d+)\]$")


def localize_errors(errors: dict[str, list], fields: list[dict] | None = None) -> dict[str, list[str]]:
    """{input path: [messages]} (fields.flatten_errors) in the person's language. An item of a
    list typed as one input (lines of a text box, ticks) has no input of its own: its
    messages go to the list's, numbered."""
    out: dict[str, list[str]] = {}
    for path, messages in errors.items():
        said = [localize(m, field_at(fields, path)) for m in messages]
        item = _ITEM.match(path)
        owner = field_at(fields, item[1]) if item else None
        if owner and owner.get("type") == "list" and (owner.get("item") or {}).get("type") != "object":
            path = item[1]
            said = [_("第 %(n)s 项：%(message)s", n=int(item[2]) + 1, message=m) for m in said]
        out.setdefault(path, []).extend(said)
    return out


def form_errors(e: HallError, fields: list[dict] | None = None) -> dict[str, list[str]]:
    """What a page shows of an error on submitting a form: messages by input path ("_": the form's)."""
    errors = e.extra.get("errors") if isinstance(e, Invalid) else None
    if isinstance(errors, dict):
        return localize_errors(flatten_errors(errors), fields)
    return {"_": [engine_message(e)]}


# --- the engine ----------------------------------------------------------------------

def _task_status(m: re.Match) -> str:
    task, status = m["id"], m["status"]
    if status == "completed":
        return _("环节 %(id)s 已办理完毕", id=task)
    if status == "cancelled":
        return _("环节 %(id)s 已撤销", id=task)
    return _("环节 %(id)s 当前不可办理（%(status)s）", id=task, status=status)


def _case_status(m: re.Match) -> str:
    case, status = m["number"], m["status"]
    if status == "completed":
        return _("办件 %(number)s 已办结", number=case)
    if status == "terminated":
        return _("办件 %(number)s 已终止", number=case)
    if status == "withdrawn":
        return _("办件 %(number)s 已撤回", number=case)
    if status == "error":
        return _("办件 %(number)s 处于异常状态，请联系流程管理员", number=case)
    return _("办件 %(number)s 当前不在办理中（%(status)s）", number=case, status=status)


def _held(m: re.Match) -> str:
    if m["user"] == "someone else":
        return _("环节 %(id)s 已由他人签收", id=m["id"])
    return _("环节 %(id)s 已由 %(user)s 签收", id=m["id"], user=m["user"])


def _stage(said: str) -> str:
    """A rating's stage as the engine names it (engine.ratings.STAGES), in the person's language."""
    return {"受理": pgettext("rating stage", "受理"), "办结": pgettext("rating stage", "办结"),
            "整改后": pgettext("rating stage", "整改后")}.get(said, said)


_ENGINE: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [(re.compile(p, re.S), rule) for p, rule in [
    # engine/tasks.py
    (r"^no task (?P<id>\d+)$", lambda m: _("环节 %(id)s 不存在", id=m["id"])),
    (r"^this task is not open to you$", lambda m: _("您无权查看该环节")),
    (r"^this task is not open to your groups$", lambda m: _("该环节不属于您所在的岗位组")),
    (r"^this task is not yours$", lambda m: _("该环节已由他人签收，不由您办理")),
    (r"^task (?P<id>\d+) is held by (?P<user>.+)$", _held),
    (r"^task (?P<id>\d+) is no longer open$", lambda m: _("环节 %(id)s 已不再待办", id=m["id"])),
    (r"^task (?P<id>\d+) was completed or claimed by someone else meanwhile$",
     lambda m: _("环节 %(id)s 刚刚已被他人办理或签收", id=m["id"])),
    (r"^task (?P<id>\d+) is (?:already )?(?P<status>\w+)$", _task_status),
    (r"^assigning tasks needs the coordinator role$", lambda m: _("只有协调员可以指派环节")),
    (r"^username is required$", lambda m: _("请填写用户名")),
    (r"^no active user '(?P<user>.*)'$", lambda m: _("没有名为 %(user)s 的在用账号", user=m["user"])),
    (r"^reassigning tasks needs the coordinator role$", lambda m: _("只有协调员可以改派环节")),
    (r"^group is required$", lambda m: _("请选择岗位组")),
    (r"^no group '(?P<group>.*)'$", lambda m: _("没有名为 %(group)s 的岗位组", group=m["group"])),
    # engine/runtime.py
    (r"^no process '(?P<process>.*)'$", lambda m: _("事项 %(process)s 不存在", process=m["process"])),
    (r"^you may not start '(?P<name>.*)'$", lambda m: _("您不能发起“%(name)s”", name=m["name"])),
    (r"^no case (?P<id>\d+)$", lambda m: _("办件 %(id)s 不存在", id=m["id"])),
    (r"^no item (?P<code>\S+)$", lambda m: _("事项 %(code)s 不存在", code=m["code"])),
    (r"^no item (?P<code>\S+) version (?P<v>\d+)$",
     lambda m: _("事项 %(code)s 没有第 %(v)s 版", code=m["code"], v=m["v"])),
    (r"^no process (?P<ids>.*) is deployed$", lambda m: _("流程 %(ids)s 尚未部署", ids=m["ids"])),
    (r"^the catalogue changed meanwhile; try again$", lambda m: _("事项目录刚被他人修改，请重试")),
    (r"^this is not your case$", lambda m: _("这不是您的办件")),
    (r"^no item '(?P<code>.*)' in the catalogue$", lambda m: _("事项 %(code)s 不存在", code=m["code"])),
    (r"^item (?P<code>\S+) is not filed online: the applicant brings it to the window$",
     lambda m: _("事项 %(code)s 不能网上申报，请到窗口办理", code=m["code"])),
    (r"^only the hall's staff take in cases at the counter$", lambda m: _("只有窗口工作人员可以现场受理")),
    (r"^item (?P<code>\S+) is not handled by a process of the hall$",
     lambda m: _("事项 %(code)s 尚未配置办理流程，请联系流程管理员", code=m["code"])),
    (r"^an enterprise's account files for that enterprise only$", lambda m: _("企业账号只能为本企业申报")),
    (r"^the reason is longer than (?P<n>\d+) characters$", lambda m: _("原因不能超过 %(n)s 个字", n=m["n"])),
    (r"^a case of (?P<process>\S+) is not withdrawn: it has no 受理 to come before$",
     lambda m: _("该类办件不适用撤回")),
    # engine/materials.py: the window's checklist at 受理
    (r"^not materials of this item: (?P<names>.*)$", lambda m: _("不是本事项的材料：%(names)s", names=m["names"])),
    (r"^may not follow later \(容缺\): (?P<names>.*)$", lambda m: _("以下材料不可容缺：%(names)s", names=m["names"])),
    (r"^required and not received: (?P<names>.*); ask for them \(补正\)$",
     lambda m: _("以下必交材料未收到：%(names)s；请容缺受理（如允许）或要求补正", names=m["names"])),
    (r"^materials follow later: this is 容缺受理 \(tolerate\)$", lambda m: _("有材料后补，请选择“容缺受理”")),
    (r"^name the materials that follow later$", lambda m: _("请勾选后补的容缺材料")),
    # engine/portal.py
    (r"^too many sign-ups from this address; try again in (?P<n>\d+) seconds$",
     lambda m: _("注册过于频繁，请 %(n)s 秒后再试", n=m["n"])),
    (r"^enterprise (?P<code>\S+) has an account already; its holder adds you, or the hall does$",
     lambda m: _("企业 %(code)s 已有账号，请联系该账号持有人或大厅添加", code=m["code"])),
    (r"^this account or enterprise was signed up meanwhile; sign in, or try another name$",
     lambda m: _("该账号或企业刚刚已注册，请登录或换一个用户名")),
    (r"^you keep (?P<n>\d+) drafts already: submit or delete one first$",
     lambda m: _("您已有 %(n)s 份草稿，请先提交或删除", n=m["n"])),
    (r"^question (?P<id>\d+) was answered already$", lambda m: _("该问题已答复")),
    (r"^you have (?P<n>\d+) questions waiting for an answer already$",
     lambda m: _("您已有 %(n)s 个问题待答复，请等答复后再提问", n=m["n"])),
    (r"^questions about this item are answered by the (?P<window>.+)$",
     lambda m: _("该事项的咨询由%(window)s答复", window=m["window"])),
    (r"^question is required$", lambda m: _("请填写问题")),
    (r"^answer is required$", lambda m: _("请填写答复")),
    (r"^case (?P<number>\S+) is accepted \(受理\): it can no longer be withdrawn$",
     lambda m: _("办件 %(number)s 已受理，不能再撤回", number=m["number"])),
    (r"^a case is withdrawn by its applicant, or at the window$", lambda m: _("办件只能由申请人本人或窗口撤回")),
    # engine/materials.py
    (r"^material must be one of: (?P<names>.*)$", lambda m: _("材料须为以下之一：%(names)s", names=m["names"])),
    (r"^material is required$", lambda m: _("请填写材料名称")),
    (r"^the file is larger than (?P<n>\d+) MB$", lambda m: _("文件超过 %(n)s MB", n=m["n"])),
    (r"^the file is empty$", lambda m: _("文件是空的")),
    (r"^only PDF, JPEG, PNG and OFD files are taken \(judged by their content\)$",
     lambda m: _("只接受 PDF、JPEG、PNG、OFD 文件（按文件内容判断，不看文件名）")),
    (r"^no file: send it as the form field 'file'$", lambda m: _("请选择要上传的文件")),
    (r"^files are added by the case's applicant, or at the window$", lambda m: _("材料由申请人本人上传，或由窗口代收")),
    (r"^case (?P<number>\S+) is (?P<status>\w+): its materials are closed$",
     lambda m: _("办件 %(number)s 已不在办理中，不能再添加材料", number=m["number"])),
    (r"^at most (?P<n>\d+) files are kept together$", lambda m: _("文件数已达上限（%(n)s 个）", n=m["n"])),
    (r"^another file was added to this material meanwhile; send it again$",
     lambda m: _("该材料刚有他人上传了文件，请重新上传")),
    (r"^case (?P<number>\S+) is (?P<status>\w+)$", _case_status),
    (r"^the case is changing too fast; try again$", lambda m: _("该办件正被他人同时办理，请稍后再试")),
    (r"^invalid data: (?P<fields>.*)$", lambda m: _("填写的内容有误：%(fields)s", fields=m["fields"])),
    (r"^more than (?P<n>\d+) automatic steps without waiting for anyone: an endless loop in the diagram\?$",
     lambda m: _("连续 %(n)s 个自动步骤都没有等待任何人办理：流程图中可能有死循环", n=m["n"])),
    (r"^cannot evaluate dueDate '(?P<expr>.*)': (?P<error>.*)$",
     lambda m: _("无法计算办理时限“%(expr)s”：%(error)s", expr=m["expr"], error=m["error"])),
    (r"^dueDate '(?P<value>.*)' is not ISO 8601$",
     lambda m: _("办理时限“%(value)s”不是 ISO 8601 格式", value=m["value"])),
    (r"^cannot evaluate '(?P<expr>.*)': (?P<error>.*)$",
     lambda m: _("无法计算“%(expr)s”：%(error)s", expr=m["expr"], error=m["error"])),
    (r"^script ran longer than allowed \((?P<steps>\d+) steps or (?P<seconds>[\d.]+) s\)$",
     lambda m: _("脚本运行超出限制（%(steps)s 步或 %(seconds)s 秒）", steps=m["steps"], seconds=m["seconds"])),
    (r"^caseTimeLimit: (?P<error>.*)$", lambda m: _("无法计算办件时限：%(error)s", error=m["error"])),
    (r"^caseTimeLimit gave (?P<value>.*), not a number of working days$",
     lambda m: _("办件时限得出 %(value)s，不是工作日天数", value=m["value"])),
    # engine/deadlines.py (coordinators' actions)
    (r"^this needs the coordinator role$", lambda m: _("只有协调员可以这样做")),
    (r"^workdays must be a whole number from 1 to 60$", lambda m: _("延期天数须为 1 到 60 之间的整数")),
    (r"^1 to 60$", lambda m: _("须为 1 到 60 之间的整数")),
    (r"^a reason is required to extend a deadline$", lambda m: _("延期须写明理由")),
    (r"^a reason is required$", lambda m: _("须写明理由")),
    (r"^this task has no deadline to extend$", lambda m: _("该环节没有办理时限，无需延期")),
    (r"^the task has no deadline$", lambda m: _("该环节没有办理时限")),
    (r"^give either a username or a group$", lambda m: _("请填写用户名或选择岗位组（二选一）")),
    (r"^username or group$", lambda m: _("请填写用户名或选择岗位组（二选一）")),
    (r"^supervision notes are for coordinators, the director and supervisors$",
     lambda m: _("只有协调员、常务副主任和驻厅监察可以填写督办意见")),
    (r"^the note is empty$", lambda m: _("督办意见不能为空")),
    (r"^a case's clock is stopped and started by the coordinators and the window that has it$",
     lambda m: _("办件计时只能由协调员和正在办理该办件的窗口暂停或恢复")),
    (r"^the dashboard is for coordinators, the director and supervisors$",
     lambda m: _("督办看板仅对协调员、常务副主任和驻厅监察开放")),
    (r"^accountability records are for supervisors$", lambda m: _("问责记录仅对驻厅监察开放")),
    (r"^the calendar is the admin's$", lambda m: _("工作日历由系统管理员维护")),
    # engine/ratings.py
    (r"^only hall staff record ratings at the window$", lambda m: _("只有窗口工作人员可以代录好差评")),
    (r"^ratings come from the applicant, or are recorded at the window$",
     lambda m: _("好差评由申请人作出，或由窗口代录")),
    (r"^level must be 1 \(非常不满意\) to 5 \(非常满意\)$", lambda m: _("请选择评价等级（非常满意至非常不满意）")),
    (r"^case (?P<number>\S+) is not finished yet: it is rated once its result is issued$",
     lambda m: _("办件 %(number)s 尚未办结，办结后方可评价", number=m["number"])),
    (r"^the comment is longer than (?P<n>\d+) characters$", lambda m: _("意见不能超过 %(n)s 个字", n=m["n"])),
    # engine/incidents.py
    (r"^incidents are a process owner's or an admin's$", lambda m: _("异常处理仅对流程管理员和系统管理员开放")),
    (r"^no incident (?P<id>\d+)$", lambda m: _("没有异常 %(id)s", id=m["id"])),
    (r"^incident (?P<id>\d+) is resolved$", lambda m: _("异常 %(id)s 已处理", id=m["id"])),
    (r"^data: 1 to (?P<n>\d+) fields to set$", lambda m: _("请填写 1 至 %(n)s 个要更正的字段", n=m["n"])),
    (r"^data: '(?P<x>.*)' is not a field name$", lambda m: _("“%(x)s”不是字段名", x=m["x"])),
    (r"^case (?P<id>\d+) is not running, or is suspended: it is not tried again$",
     lambda m: _("办件已结束或已挂起，不能重试")),
    # engine/moves.py
    (r"^cases are moved to another version by a process owner or an admin$",
     lambda m: _("只有流程管理员或系统管理员可以迁移办件")),
    (r"^element (?P<el>.+) is not in version (?P<v>\d+)$",
     lambda m: _("环节 %(el)s 在版本 %(v)s 中已不存在", el=m["el"], v=m["v"])),
    (r"^element (?P<el>.+) is of another kind in version (?P<v>\d+)$",
     lambda m: _("环节 %(el)s 在版本 %(v)s 中换了类型", el=m["el"], v=m["v"])),
    (r"^the form of (?P<el>.+) changed in version (?P<v>\d+)$",
     lambda m: _("环节 %(el)s 的表单在版本 %(v)s 中已修改", el=m["el"], v=m["v"])),
    (r"^the topic of (?P<el>.+) changed in version (?P<v>\d+)$",
     lambda m: _("外部任务 %(el)s 的主题在版本 %(v)s 中已修改", el=m["el"], v=m["v"])),
    (r"^called process (?P<p>.+) is not in version (?P<v>\d+)$",
     lambda m: _("调用的流程 %(p)s 在版本 %(v)s 中已不存在", p=m["p"], v=m["v"])),
    (r"^the case is on version (?P<v>\d+) already$", lambda m: _("办件已在版本 %(v)s", v=m["v"])),
    (r"^the cases are on version (?P<v>\d+) already$", lambda m: _("所选办件已在版本 %(v)s", v=m["v"])),
    (r"^the move was cancelled$", lambda m: _("迁移已取消")),
    (r"^no move (?P<id>\d+)$", lambda m: _("没有迁移批次 %(id)s", id=m["id"])),
    (r"^move (?P<id>\d+) is (?P<status>\w+)$", lambda m: _("迁移批次 %(id)s 当前不能这样操作", id=m["id"])),
    (r"^no running case of another version is chosen$", lambda m: _("没有选中其他版本的在办办件")),
    (r"^(?P<n>\d+) cases are chosen, more than the (?P<max>\d+) a move takes: choose fewer$",
     lambda m: _("选中了 %(n)s 件，一次迁移最多 %(max)s 件，请缩小范围", n=m["n"], max=m["max"])),
    (r"^at most (?P<n>\d+) cases may be named$", lambda m: _("最多可列出 %(n)s 个办件编号", n=m["n"])),
    (r"^element must be an element's id$", lambda m: _("环节须为流程图中的元素 ID")),
    # engine/identity.py: administration
    (r"^username: 1 to 64 letters, digits, '\.', '_' or '-'$", lambda m: _("用户名为 1 至 64 个字母、数字或 . _ -")),
    (r"^unknown role\(s\): (?P<bad>.*); roles are .*$", lambda m: _("没有这个角色：%(bad)s", bad=m["bad"])),
    (r"^a password is (?P<low>\d+) to (?P<high>\d+) characters$",
     lambda m: _("密码为 %(low)s 至 %(high)s 个字符", low=m["low"], high=m["high"])),
    (r"^the current password is not right$", lambda m: _("当前密码不正确")),
    (r"^user '(?P<name>.*)' already exists$", lambda m: _("用户 %(name)s 已存在", name=m["name"])),
    (r"^no user '(?P<name>.*)'$", lambda m: _("没有用户 %(name)s", name=m["name"])),
    (r"^an admin does not deactivate their own account$", lambda m: _("不能停用自己的账户")),
    (r"^users and groups are an admin's$", lambda m: _("用户和用户组由系统管理员管理")),
    (r"^display_name is longer than 128 characters$", lambda m: _("姓名不能超过 128 个字")),
    (r"^a group's name is (at most 64|1 to 64) characters$", lambda m: _("用户组名称为 1 至 64 个字")),
    (r"^label is longer than 128 characters$", lambda m: _("用户组说明不能超过 128 个字")),
    (r"^case (?P<number>\S+) is suspended \(挂起\): nothing is done on it till it is activated$",
     lambda m: _("办件 %(number)s 已挂起，恢复办理前不能办理", number=m["number"])),
    (r"^case (?P<number>\S+) is suspended already$", lambda m: _("办件 %(number)s 已经挂起", number=m["number"])),
    (r"^case (?P<number>\S+) is not suspended$", lambda m: _("办件 %(number)s 没有挂起", number=m["number"])),
    (r"^cases are (terminated|suspended|suspended and activated) by a coordinator or the director$",
     lambda m: _("只有管理办协调员或常务副主任可以终止、挂起或恢复办件")),
    (r"^case (?P<number>\S+) is not in hand after 受理: it is rated at 受理 once accepted, till its result is issued$",
     lambda m: _("办件 %(number)s 不在受理后、办结前，不能评价受理服务", number=m["number"])),
    (r"^case (?P<number>\S+) is already rated at (?P<stage>\S+)$",
     lambda m: _("办件 %(number)s 的%(stage)s服务已经评价过", number=m["number"], stage=_stage(m["stage"]))),
    (r"^case (?P<number>\S+) has no 差评整改 reported back to rate$",
     lambda m: _("办件 %(number)s 没有待再次评价的差评整改结果", number=m["number"])),
    (r"^a rating device rates the case its window has just handled, no other$",
     lambda m: _("评价器只能评价本窗口刚刚办理的办件")),
    (r"^a window's rating device sees the case just handled at its window, nothing else$",
     lambda m: _("评价器只显示本窗口刚刚办理的办件")),
    (r"^only a window's rating device shows the case just handled$", lambda m: _("此页面仅供窗口评价器使用")),
    (r"^ratings are read by 管理办, the director and the supervisor$",
     lambda m: _("好差评汇总仅对管理办、常务副主任和驻厅监察开放")),
    (r"^dimensions\.(?P<key>\w+) must be 1 to 5$", lambda m: _("分项评价须为非常满意至非常不满意")),
    (r"^dimensions: no dimension .*$", lambda m: _("没有这个分项评价")),
    (r"^stage must be one of .*$", lambda m: _("评价环节须为受理、办结或整改后")),
    (r"^no notification (?P<id>\d+)$", lambda m: _("通知 %(id)s 不存在", id=m["id"])),
    # engine/repository.py (deploying from the modeler)
    (r"^no version (?P<version>\d+) of process '(?P<process>.*)'$",
     lambda m: _("流程 %(process)s 没有版本 %(version)s", process=m["process"], version=m["version"])),
    (r"^deploying needs the process_owner role$", lambda m: _("只有流程管理员可以部署流程")),
    (r"^(?P<n>\d+) problem\(s\) in the diagram$", lambda m: _("流程图中有 %(n)s 处问题", n=m["n"])),
    (r"^the diagram cannot be parsed: (?P<detail>.*)$", lambda m: _("无法解析流程图：%(detail)s", detail=m["detail"])),
]]


# --- what deploying says of a diagram (engine/bpmn.py, engine/scripting.py) ------------

def _inner(m: re.Match, key: str = "detail") -> str:
    return lint_message(m[key])


def _problems(m: re.Match, key: str = "problems") -> str:
    return "；".join(lint_message(p) for p in m[key].split("; ")) if not english() else m[key]


_LINT: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [(re.compile(p, re.S), rule) for p, rule in [
    (r"^(?P<kind>serviceTask|sendTask) \((?P<impl>.*)\): the hall runs no service or send tasks; a step a person "
     r"does is a userTask, one the hall computes a scriptTask$",
     lambda m: _("%(kind)s（%(impl)s）：本中心不执行服务任务和发送任务；由人办理的环节请用用户任务（userTask），"
                 "由系统计算的环节请用脚本任务（scriptTask）", kind=m["kind"], impl=m["impl"])),
    # the restricted expression language
    (r"^line (?P<line>\d+): (?P<detail>.*)$",
     lambda m: _("第 %(line)s 行：%(detail)s", line=m["line"], detail=_inner(m))),
    (r"^import is not allowed$", lambda m: _("不允许 import")),
    (r"^name '(?P<x>.*)' is not allowed \(double underscore\)$",
     lambda m: _("不允许使用名称“%(x)s”（双下划线）", x=m["x"])),
    (r"^attribute '(?P<x>.*)' is not allowed \(underscore\)$",
     lambda m: _("不允许访问属性“%(x)s”（下划线开头）", x=m["x"])),
    (r"^attribute '(?P<x>.*)' is not allowed$", lambda m: _("不允许访问属性“%(x)s”", x=m["x"])),
    (r"^function name '(?P<x>.*)' is not allowed \(underscore\)$",
     lambda m: _("函数名“%(x)s”不能以下划线开头", x=m["x"])),
    (r"^argument '(?P<x>.*)' is not allowed$", lambda m: _("不允许使用参数“%(x)s”", x=m["x"])),
    (r"^'(?P<x>.*)' is not allowed$", lambda m: _("不允许使用“%(x)s”", x=m["x"])),
    (r"^class definitions are not allowed$", lambda m: _("不允许定义类")),
    (r"^global/nonlocal are not allowed$", lambda m: _("不允许使用 global / nonlocal")),
    (r"^decorators are not allowed$", lambda m: _("不允许使用装饰器")),
    (r"^format width too large$", lambda m: _("格式宽度过大")),
    (r"^a bare 'except:' is not allowed; name the exception$", lambda m: _("不允许空的 except:，请写明异常类型")),
    (r"^(?P<x>\w+) is not allowed$", lambda m: _("不允许使用 %(x)s", x=m["x"])),
    (r"^empty expression$", lambda m: _("表达式为空")),
    (r"^longer than (?P<n>\d+) characters$", lambda m: _("超过 %(n)s 个字符", n=m["n"])),
    (r"^syntax error at line (?P<line>\w+): (?P<msg>.*)$",
     lambda m: _("第 %(line)s 行语法错误（%(msg)s）", line=m["line"], msg=m["msg"])),
    # where the expression is
    (r"^expression '(?P<x>.*)': (?P<detail>.*)$", lambda m: _("表达式“%(x)s”：%(detail)s", x=m["x"], detail=_inner(m))),
    (r"^script: (?P<detail>.*)$", lambda m: _("脚本：%(detail)s", detail=_inner(m))),
    (r"^dueDate: (?P<detail>.*)$", lambda m: _("办理时限（dueDate）：%(detail)s", detail=_inner(m))),
    (r"^collection '(?P<x>.*)': (?P<detail>.*)$", lambda m: _("集合“%(x)s”：%(detail)s", x=m["x"], detail=_inner(m))),
    (r"^message expression: (?P<detail>.*)$", lambda m: _("消息表达式：%(detail)s", detail=_inner(m))),
    (r"^caseTitle: (?P<detail>.*)$", lambda m: _("办件标题（caseTitle）：%(detail)s", detail=_inner(m))),
    (r"^caseTimeLimit: (?P<detail>.*)$", lambda m: _("办件时限（caseTimeLimit）：%(detail)s", detail=_inner(m))),
    (r"^input expression '(?P<x>.*)': (?P<detail>.*)$",
     lambda m: _("输入表达式“%(x)s”：%(detail)s", x=m["x"], detail=_inner(m))),
    (r"^rule entry '(?P<x>.*)': (?P<detail>.*)$",
     lambda m: _("规则条目“%(x)s”：%(detail)s", x=m["x"], detail=_inner(m))),
    (r"^output entry '(?P<x>.*)': (?P<detail>.*)$",
     lambda m: _("输出条目“%(x)s”：%(detail)s", x=m["x"], detail=_inner(m))),
    # the elements
    (r"^script format '(?P<x>.*)' is not supported; write the script in Python$",
     lambda m: _("不支持脚本格式“%(x)s”，请用 Python 编写脚本", x=m["x"])),
    (r"^script task has no script$", lambda m: _("脚本任务没有脚本")),
    (r"^timer is neither ISO 8601 nor a valid expression: (?P<problems>.*)$",
     lambda m: _("定时器既不是 ISO 8601 时间，也不是有效的表达式：%(problems)s", problems=_problems(m))),
    (r"^'(?P<x>.*)' is not a valid ISO 8601 duration, date or cycle(?P<hint> \(.*\))?$",
     lambda m: _("“%(x)s”不是有效的 ISO 8601 时长、时间或周期", x=m["x"])
     + (_("（以天计写作 P1D，以小时计写作 PT1H：T 写在小时之前）") if m["hint"] else "")),
    (r"^formKey '(?P<x>.*)' has no registered form$", lambda m: _("表单键“%(x)s”没有对应的已登记表单", x=m["x"])),
    (r"^messageForm '(?P<x>.*)' has no registered form$", lambda m: _("消息表单“%(x)s”没有对应的已登记表单", x=m["x"])),
    (r"^messageForm '(?P<x>.*)': message '(?P<name>.*)' is checked with '(?P<other>.*)' elsewhere$",
     lambda m: _("消息表单“%(x)s”：消息“%(name)s”在别处用“%(other)s”校验", x=m["x"], name=m["name"], other=m["other"])),
    (r"^caseData '(?P<x>.*)' has no registered form$",
     lambda m: _("办件数据表单“%(x)s”没有对应的已登记表单", x=m["x"])),
    (r"^a form field has no id$", lambda m: _("有表单字段没有 id")),
    (r"^form field '(?P<x>.*)' has unsupported type '(?P<t>.*)' \(use (?P<use>.*)\)$",
     lambda m: _("表单字段“%(x)s”的类型“%(t)s”不受支持（可用：%(use)s）", x=m["x"], t=m["t"], use=m["use"])),
    (r"^form field '(?P<x>.*)': unsupported constraint '(?P<c>.*)'$",
     lambda m: _("表单字段“%(x)s”：不支持约束“%(c)s”", x=m["x"], c=m["c"])),
    (r"^form field '(?P<x>.*)': (?P<c>\w+) needs a number, got '(?P<v>.*)'$",
     lambda m: _("表单字段“%(x)s”：%(c)s 须为数字，而不是“%(v)s”", x=m["x"], c=m["c"], v=m["v"])),
    (r"^caseTimeLimitFrom: no element '(?P<x>.*)' in the process to start the case's limit$",
     lambda m: _("时限起算环节（caseTimeLimitFrom）：流程中没有环节“%(x)s”", x=m["x"])),
    (r"^no BPMN process found in the uploaded files$", lambda m: _("上传的文件中没有 BPMN 流程")),
    (r"^call activity calls unknown process '(?P<x>.*)'$", lambda m: _("调用活动调用了不存在的流程“%(x)s”", x=m["x"])),
    (r"^process '(?P<x>.*)' is not executable \(isExecutable=\"false\"\)$",
     lambda m: _("流程“%(x)s”未设为可执行（isExecutable=\"false\"）", x=m["x"])),
    (r"^unknown process id '(?P<x>.*)'; the files define: (?P<ids>.*)$",
     lambda m: _("没有流程“%(x)s”；文件中的流程：%(ids)s", x=m["x"], ids=m["ids"])),
    (r"^cannot tell which process to deploy \(executable processes not called by another: (?P<ids>.*)\); "
     r"name it with process_id$", lambda m: _("无法确定部署哪个流程（%(ids)s），请指定 process_id", ids=m["ids"])),
]]


def lint_message(text: str) -> str:
    """A problem deploying found in a diagram, in the person's language (the element's id
    is shown beside it, and names in the message stay as written)."""
    if english():
        return text
    for pattern, rule in _LINT:
        m = pattern.match(text)
        if m:
            return rule(m)
    return _("流程图有误：%(detail)s", detail=text)


def _engine_text(text: str) -> str | None:
    for pattern, rule in _ENGINE:
        m = pattern.match(text)
        if m:
            return rule(m)
    return None


def engine_message(e: HallError) -> str:
    """An engine error's message in the person's language. An element's failure ("审核: ...")
    keeps the element's name; a failure the hall has no words for is shown as the engine
    wrote it, after a sentence that says what happened."""
    text = e.message
    known = localize(text)
    if known != text:
        return known
    if isinstance(e, EngineFailure):
        element, sep, rest = text.partition(": ")
        said = _engine_text(rest) if sep else None
        if said is not None:
            return _("“%(element)s”：%(message)s", element=element, message=said)
        return _("流程无法继续，本次操作未生效：%(detail)s", detail=text)
    return text


def localized(e: HallError) -> HallError:
    """A copy of `e` whose message is in the person's language (for the error page)."""
    shown = copy.copy(e)
    shown.message = engine_message(e)
    return shown

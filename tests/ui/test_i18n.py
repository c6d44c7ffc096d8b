"""Languages: the pages speak Chinese unless a person chooses English, and then every page
speaks English, validation messages next to fields included; the English catalog has every
message of the templates and of webapp/**.py."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import lxml.html
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import session
from marshmallow import ValidationError, fields, validate

from engine import assessment_scheme
from webapp import db
from webapp.ui import messages

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# Chinese ideographs and Chinese punctuation (、，。：“”（）…)
HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")

# A process whose own words (names, lanes, labels, choices) are all English: on an English
# page, any Chinese left is the page's own text that did not get translated.
DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_i18n" targetNamespace="http://hall.local/test">
  <bpmn:process id="i18n_check" name="Licence check" isExecutable="true" camunda:candidateStarterGroups="window">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="casePrefix" value="LC"/>
        <camunda:property name="caseTitle" value="company"/>
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="company" label="Company" type="string">
            <camunda:validation><camunda:constraint name="required"/>
              <camunda:constraint name="maxlength" config="10"/></camunda:validation>
          </camunda:formField>
          <camunda:formField id="capital" label="Capital" type="long">
            <camunda:validation><camunda:constraint name="min" config="1"/></camunda:validation>
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="window">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="decision" label="Decision" type="enum">
            <camunda:value id="accept" name="Accept"/>
            <camunda:value id="reject" name="Reject"/>
            <camunda:validation><camunda:constraint name="required"/></camunda:validation>
          </camunda:formField>
          <camunda:formField id="pages" label="Pages" type="long">
            <camunda:validation><camunda:constraint name="required"/><camunda:constraint name="min" config="1"/>
              <camunda:constraint name="max" config="500"/></camunda:validation>
          </camunda:formField>
          <camunda:formField id="received_on" label="Received on" type="date">
            <camunda:validation><camunda:constraint name="min" config="2026-01-01"/></camunda:validation>
          </camunda:formField>
          <camunda:formField id="original_seen" label="Original seen" type="boolean"/>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="sign"/>
    <bpmn:userTask id="sign" name="Sign" camunda:candidateGroups="window"/>
    <bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="done"/>
    <bpmn:endEvent id="done" name="Done"/>
  </bpmn:process>
</bpmn:definitions>
"""

REVIEW_OK = {"decision": "accept", "pages": 12, "original_seen": True}


# --- a person at a browser --------------------------------------------------------------

class Browser:
    """A test client with its own session and its own language."""

    def __init__(self, app, accept_language: str | None = None):
        self.app = app
        self.client = app.test_client()
        self.headers = {"Accept-Language": accept_language} if accept_language else {}

    def open(self, method: str, url: str, **kw):
        return self.client.open(url, method=method, headers=self.headers, **kw)

    def get(self, url: str, **kw):
        return self.open("GET", url, **kw)

    def post(self, url: str, data=None, **kw):
        return self.open("POST", url, data=data or {}, **kw)

    def sign_in(self, username: str, password: str = "pw") -> Browser:
        r = self.post("/login", {"username": username, "password": password})
        assert r.status_code == 302, r.text
        return self

    def english(self) -> Browser:
        r = self.get("/lang/en")
        assert r.status_code == 302
        return self


def page_text(html: str) -> str:
    """What a person reads on a page: its text, the words in its attributes (placeholders,
    titles, labels) and the texts a page hands its scripts as JSON; not the names of the
    other languages in the language switch, which are meant to be in their own language."""
    root = lxml.html.fromstring(html)
    for link in root.xpath('//a[starts-with(@href, "/lang/")]'):
        link.drop_tree()
    words = [root.text_content()]
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        words.extend(v for k, v in el.attrib.items() if k in ("title", "placeholder", "aria-label", "alt", "value"))
        if el.tag == "script" and el.get("type") == "application/json" and el.text:
            words.append(json.dumps(json.loads(el.text), ensure_ascii=False))
    return " ".join(words)


def chinese_in(html: str) -> list[str]:
    text = page_text(html)
    return sorted({text[max(0, m.start() - 12):m.end() + 12].strip() for m in HAN.finditer(text)})


def field_errors(html: str, name: str) -> list[str]:
    """The messages shown next to the input `name`."""
    root = lxml.html.fromstring(html)
    box = root.xpath(f'//*[@name="{name}"]/ancestor::*[contains(concat(" ", @class, " "), " field ")][1]')
    assert box, f"no field {name}"
    return [" ".join(p.text_content().split()) for p in box[0].xpath('.//*[contains(@class, "field-error")]')]


@pytest.fixture
def hall_i18n(app, h, tmp_path):
    """A clerk of the window who holds every role, a case at its review, one further on."""
    app.config["WTF_CSRF_ENABLED"] = False
    path = tmp_path / "i18n_check.bpmn"
    path.write_text(DIAGRAM)
    # every role, so that she may open every page there is
    clerk = h.user("ann", groups=["window"], roles=("staff", "process_owner", "coordinator", "supervisor", "admin"))
    h.user("bob", groups=["elsewhere"])
    h.deploy(path, owner=clerk)
    first = h.hall.runtime.start(clerk, "i18n_check", {"company": "Acme", "capital": 5})
    h.complete(clerk, first.id, "review", REVIEW_OK)
    second = h.hall.runtime.start(clerk, "i18n_check", {"company": "Bolt"})
    h.hall.catalogue.save(clerk, {  # its words are data (in English here), its labels the page's
        "code": "I18N-1", "name": "Registration", "category": "domestic", "departments": ["Commerce"],
        "kind": "promised", "legal_days": 5, "promised_days": 2, "materials": [{"name": "Application"}],
        "fees": [{"name": "Fee", "amount": "1"}], "process_id": "i18n_check", "online": True})
    scheme = copy.deepcopy(assessment_scheme.DEFAULT)  # the 百分考核's words are data too
    for n, category in enumerate(scheme["categories"]):
        category["name"] = f"Category {n + 1}"
        for item in category["items"]:
            item["name"] = f"Item {item['code']}"
    h.hall.assessment.save_scheme(clerk, scheme)
    db.session.commit()
    return {
        "first": first, "second": second,
        "review": h.open_tasks(second.id, "review")[0], "sign": h.open_tasks(first.id, "sign")[0],
        "reviewed": h.hall.tasks.case_tasks(first.id, status="completed")[0],
    }


# --- Chinese by default ------------------------------------------------------------------

def test_pages_are_chinese_by_default_even_when_the_browser_asks_for_english(app, hall_i18n):
    web = Browser(app, accept_language="en-US,en;q=0.9")
    login = web.get("/login")
    assert '<html lang="zh-CN">' in login.text
    assert "用户名" in login.text and "User name" not in login.text
    web.sign_in("ann")
    inbox = web.get("/inbox")
    root = lxml.html.fromstring(inbox.text)
    assert root.xpath("//h1")[0].text_content().startswith("我的待办")
    assert "My tasks" not in inbox.text
    # the switch offers English, and English sticks to the person's session
    assert root.xpath('//a[@href="/lang/en"]')[0].text_content() == "English"
    web.english()
    assert lxml.html.fromstring(web.get("/inbox").text).xpath("//h1")[0].text_content().startswith("My tasks")
    web.get("/lang/zh_CN")
    assert lxml.html.fromstring(web.get("/inbox").text).xpath("//h1")[0].text_content().startswith("我的待办")


def test_another_persons_choice_of_english_is_not_mine(app, hall_i18n):
    Browser(app).sign_in("ann").english()
    assert "我的待办" in Browser(app).sign_in("bob").get("/inbox").text


# --- English on every page ---------------------------------------------------------------

PAGE_BLUEPRINTS = ("ui", "models", "auth", "portal", "guide", "complaints", "ratings", "admin", "assessment",
                   "statistics")


def _url_values(hall_i18n) -> dict:
    return {"case_id": hall_i18n["first"].id, "task_id": hall_i18n["sign"].id, "process_id": "i18n_check",
            "version": 1, "code": "I18N-1", "file_id": 1, "draft_id": 1, "notice_id": 1, "username": "bob",
            "complaint_id": 1, "round_id": 1, "visit_id": 1, "quarter": "2026Q3", "entry_id": 1, "year": 2026,
            "move_id": 1}


def test_english_on_every_page(app, hall_i18n):
    """Every page a signed-in person can open (every GET route of the page blueprints) has no
    Chinese left once English is chosen."""
    web = Browser(app).sign_in("ann").english()
    values = _url_values(hall_i18n)
    seen = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.split(".")[0] not in PAGE_BLUEPRINTS:
            continue
        missing = rule.arguments - values.keys()
        assert not missing, f"{rule}: tell this test which {missing} to open"
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
        r = web.get(url)
        if r.mimetype != "text/html" or r.status_code == 302:
            continue
        assert '<html lang="en">' in r.text, url
        assert chinese_in(r.text) == [], url
        if r.status_code == 200:
            seen.append(rule.endpoint)
    assert {"ui.inbox", "ui.done", "ui.task", "ui.start_list", "ui.start", "ui.cases", "ui.case", "models.index",
            "models.view", "auth.login"} <= set(seen)
    # the same pages in their other states: a task with its form, a task done, filters, errors
    for url in (f"/tasks/{hall_i18n['review'].id}", f"/tasks/{hall_i18n['reviewed'].id}",
                f"/cases/{hall_i18n['second'].id}", "/inbox?scope=mine&sort=oldest&page=2", "/cases?status=completed",
                "/models/i18n_check/moves?dry=1",
                "/no-such-page"):
        r = web.get(url)
        assert r.mimetype == "text/html" and chinese_in(r.text) == [], url


def test_english_pages_say_what_a_person_expects(app, hall_i18n):
    web = Browser(app).sign_in("ann").english()
    inbox = lxml.html.fromstring(web.get("/inbox").text)
    assert [" ".join(th.text_content().split()) for th in inbox.xpath("//table//th")][:3] == \
        ["Case number", "Process", "Step"]
    assert inbox.xpath('//button[@type="submit"]')[-1].text_content().strip() == "Claim"
    r = web.post(f"/tasks/{hall_i18n['review'].id}/claim", {"back": "/inbox"})
    assert "Claimed" in web.get(r.headers["Location"]).text
    r = web.post(f"/tasks/{hall_i18n['review'].id}", {"decision": "accept", "pages": "3"})
    assert r.status_code == 302
    assert f"Completed: Review ({hall_i18n['second'].number})" in web.get("/inbox").text
    case = web.get(f"/cases/{hall_i18n['first'].id}").text
    assert "History" in case and "Current steps" in case and "In progress" in case


def test_engine_errors_are_in_the_persons_language(app, h, hall_i18n):
    task = hall_i18n["review"]
    # another group's task: the error page says why, in Chinese, then in English
    bob = Browser(app).sign_in("bob")
    r = bob.get(f"/tasks/{task.id}")
    assert r.status_code == 403
    assert "您无权查看该环节" in r.text and "not open to you" not in r.text
    r = bob.english().get(f"/tasks/{task.id}")
    assert r.status_code == 403 and "This task is not open to you." in r.text and "Access denied" in r.text
    assert chinese_in(r.text) == []
    # claimed meanwhile by someone else: the flash says by whom
    h.hall.tasks.claim(h.user("cat", groups=["window"]), task.id)
    db.session.commit()
    ann = Browser(app).sign_in("ann")
    r = ann.post(f"/tasks/{task.id}/claim", {"back": "/inbox"})
    assert f"环节 {task.id} 已由 cat 签收" in ann.get(r.headers["Location"]).text
    r = ann.english().post(f"/tasks/{task.id}/claim", {"back": "/inbox"})
    assert f"Task {task.id} has been claimed by cat." in ann.get(r.headers["Location"]).text
    # completed meanwhile: the task page says so and keeps what was typed
    h.hall.tasks.complete(h.actor("cat"), task.id, REVIEW_OK)
    db.session.commit()
    r = ann.post(f"/tasks/{task.id}", {"decision": "reject", "pages": "7"})
    assert r.status_code == 409
    assert f"Task {task.id} has already been completed." in r.text


# --- validation messages next to the fields ------------------------------------------------

BAD_REVIEW = {"pages": "many", "received_on": "2025-12-31", "original_seen.present": "1"}


def test_validation_errors_next_to_fields_are_chinese_by_default(app, hall_i18n):
    web = Browser(app).sign_in("ann")
    r = web.post(f"/tasks/{hall_i18n['review'].id}", BAD_REVIEW)
    assert r.status_code == 422
    assert field_errors(r.text, "decision") == ["此项为必填项"]
    assert field_errors(r.text, "pages") == ["请填写整数"]
    assert field_errors(r.text, "received_on") == ["不能早于 2026-01-01"]
    assert lxml.html.fromstring(r.text).xpath('//input[@name="pages"]/@value') == ["many"]
    r = web.post(f"/tasks/{hall_i18n['review'].id}", {"decision": "maybe", "pages": "501"})
    assert field_errors(r.text, "decision") == ["请从以下选项中选择：Accept、Reject"]
    assert field_errors(r.text, "pages") == ["须在 1 到 500 之间"]


def test_validation_errors_next_to_fields_are_english_in_english(app, hall_i18n):
    web = Browser(app).sign_in("ann").english()
    r = web.post(f"/tasks/{hall_i18n['review'].id}", BAD_REVIEW)
    assert r.status_code == 422
    assert field_errors(r.text, "decision") == ["This field is required."]
    assert field_errors(r.text, "pages") == ["Enter a whole number."]
    assert field_errors(r.text, "received_on") == ["Must be on or after 2026-01-01."]
    assert chinese_in(r.text) == []
    r = web.post(f"/tasks/{hall_i18n['review'].id}", {"decision": "maybe", "pages": "501"})
    assert field_errors(r.text, "decision") == ["Choose one of: Accept, Reject."]
    assert field_errors(r.text, "pages") == ["Must be between 1 and 500."]


def test_start_form_errors_in_both_languages(app, hall_i18n):
    web = Browser(app).sign_in("ann")
    form = {"company": "A company name far too long", "capital": "0"}
    r = web.post("/start/i18n_check", form)
    assert r.status_code == 422
    assert field_errors(r.text, "company") == ["最多 10 个字"]
    assert field_errors(r.text, "capital") == ["不能小于 1"]
    r = web.english().post("/start/i18n_check", form)
    assert field_errors(r.text, "company") == ["Enter at most 10 characters."]
    assert field_errors(r.text, "capital") == ["Must be at least 1."]
    assert chinese_in(r.text) == []


# --- every message marshmallow and the engine can give --------------------------------------

def _in(app, lang: str, message: str, field: dict | None = None) -> str:
    with app.app_context(), app.test_request_context():  # a context of its own: Flask-Babel keeps the locale there
        session["lang"] = lang
        return messages.localize(message, field)


def _raised(validator, value) -> str:
    with pytest.raises(ValidationError) as e:
        validator(value)
    return e.value.messages[0]


def _field_messages() -> list[str]:
    """Every standard message of marshmallow's fields and schemas (those of loading data)."""
    from marshmallow import Schema

    out = set(Schema._default_error_messages.values())
    for name in fields.__all__:
        cls = getattr(fields, name)
        for key, text in getattr(cls, "default_error_messages", {}).items():
            if key == "format":  # only ever raised when writing data out, never on a form
                continue
            out.add(text.format(obj_type=getattr(cls, "OBJ_TYPE", "datetime"), choices="a, b",
                                awareness=getattr(cls, "AWARENESS", "naive")))
    return sorted(out)


VALIDATORS = [
    (validate.Range(min=1, max=5), 9), (validate.Range(min=1), 0), (validate.Range(max=5), 9),
    (validate.Range(min=0, min_inclusive=False), 0), (validate.Range(max=5, max_inclusive=False), 5),
    (validate.Range(min=0, max=5, min_inclusive=False), 0), (validate.Range(min=0, max=5, max_inclusive=False), 5),
    (validate.Range(min=0, max=5, min_inclusive=False, max_inclusive=False), 5),
    (validate.Length(min=2), "a"), (validate.Length(max=2), "abc"), (validate.Length(min=1, max=2), "abc"),
    (validate.Length(equal=2), "a"), (validate.OneOf(["a", "b"]), "c"), (validate.ContainsOnly(["a"]), ["z"]),
    (validate.ContainsNoneOf(["a"]), ["a"]), (validate.NoneOf(["a"]), "a"), (validate.Equal(1), 2),
    (validate.Regexp(r"^\d+$"), "x"), (validate.Predicate("isdigit"), "x"), (validate.URL(), "x"),
    (validate.Email(), "x"),
]


@pytest.mark.parametrize("message", _field_messages())
def test_every_marshmallow_field_message_is_translated(app, message):
    zh, en = _in(app, "zh_CN", message), _in(app, "en", message)
    assert HAN.search(zh), f"{message!r} has no Chinese: {zh!r}"
    assert en and not HAN.search(en), en


@pytest.mark.parametrize(("validator", "value"), VALIDATORS, ids=lambda v: type(v).__name__)
def test_every_marshmallow_validator_message_is_translated(app, validator, value):
    message = _raised(validator, value)
    zh, en = _in(app, "zh_CN", message), _in(app, "en", message)
    assert HAN.search(zh), f"{message!r} has no Chinese: {zh!r}"
    assert en and not HAN.search(en), en


def test_parameterised_messages_keep_their_numbers(app):
    text = {"name": "x", "type": "string"}
    items = {"name": "x", "type": "list", "item": {"type": "string"}}
    checks = {"name": "x", "type": "list", "item": {"type": "enum", "choices": [{"value": "a", "label": "A"}]}}
    rows = {"name": "x", "type": "list", "item": {"type": "object", "fields": []}}
    cases = [
        (_raised(validate.Length(min=3, max=20), "ab"), text, "须为 3 到 20 个字", "Enter 3 to 20 characters."),
        (_raised(validate.Length(min=1), ""), text, "不能为空", "Must not be empty."),
        (_raised(validate.Length(min=1), []), items, "至少填写一项", "Enter at least one."),
        (_raised(validate.Length(max=3), [1, 2, 3, 4]), items, "最多填写 3 项", "Enter at most 3."),
        (_raised(validate.Length(min=1), []), checks, "至少选择一项", "Choose at least one."),
        (_raised(validate.Length(min=2), [{}]), rows, "至少添加 2 行", "Add at least 2 rows."),
        (_raised(validate.Range(min=0, min_inclusive=False), 0), None, "须大于 0", "Must be greater than 0."),
        (_raised(validate.Range(min=1.5, max=9), 10), None, "须在 1.5 到 9 之间", "Must be between 1.5 and 9."),
        (_raised(validate.OneOf(["neizi", "waizi"]), "x"), {"name": "x", "type": "enum", "choices": [
            {"value": "neizi", "label": "内资"}, {"value": "waizi", "label": "外资"}]},
         "请从以下选项中选择：内资、外资", "Choose one of: 内资, 外资."),
        (_raised(validate.OneOf(["a", "b"]), "x"), None, "请从以下选项中选择：a, b", "Choose one of: a, b."),
    ]
    for message, field, zh, en in cases:
        assert _in(app, "zh_CN", message, field) == zh
        assert _in(app, "en", message, field) == en


def test_a_forms_own_message_in_both_languages_shows_the_persons_half(app):
    message = "须为手机号或带区号的固定电话 / must be a mobile or landline number"
    assert _in(app, "zh_CN", message) == "须为手机号或带区号的固定电话"
    assert _in(app, "en", message) == "must be a mobile or landline number"
    assert _in(app, "en", "投资额须大于0") == "投资额须大于0"  # the form's own words, Chinese only


ENGINE_MESSAGES = [
    # engine/tasks.py
    ("no task 7", "环节 7 不存在", "There is no task 7."),
    ("this task is not open to you", "您无权查看该环节", "This task is not open to you."),
    ("this task is not open to your groups", "该环节不属于您所在的岗位组", "This task is not open to your groups."),
    ("this task is not yours", "该环节已由他人签收，不由您办理",
     "Someone else holds this task; it is not yours to work on."),
    ("task 7 is completed", "环节 7 已办理完毕", "Task 7 has already been completed."),
    ("task 7 is already cancelled", "环节 7 已撤销", "Task 7 has been cancelled."),
    ("task 7 is held by wang", "环节 7 已由 wang 签收", "Task 7 has been claimed by wang."),
    ("task 7 is held by someone else", "环节 7 已由他人签收", "Task 7 has been claimed by someone else."),
    ("task 7 is no longer open", "环节 7 已不再待办", "Task 7 is no longer open."),
    ("task 7 was completed or claimed by someone else meanwhile", "环节 7 刚刚已被他人办理或签收",
     "Task 7 was completed or claimed by someone else in the meantime."),
    ("assigning tasks needs the coordinator role", "只有协调员可以指派环节", "Only coordinators may assign tasks."),
    ("no active user 'li'", "没有名为 li 的在用账号", "There is no active user li."),
    # engine/runtime.py
    ("no process 'x'", "事项 x 不存在", "There is no process x."),
    ("you may not start '并联审批'", "您不能发起“并联审批”", "You may not start “并联审批”."),
    ("no case 3", "办件 3 不存在", "There is no case 3."),
    ("this is not your case", "这不是您的办件", "This is not your case."),
    ("case BL-20261129-00001 is completed", "办件 BL-20261129-00001 已办结", "Case BL-20261129-00001 is completed."),
    ("case BL-1 is terminated", "办件 BL-1 已终止", "Case BL-1 has been terminated."),
    ("the case is changing too fast; try again", "该办件正被他人同时办理，请稍后再试",
     "Others are working on this case at the same moment; please try again."),
    ("invalid data: pages", "填写的内容有误：pages", "Some entries are not valid: pages"),
    ("no version 4 of process 'x'", "流程 x 没有版本 4", "Process x has no version 4."),
    # engine/deadlines.py
    ("a reason is required to extend a deadline", "延期须写明理由", "Give a reason for the extension."),
    ("no group '工商'", "没有名为 工商 的岗位组", "There is no group 工商."),
]


@pytest.mark.parametrize(("message", "zh", "en"), ENGINE_MESSAGES, ids=[m[0] for m in ENGINE_MESSAGES])
def test_engine_messages_in_both_languages(app, message, zh, en):
    assert _in(app, "zh_CN", message) == zh
    assert _in(app, "en", message) == en


def test_an_engine_failure_names_its_element_and_says_nothing_was_changed(app):
    from engine.errors import EngineFailure

    def say(lang, e):
        with app.app_context(), app.test_request_context():
            session["lang"] = lang
            return messages.engine_message(e)

    known = EngineFailure("审查: cannot evaluate 'days + 1': name 'days' is not defined", "review")
    assert say("zh_CN", known) == "“审查”：无法计算“days + 1”：name 'days' is not defined"
    assert say("en", known) == "“审查”: Cannot evaluate “days + 1”: name 'days' is not defined"
    unknown = EngineFailure("审查: division by zero", "review")
    assert say("zh_CN", unknown) == "流程无法继续，本次操作未生效：审查: division by zero"
    assert say("en", unknown) == "The process cannot go on, so nothing was changed: 审查: division by zero"


# --- the English catalog ------------------------------------------------------------------

def _extracted() -> dict[tuple, list[str]]:
    """{(msgid, context): [where]} of every message in the files babel.cfg names."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[tuple, list[str]] = {}
    skip = ("node_modules", ".venv", "instance", ".git", "tests")
    for filename, lineno, msgid, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, directory_filter=lambda d: not d.endswith(skip)):
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def _translated(catalog, msgid, context) -> bool:
    message = catalog.get(msgid if isinstance(msgid, str) else msgid[0], context=context)
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


def test_the_english_catalog_has_every_message_of_the_templates_and_the_code():
    extracted = _extracted()
    ids = {msgid for msgid, _context in extracted}
    assert len(extracted) > 100 and "我的待办" in ids and "此项为必填项" in ids  # the extraction works
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    untranslated = {key: where for key, where in extracted.items() if not _translated(catalog, *key)}
    assert not untranslated, (
        "messages without English (add them to webapp/translations/en/LC_MESSAGES/messages.po; see babel.cfg):\n"
        + "\n".join(f"  {msgid!r}{f' (context {context!r})' if context else ''}  ({', '.join(where)})"
                    for (msgid, context), where in untranslated.items()))
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert not problems, problems  # placeholders such as %(n)s kept
    chinese = [m.id for m in catalog if m.id and any(HAN.search(s) for s in
                                                     (m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert not chinese, f"English that is still Chinese: {chinese}"

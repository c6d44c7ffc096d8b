"""Reading BPMN/DMN files into SpiffWorkflow specs, in the Camunda 7 dialect.

`build()` turns a set of files into the specs a case runs with; it is used at deploy time
and again whenever a version's specs are loaded into memory, so both see the same thing.
`lint()` lists every problem a process owner must fix, each with the element it is on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator, full_tag
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway, ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.parser.CamundaParser import NSMAP, CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.camunda.specs.user_task import EnumFormField, Form, FormField
from SpiffWorkflow.camunda.specs.user_task import UserTask as CamundaUserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import scripting

CAMUNDA = NSMAP["camunda"]
DMN_NS = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "https://www.omg.org/spec/DMN/20191111/MODEL/",
          "http://www.omg.org/spec/DMN/20180521/MODEL/")
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 20
FORM_FIELD_TYPES = ("string", "long", "boolean", "date", "enum")
# What looks like an ISO 8601 timer literal (durations, dates, cycles); whether it is a
# valid one is SpiffWorkflow's parser's call (`_check_timer`).
_ISO = re.compile(r"^(R\d*/)?(P[\dYMWDTHS.,]+|\d{4}-?\d{2}-?\d{2}[\dT:.+\-Z ]*|\d{4}-?W\d{2}.*)(/.*)?$")
# an external task's topic (camunda:topic): what workers fetch it by
TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def camunda(attr: str) -> str:
    return f"{{{CAMUNDA}}}{attr}"


class BadFile(Exception):
    """A file that is not acceptable XML (not XML, DOCTYPE/entities, too large)."""


def read_xml(content: bytes | str, filename: str) -> etree._Element:
    """Parse an uploaded file without ever resolving entities or fetching anything."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_FILE_BYTES:
        raise BadFile(f"{filename}: larger than {MAX_FILE_BYTES // 1024} KiB")
    head = raw[:4096].upper()
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in head:
        raise BadFile(f"{filename}: DOCTYPE and entity declarations are not accepted")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as e:
        raise BadFile(f"{filename}: not well-formed XML ({e})") from None
    if root.getroottree().docinfo.doctype:
        raise BadFile(f"{filename}: DOCTYPE and entity declarations are not accepted")
    return root


def read_form(node: etree._Element) -> Form:
    """formKey and formData of a user task or start event (formData works without formKey)."""
    form = Form()
    form.key = node.get(camunda("formKey")) or ""
    for xml_field in node.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NSMAP):
        if xml_field.get("type") == "enum":
            f = EnumFormField()
            for child in xml_field.findall(camunda("value")):
                f.add_option(child.get("id"), child.get("name"))
        else:
            f = FormField()
        f.id = xml_field.get("id")
        f.type = xml_field.get("type")
        f.label = xml_field.get("label")
        f.default_value = xml_field.get("defaultValue")
        for child in xml_field:
            if child.tag == camunda("properties"):
                for p in child:
                    f.add_property(p.get("id"), p.get("value"))
            elif child.tag == camunda("validation"):
                for v in child:
                    f.add_validation(v.get("name"), v.get("config"))
        form.add_field(f)
    return form


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class HallUserTask(CamundaUserTask):
    """A user task with the Camunda attributes that decide who works it and when it is due."""

    def __init__(self, wf_spec, name, form, candidate_groups=None, assignee=None, due_date=None, **kwargs):
        super().__init__(wf_spec, name, form, **kwargs)
        self.candidate_groups = candidate_groups  # literal "a,b" or "${expr}"
        self.assignee = assignee
        self.due_date = due_date


class HallUserTaskParser(UserTaskParser):
    def create_task(self):
        return HallUserTask(
            self.spec, self.bpmn_id, form=read_form(self.node),
            candidate_groups=self.node.get(camunda("candidateGroups")),
            assignee=self.node.get(camunda("assignee")),
            due_date=self.node.get(camunda("dueDate")),
            **self.bpmn_attributes,
        )


class HallExternalTask(ServiceTask):
    """A serviceTask with camunda:type="external": work another system (工商, 税务, a bank)
    fetches by its topic, locks and completes over the API (engine.external). The task waits
    (STARTED) till then: nothing in the hall runs it."""

    def __init__(self, wf_spec, bpmn_id, topic=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _run_hook(self, my_task):
        return None  # started, and waiting for its worker


class HallExternalTaskParser(TaskParser):
    def create_task(self):
        return HallExternalTask(self.spec, self.bpmn_id, topic=self.node.get(camunda("topic")),
                                **self.bpmn_attributes)


class HallMessageEventDefinition(CamundaMessageEventDefinition):
    """A message's data lands in one process variable: the catching event's
    `camunda:resultVariable`, or else the variable named after the message. Never merged
    into the process's variables: a message may come from an applicant, who must not be
    able to set, say, a reviewer's decision."""

    def update_internal_data(self, my_task, event):
        my_task.internal_data[self.name] = event.payload

    def update_task_data(self, my_task):
        event_data = my_task.internal_data.get(self.name) or {}
        my_task.data[self.result_var or self.name] = event_data.get("payload")


class _HallParsing:
    """What every Hall element parser adds: camunda:properties on any element (events and
    gateways too: `clockStop`, `accountability`), and messages as HallMessageEventDefinition."""

    def parse_extensions(self, node=None):
        return {p.get("name"): p.get("value") for p in self.xpath(
            "./bpmn:extensionElements/camunda:properties/camunda:property")}

    def parse_message_event(self, message_event):
        d = super().parse_message_event(message_event)
        return HallMessageEventDefinition(d.name, d.correlation_properties, d.expression, d.result_var)


def _hall(parser_cls):
    return type("Hall" + parser_cls.__name__.replace("Camunda", ""), (_HallParsing, parser_cls), {})


class HallParallelGateway(ParallelGateway):
    """SpiffWorkflow's parallel gateway. To see whether its join may fire, SpiffWorkflow
    collects the gateway's instances with a walk over the whole task tree, at every update
    of a waiting join (a tenth of a completion); the instances are those in the workflow's
    task map, and what follows is the same, in whatever order they come. With subprocesses
    it leaves it to SpiffWorkflow, whose walk looks into them too."""

    def _check_threshold_unstructured(self, my_task):
        workflow = my_task.workflow
        if workflow.top_workflow.subprocesses:
            return super()._check_threshold_unstructured(my_task)
        tasks = workflow.tasks
        waiting_inputs = set(self.inputs)
        # my_task's ancestors, walked up once; ids as integers (a UUID's own hash is Python code)
        mine, above = my_task.id.int, set()
        up = my_task._parent
        while up is not None:
            above.add(up.int)
            up = getattr(tasks.get(up), "_parent", None)

        def below_mine(task):
            # task.is_descendant_of(my_task), stopping where task's line meets mine above it
            up = task._parent
            while up is not None:
                if up.int == mine:
                    return True
                if up.int in above:
                    return False
                up = getattr(tasks.get(up), "_parent", None)
            return False

        def remove_ancestor(task):
            # up the task's ancestors to the first that is one of the inputs
            while task is not None:
                if task.task_spec in waiting_inputs:
                    waiting_inputs.remove(task.task_spec)
                    return
                task = tasks.get(task._parent) if task._parent is not None else None

        for task in [t for t in tasks.values() if t.task_spec is self]:
            if below_mine(task):  # a loop's first pass: not reached before this join completes
                remove_ancestor(task)
            elif task.id.int in above:  # a later pass: earlier passes' inputs do not count
                continue
            elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return not waiting_inputs


class HallParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **{tag: (_hall(p), spec) for tag, (p, spec) in CamundaParser.PARSER_CLASSES.items()},
        **{tag: (_hall(p), spec) for tag, (p, spec) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()},
        full_tag("userTask"): (_hall(HallUserTaskParser), HallUserTask),
        full_tag("serviceTask"): (_hall(HallExternalTaskParser), HallExternalTask),
        full_tag("parallelGateway"): (_hall(CamundaParser.PARSER_CLASSES[full_tag("parallelGateway")][0]),
                                      HallParallelGateway),
    }


@dataclass
class Bundle:
    """Everything a version runs with, read from its files."""

    process_id: str
    name: str
    spec: object
    subprocess_specs: dict
    start_form: Form
    starter_groups: list[str]
    case_prefix: str
    title_expression: str | None
    time_limit_expression: str | None  # working days for the whole case (承诺时限)
    time_limit_from: str | None  # the element whose passing starts that count (受理); None: the start
    case_form: str | None  # the form that labels what the process writes into the case (`caseData`)
    main_file: str
    documents: dict = field(default_factory=dict)  # filename -> parsed root
    _human: dict | None = None
    _elements: frozenset | None = None
    _message_forms: dict | None = None
    _names: dict | None = None
    _notices: dict | None = None
    _external: dict | None = None

    @property
    def elements(self) -> frozenset:
        """Ids of the flow elements drawn in the diagrams (what a case can pass)."""
        if self._elements is None:
            self._elements = frozenset(
                e.get("id") for root in self.documents.values() if not is_dmn(root)
                for e in root.iter() if isinstance(e.tag, str) and e.get("id")
                and etree.QName(e).localname not in ("definitions", "process", "sequenceFlow", "lane", "laneSet"))
        return self._elements

    @property
    def element_names(self) -> dict[str, str]:
        """{BPMN id: the name drawn on the diagram} of every named element, called processes included."""
        if self._names is None:
            self._names = {ts.bpmn_id: ts.bpmn_name for spec in (self.spec, *self.subprocess_specs.values())
                           for ts in spec.task_specs.values()
                           if getattr(ts, "bpmn_id", None) and getattr(ts, "bpmn_name", None)}
        return self._names

    def message_form(self, name: str) -> str | None:
        """The form key (property `messageForm` of the events that catch it) a message's
        data is checked with; None: any JSON object."""
        if self._message_forms is None:
            self._message_forms = {
                d.name: ts.extensions["messageForm"]
                for spec in (self.spec, *self.subprocess_specs.values()) for ts in spec.task_specs.values()
                if (ts.extensions if isinstance(getattr(ts, "extensions", None), dict) else {}).get("messageForm")
                for d in event_definitions(ts) if isinstance(d, MessageEventDefinition)}
        return self._message_forms.get(name)

    @property
    def notices(self) -> dict[str, str]:
        """{BPMN id: the notice its passing issues} (the elements' `notice` property)."""
        if self._notices is None:
            self._notices = {
                ts.bpmn_id: ts.extensions["notice"]
                for spec in (self.spec, *self.subprocess_specs.values()) for ts in spec.task_specs.values()
                if (ts.extensions if isinstance(getattr(ts, "extensions", None), dict) else {}).get("notice")}
        return self._notices

    @property
    def external(self) -> dict[str, str]:
        """{BPMN id: topic} of its external tasks (serviceTask camunda:type="external")."""
        if self._external is None:
            self._external = {ts.bpmn_id: ts.topic for spec in (self.spec, *self.subprocess_specs.values())
                              for ts in spec.task_specs.values() if isinstance(ts, HallExternalTask)}
        return self._external

    def human_task(self, element_id: str):
        """The spec of the user (or manual) task with this BPMN id, in any of the processes."""
        if self._human is None:
            self._human = {ts.bpmn_id: ts for spec in (self.spec, *self.subprocess_specs.values())
                           for ts in spec.task_specs.values() if getattr(ts, "manual", False)}
        return self._human.get(element_id)


def event_definitions(task_spec) -> list:
    """The event definitions of an event's spec (those of a multiple event, each)."""
    d = getattr(task_spec, "event_definition", None)
    return list(d.event_definitions) if isinstance(d, MultipleEventDefinition) else [d]


def _process_property(node, name: str) -> str | None:
    for p in node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NSMAP):
        if p.get("name") == name:
            return p.get("value")
    return None


def _default_prefix(process_id: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", process_id) if w]
    prefix = "".join(w[0] for w in words).upper() if len(words) > 1 else process_id[:3].upper()
    return re.sub(r"[^A-Z0-9]", "", prefix)[:8] or "CASE"


def is_dmn(root: etree._Element) -> bool:
    return etree.QName(root).namespace in DMN_NS


def literal_timer(expression: str) -> str | None:
    """The ISO 8601 text of a timer written as a bare or quoted literal, else None."""
    text = scripting.unwrap(expression or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text if _ISO.match(text) else None


def _normalize_timers(specs) -> None:
    """Camunda Modeler writes `PT2H`; SpiffWorkflow evaluates timer text as Python, where
    that is a name. Quote bare ISO literals so both spellings mean the same."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            defs = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
            for d in defs:
                if isinstance(d, TimerEventDefinition):
                    lit = literal_timer(d.expression)
                    if lit is not None:
                        d.expression = repr(lit)


def _inclusive_flows_always_taken(root) -> None:
    """Camunda 7: a flow without a condition leaving an inclusive gateway (other than its
    default) is always taken; SpiffWorkflow wants a condition on it, so give it one."""
    for gw in root.xpath(".//bpmn:inclusiveGateway", namespaces=NSMAP):
        default = gw.get("default")
        for flow in root.xpath(f".//bpmn:sequenceFlow[@sourceRef='{gw.get('id')}']", namespaces=NSMAP):
            if flow.get("id") != default and flow.find(f"{{{NSMAP['bpmn']}}}conditionExpression") is None:
                cond = etree.SubElement(flow, f"{{{NSMAP['bpmn']}}}conditionExpression")
                cond.text = "True"


def build(files: dict[str, str], process_id: str | None = None, validate: bool = False) -> Bundle:
    """Parse `files` ({name: text}) and return the specs of the main process.

    Raises ValidationException (naming the element) or BadFile."""
    parser = HallParser(validator=BpmnValidator() if validate else None)
    documents = {}
    for name, text in files.items():
        root = read_xml(text, name)
        _inclusive_flows_always_taken(root)
        documents[name] = root
        if is_dmn(root):
            parser.add_dmn_xml(root, filename=name)
        else:
            parser.add_bpmn_xml(root, filename=name)
    process_parsers = parser.process_parsers
    if not process_parsers:
        raise ValidationException("no BPMN process found in the uploaded files")
    called = set()
    for pp in process_parsers.values():
        called.update(pp.called_element_ids())
    if process_id is not None:
        if process_id not in process_parsers:
            raise ValidationException(
                f"unknown process id '{process_id}'; the files define: {', '.join(sorted(process_parsers))}")
        main = process_id
    else:
        candidates = [pid for pid, pp in process_parsers.items() if pp.process_executable and pid not in called]
        if len(candidates) != 1:
            raise ValidationException(
                "cannot tell which process to deploy (executable processes not called by another: "
                f"{', '.join(sorted(candidates)) or 'none'}); name it with process_id")
        main = candidates[0]
    pp = parser.get_process_parser(main)
    if not pp.process_executable:
        raise ValidationException(f"process '{main}' is not executable (isExecutable=\"false\")", node=pp.node)
    missing = sorted(c for c in called if c not in process_parsers)
    if missing:
        node = pp.node.xpath(f".//bpmn:callActivity[@calledElement='{missing[0]}']", namespaces=NSMAP)
        raise ValidationException(f"call activity calls unknown process '{missing[0]}'",
                                  node=node[0] if node else None)
    spec = parser.get_spec(main)
    subprocess_specs = parser.get_subprocess_specs(main)
    _normalize_timers([spec, *subprocess_specs.values()])

    start_nodes = pp.node.xpath("./bpmn:startEvent", namespaces=NSMAP)
    start_form = read_form(start_nodes[0]) if start_nodes else Form()
    main_file = next(n for n, r in documents.items() if r is pp.node.getroottree().getroot())
    return Bundle(
        process_id=main,
        name=pp.node.get("name") or main,
        spec=spec,
        subprocess_specs=subprocess_specs,
        start_form=start_form,
        starter_groups=split_list(pp.node.get(camunda("candidateStarterGroups"))),
        case_prefix=(_process_property(pp.node, "casePrefix") or _default_prefix(main)).upper()[:8],
        title_expression=_process_property(pp.node, "caseTitle"),
        time_limit_expression=_process_property(pp.node, "caseTimeLimit"),
        time_limit_from=_process_property(pp.node, "caseTimeLimitFrom"),
        case_form=_process_property(pp.node, "caseData"),
        main_file=main_file,
        documents=documents,
    )


def called_processes(files: dict[str, str]) -> tuple[set[str], set[str]]:
    """(processes the files define, processes their call activities call)."""
    defined, called = set(), set()
    for name, text in files.items():
        root = read_xml(text, name)
        if is_dmn(root):
            continue
        defined.update(p.get("id") for p in root.xpath(".//bpmn:process", namespaces=NSMAP))
        called.update(root.xpath(".//bpmn:callActivity/@calledElement", namespaces=NSMAP))
    return defined, called


# ---------------------------------------------------------------------------------------
# Lint: what the restricted environment, the form registry and the timer syntax refuse.

def _owner_id(node) -> str | None:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def _check_timer(text: str) -> str | None:
    lit = literal_timer(text)
    if lit is None:
        problems = scripting.check(text)
        if problems:
            return "timer is neither ISO 8601 nor a valid expression: " + "; ".join(problems)
        return None
    try:
        if lit.upper().startswith("R"):
            TimerEventDefinition.parse_iso_recurring_interval(lit)
        else:
            TimerEventDefinition.parse_time_or_duration(lit)
    except Exception:
        hint = " (a duration in days is P1D, in hours PT1H: T comes before hours)" if lit.startswith("PT") else ""
        return f"'{lit}' is not a valid ISO 8601 duration, date or cycle{hint}"
    return None


def _check_form(form: Form, forms) -> list[str]:
    problems = []
    if form.key and not forms.has(form.key):
        problems.append(f"formKey '{form.key}' has no registered form")
    for f in form.fields:
        if not f.id:
            problems.append("a form field has no id")
        elif f.type not in FORM_FIELD_TYPES:
            problems.append(f"form field '{f.id}' has unsupported type '{f.type}' (use {', '.join(FORM_FIELD_TYPES)})")
        for v in f.validation:
            if v.name not in ("required", "readonly", "min", "max", "minlength", "maxlength"):
                problems.append(f"form field '{f.id}': unsupported constraint '{v.name}'")
            elif v.name in ("min", "max", "minlength", "maxlength"):
                try:
                    float(v.config)
                except (TypeError, ValueError):
                    if not (v.name in ("min", "max") and f.type == "date"):
                        problems.append(f"form field '{f.id}': {v.name} needs a number, got '{v.config}'")
    return problems


def _check_expr_attr(value: str | None, what: str) -> list[str]:
    if value and scripting.unwrap(value) != value:
        return [f"{what}: {p}" for p in scripting.check(value)]
    return []


NOTICE_KINDS = ("receipt", "supplement", "refusal", "completion")  # engine.notices.KINDS


def lint_documents(documents: dict[str, etree._Element], forms) -> list[dict]:
    """Problems found by reading the XML itself, each {"element_id", "message"}."""
    out: list[dict] = []

    def add(node, message):
        out.append({"element_id": _owner_id(node), "message": message})

    ns = NSMAP
    for root in documents.values():
        if is_dmn(root):
            out.extend(_lint_dmn(root))
            continue
        for cond in root.xpath(".//bpmn:conditionExpression | .//bpmn:completionCondition | "
                               ".//bpmn:loopCardinality | .//bpmn:conditionalEventDefinition/bpmn:condition",
                               namespaces=ns):
            for p in scripting.check(cond.text or ""):
                add(cond, f"expression '{(cond.text or '').strip()}': {p}")
        for script in root.xpath(".//bpmn:scriptTask", namespaces=ns):
            fmt = (script.get("scriptFormat") or "python").lower()
            if fmt not in ("python", "py"):
                add(script, f"script format '{fmt}' is not supported; write the script in Python")
            body = script.find(f"{{{ns['bpmn']}}}script")
            if body is None or not (body.text or "").strip():
                add(script, "script task has no script")
            else:
                for p in scripting.check(body.text, "exec"):
                    add(script, f"script: {p}")
        # nothing would ever run them: a case reaching one would wait there for ever, with no
        # task, no timer and no error. An external task is another system's to fetch.
        for task in root.xpath(".//bpmn:serviceTask | .//bpmn:sendTask", namespaces=ns):
            kind = task.get(camunda("type")) or task.get(camunda("class")) or task.get(camunda("expression")) \
                or task.get(camunda("delegateExpression")) or "no implementation"
            if etree.QName(task).localname == "serviceTask" and kind == "external":
                if not TOPIC.match(task.get(camunda("topic")) or ""):
                    add(task, "external task: camunda:topic must be 1 to 100 letters, digits or . _ : -")
                continue
            add(task, f"{etree.QName(task).localname} ({kind}): the hall runs no service or send tasks; a step "
                      "a person does is a userTask, one the hall computes a scriptTask, one another system "
                      "does an external serviceTask (camunda:type=\"external\" with a camunda:topic)")
        for timer in root.xpath(".//bpmn:timerEventDefinition/*", namespaces=ns):
            problem = _check_timer(timer.text or "")
            if problem:
                add(timer, problem)
        for ut in root.xpath(".//bpmn:userTask", namespaces=ns):
            for p in _check_form(read_form(ut), forms):
                add(ut, p)
            out.extend({"element_id": ut.get("id"), "message": p} for p in (
                _check_expr_attr(ut.get(camunda("candidateGroups")), "candidateGroups")
                + _check_expr_attr(ut.get(camunda("assignee")), "assignee")))
            due = ut.get(camunda("dueDate"))
            if due:
                problem = _check_timer(due)
                if problem:
                    add(ut, "dueDate: " + problem)
        for start in root.xpath(".//bpmn:process/bpmn:startEvent", namespaces=ns):
            for p in _check_form(read_form(start), forms):
                add(start, p)
        for mi in root.xpath(".//bpmn:multiInstanceLoopCharacteristics", namespaces=ns):
            coll = mi.get(camunda("collection"))
            if coll is not None:
                for p in scripting.check(coll):
                    add(mi, f"collection '{coll}': {p}")
        message_forms: dict[str, str] = {}
        message_names = {m.get("id"): m.get("name") or m.get("id") for m in root.iterfind(f"{{{ns['bpmn']}}}message")}
        for prop in root.xpath(".//bpmn:*[bpmn:messageEventDefinition]/bpmn:extensionElements/camunda:properties/"
                               "camunda:property[@name='messageForm']", namespaces=ns):
            key = (prop.get("value") or "").strip()
            event = prop.getparent().getparent().getparent()
            ref = event.find(f"{{{ns['bpmn']}}}messageEventDefinition").get("messageRef")
            name = message_names.get(ref, ref)
            if not forms.has(key):
                add(prop, f"messageForm '{key}' has no registered form")
            elif name and message_forms.setdefault(name, key) != key:
                add(prop, f"messageForm '{key}': message '{name}' is checked with '{message_forms[name]}' elsewhere")
        for msg in root.xpath(".//bpmn:messageEventDefinition[@camunda:expression]", namespaces=ns):
            for p in scripting.check(msg.get(camunda("expression"))):
                add(msg, f"message expression: {p}")
        for prop in root.xpath(".//bpmn:process/bpmn:extensionElements/camunda:properties/"
                               "camunda:property[@name='caseTitle' or @name='caseTimeLimit']", namespaces=ns):
            for p in scripting.check(prop.get("value") or ""):
                add(prop, f"{prop.get('name')}: {p}")
        for prop in root.xpath(".//bpmn:process/bpmn:extensionElements/camunda:properties/"
                               "camunda:property[@name='caseData']", namespaces=ns):
            if not forms.has((prop.get("value") or "").strip()):
                add(prop, f"caseData '{prop.get('value')}' has no registered form")
        for prop in root.xpath(".//bpmn:process/bpmn:extensionElements/camunda:properties/"
                               "camunda:property[@name='caseTimeLimitFrom']", namespaces=ns):
            target = (prop.get("value") or "").strip()
            process = prop.getparent().getparent().getparent()
            if target not in process.xpath(".//bpmn:*[not(self::bpmn:sequenceFlow)]/@id", namespaces=ns):
                add(prop, f"caseTimeLimitFrom: no element '{target}' in the process to start the case's limit")
        for prop in root.xpath(".//camunda:property[@name='notice']", namespaces=ns):
            if (prop.get("value") or "") not in NOTICE_KINDS:
                add(prop, f"notice '{prop.get('value')}' is none of {', '.join(NOTICE_KINDS)}")
    return out


def _lint_dmn(root) -> list[dict]:
    out = []
    nsu = etree.QName(root).namespace
    ns = {"dmn": nsu}
    for table in root.iterfind(f".//{{{nsu}}}decisionTable"):
        inputs = [((i.findtext("dmn:inputExpression/dmn:text", namespaces=ns) or "").strip(), i.get("id"))
                  for i in table.findall("dmn:input", ns)]
        for expr, input_id in inputs:
            for p in scripting.check(expr):
                out.append({"element_id": input_id, "message": f"input expression '{expr}': {p}"})
        for rule in table.findall("dmn:rule", ns):
            for (expr, _), entry in zip(inputs, rule.findall("dmn:inputEntry", ns), strict=False):
                text = (entry.findtext("dmn:text", namespaces=ns) or "").strip()
                if text in ("", "-"):
                    continue
                if "?" in text:
                    candidate = text.replace("?", "dmninputexpr")
                elif not scripting.check(text):
                    candidate = f"({expr}) == ({text})"
                else:
                    candidate = f"{expr} {text}"
                for p in scripting.check(candidate):
                    out.append({"element_id": entry.get("id") or rule.get("id"),
                                "message": f"rule entry '{text}': {p}"})
            for entry in rule.findall("dmn:outputEntry", ns):
                text = (entry.findtext("dmn:text", namespaces=ns) or "").strip()
                if text:
                    for p in scripting.check(text):
                        out.append({"element_id": entry.get("id") or rule.get("id"),
                                    "message": f"output entry '{text}': {p}"})
    return out


def validation_error(e: Exception) -> dict:
    """A parse failure as {"element_id", "message"}."""
    if isinstance(e, ValidationException):
        msg = str(e.args[0]) if e.args else str(e)
        where = f" ({e.file_name}" + (f", line {e.line_number}" if e.line_number else "") + ")" if e.file_name else ""
        return {"element_id": e.id or None, "message": msg + where}
    if isinstance(e, SpiffWorkflowException):
        return {"element_id": getattr(getattr(e, "task_spec", None), "bpmn_id", None), "message": str(e)}
    return {"element_id": None, "message": str(e)}

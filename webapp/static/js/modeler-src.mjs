// The process owners' modeler (流程模型 → 编辑): bpmn-js with the properties panel and
// Camunda 7's moddle extension, so formKey, formData, candidateGroups, assignee, dueDate,
// timers and conditions are edited in the browser. Deploying posts the XML to the hall;
// the engine's lint errors are listed and their elements marked on the canvas.
// Bundled by scripts/build-assets.mjs into webapp/static/vendor/modeler/modeler.js.
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";

function start(root) {
  const T = JSON.parse(document.getElementById("modeler-texts").textContent);
  const text = (key, values = {}) => T[key].replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const statusBox = document.querySelector(".modeler-status");
  const lintBox = document.querySelector(".lint-errors");
  const deployButton = document.querySelector('[data-action="deploy"]');
  const baseProcess = root.dataset.processId || null;
  const baseVersion = root.dataset.version ? Number(root.dataset.version) : null;

  const modules = [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
    hallPropertiesModule,
  ];
  if (root.dataset.lang === "zh_CN") modules.push(translateModule);
  const modeler = new BpmnModeler({
    container: "#modeler-canvas",
    propertiesPanel: { parent: "#modeler-properties" },
    additionalModules: modules,
    moddleExtensions: { camunda: camundaModdle },
  });
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  const overlays = modeler.get("overlays");
  const selection = modeler.get("selection");

  const commandStack = modeler.get("commandStack");
  let loaded = null; // the XML as loaded: deployed again as it is while nothing has been changed
  let dirty = false;
  let marked = [];
  modeler.on("commandStack.changed", () => { dirty = true; });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  const status = (message, kind = "") => {
    statusBox.textContent = message || "";
    statusBox.className = `modeler-status ${kind}`;
  };

  async function load(xml) {
    clearProblems();
    try {
      await modeler.importXML(xml);
      loaded = xml;
    } catch (err) {
      status(text("loadFailed", { message: err.message }), "error");
      return false;
    }
    fit();
    return true;
  }

  // the whole diagram in view, clear of the palette, never enlarged beyond 100 %
  function fit() {
    const { inner, outer } = canvas.viewbox();
    if (!inner.width || !inner.height) return;
    const palette = root.querySelector(".djs-palette");
    const left = palette ? palette.getBoundingClientRect().right - root.getBoundingClientRect().left + 20 : 90;
    const pad = { left, right: 30, top: 30, bottom: 30 };
    const width = outer.width - pad.left - pad.right;
    const height = outer.height - pad.top - pad.bottom;
    const scale = Math.min(1, width / inner.width, height / inner.height);
    canvas.viewbox({
      x: inner.x - (pad.left + (width - inner.width * scale) / 2) / scale,
      y: inner.y - (pad.top + (height - inner.height * scale) / 2) / scale,
      width: outer.width / scale,
      height: outer.height / scale,
    });
  }

  // --- which process the file deploys ---------------------------------------------
  function mainProcessId() {
    const processes = (modeler.getDefinitions()?.rootElements || []).filter((e) => e.$type === "bpmn:Process");
    if (baseProcess && processes.some((p) => p.id === baseProcess)) return baseProcess;
    const executable = processes.filter((p) => p.isExecutable);
    return executable.length === 1 ? executable[0].id : null;
  }

  // --- lint problems on the canvas ---------------------------------------------------
  // The engine names the nearest XML element with an id: a shape or a flow, a process
  // (drawn as its pool), or something inside one (a timer's definition, a property).
  // Children drawn as elements of their own are not looked into: a sub-process does not
  // hold its tasks' parts.
  const DRAWN = new Set(["di", "flowElements", "artifacts", "laneSets", "lanes", "childLaneSet", "participants",
    "rootElements"]);

  function holds(bo, id, depth = 0) {
    if (!bo || typeof bo !== "object" || depth > 6) return false;
    if (bo.id === id) return true;
    const props = bo.$descriptor?.properties || [];
    return props.some((p) => {
      if (p.isReference || DRAWN.has(p.name)) return false;
      const v = bo.get ? bo.get(p.name) : bo[p.name];
      if (Array.isArray(v)) return v.some((x) => holds(x, id, depth + 1));
      return v && typeof v === "object" && v.$type ? holds(v, id, depth + 1) : false;
    });
  }

  function elementFor(id) {
    if (!id) return null;
    const direct = registry.get(id);
    if (direct && direct.type !== "label") return direct;
    const pool = registry.find((el) => el.type === "bpmn:Participant" && el.businessObject.processRef?.id === id);
    if (pool) return pool;
    const rootElement = canvas.getRootElement();
    if (rootElement?.businessObject?.id === id) return rootElement;
    const owners = registry.filter((el) => el.type !== "label" && el.type !== "bpmn:Participant" && el.type !== "bpmn:Lane"
      && el !== rootElement && holds(el.businessObject, id));
    if (owners.length) return owners[0];
    const container = registry.filter((el) => (el.type === "bpmn:Participant" || el === rootElement)
      && holds(el.businessObject.processRef || el.businessObject, id));
    return container[0] || null;
  }

  function clearProblems() {
    overlays.remove({ type: "hall-lint" });
    marked.forEach((el) => {
      canvas.removeMarker(el, "hall-lint-error");
      canvas.removeMarker(el, "hall-lint-container");
    });
    marked = [];
    if (!lintBox.hidden) {
      lintBox.hidden = true;
      canvas.resized(); // the canvas grew back: the palette lays itself out again
    }
    lintBox.querySelector("ul").replaceChildren();
  }

  function focus(el) {
    if (el !== canvas.getRootElement()) {
      selection.select(el);
      canvas.scrollToElement(el, { top: 120, bottom: 120, left: 160, right: 160 });
    }
  }

  function showProblems(body) {
    clearProblems();
    const errors = Array.isArray(body.errors) && body.errors.length ? body.errors
      : [{ element_id: null, message: body.message || "" }];
    lintBox.querySelector("h2").textContent = text("problems", { n: errors.length });
    lintBox.querySelector(".lint-message").textContent = text("problemsHint");
    const list = lintBox.querySelector("ul");
    const perElement = new Map();
    for (const problem of errors) {
      const el = elementFor(problem.element_id);
      const item = document.createElement("li");
      item.dataset.elementId = problem.element_id || "";
      const where = document.createElement(el ? "button" : "span");
      where.className = "lint-where";
      const name = el?.businessObject?.name;
      where.textContent = problem.element_id
        ? (name ? text("named", { name, id: problem.element_id }) : problem.element_id)
          + (el ? "" : ` · ${text("notOnCanvas")}`)
        : text("wholeFile");
      if (el) {
        where.type = "button";
        where.addEventListener("click", () => focus(el));
        perElement.set(el, [...(perElement.get(el) || []), problem.message]);
      }
      const message = document.createElement("span");
      message.className = "lint-text";
      message.textContent = problem.message;
      item.append(where, message);
      list.append(item);
    }
    for (const [el, messages] of perElement) {
      if (el !== canvas.getRootElement()) {
        canvas.addMarker(el, "hall-lint-error");
        // a pool or a sub-process holds other elements: outline it, do not tint what it holds
        if (el.type === "bpmn:Participant" || el.type === "bpmn:SubProcess") canvas.addMarker(el, "hall-lint-container");
        marked.push(el);
        const badge = document.createElement("div");
        badge.className = "hall-lint-badge";
        badge.textContent = String(messages.length);
        badge.title = messages.join("\n");
        const position = el.waypoints ? { top: -10, left: -10 } : { top: -10, right: 10 };
        overlays.add(el, "hall-lint", { position, html: badge });
      }
    }
    lintBox.hidden = false;
    canvas.resized();
    const first = [...perElement.keys()][0];
    if (first) focus(first);
  }

  // --- deploy, download, open ------------------------------------------------------------
  async function currentXml() {
    // let the properties panel write what was just typed before reading the diagram
    if (document.activeElement && root.contains(document.activeElement)) document.activeElement.blur();
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (loaded !== null && !commandStack.canUndo()) return loaded; // unchanged: byte for byte what was opened
    return (await modeler.saveXML({ format: true })).xml;
  }

  async function deploy() {
    deployButton.disabled = true;
    status(text("deploying"));
    try {
      const xml = await currentXml();
      const payload = { xml, process_id: mainProcessId() };
      if (baseProcess && baseVersion) payload.base = { process_id: baseProcess, version: baseVersion };
      const res = await fetch(root.dataset.deployUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(payload),
      });
      let body = null;
      if ((res.headers.get("Content-Type") || "").includes("json")) body = await res.json();
      if (res.ok && body) {
        clearProblems();
        dirty = false;
        if (body.created) {
          window.location.assign(body.url);
          return;
        }
        status(text("unchanged", { version: body.version }), "info");
      } else if (res.status === 422 && body) {
        status("");
        showProblems(body);
      } else if (res.status === 400 || (!body && (res.redirected || res.ok))) {
        // signed out meanwhile (the CSRF token went with the session) or sent to the sign-in page
        status(text("signedOut"), "error");
      } else {
        status(body?.message || text("failed", { status: res.status }), "error");
      }
    } catch (err) {
      status(text("failed", { status: err.message }), "error");
    } finally {
      deployButton.disabled = false;
    }
  }

  async function download() {
    const xml = await currentXml();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
    link.download = `${mainProcessId() || "diagram"}.bpmn`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  async function open(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    if (await load(await file.text())) {
      dirty = true;
      status(text("opened", { name: file.name }), "info");
    }
  }

  deployButton.addEventListener("click", deploy);
  document.querySelector('[data-action="download"]').addEventListener("click", download);
  document.querySelector('[data-action="open"]').addEventListener("change", (e) => open(e.target));

  (async () => {
    let xml;
    try {
      const res = await fetch(root.dataset.xmlUrl, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      xml = await res.text();
    } catch (err) {
      status(text("loadFailed", { message: err.message }), "error");
      return;
    }
    if (await load(xml)) root.dataset.ready = "true";
  })();
}

// --- only what the hall's engine runs ---------------------------------------------------
// SpiffWorkflow runs no Java listeners, job settings or input/output mappings: their groups
// would edit XML that changes nothing, so the panel leaves them out.
const HIDDEN_GROUPS = new Set([
  "CamundaPlatform__TaskListener", "CamundaPlatform__ExecutionListener", "CamundaPlatform__AsynchronousContinuations",
  "CamundaPlatform__JobExecution", "CamundaPlatform__Input", "CamundaPlatform__Output", "CamundaPlatform__HistoryCleanup",
  "CamundaPlatform__Tasklist", "CamundaPlatform__ExternalTask", "CamundaPlatform__FieldInjection",
  "CamundaPlatform__ConnectorInput", "CamundaPlatform__ConnectorOutput", "CamundaPlatform__InMapping",
  "CamundaPlatform__OutMapping", "CamundaPlatform__InMappingPropagation", "CamundaPlatform__OutMappingPropagation",
  "CamundaPlatform__BusinessKey", "CamundaPlatform__StartInitiator",
]);
const HIDDEN_ENTRIES = new Set(["followUpDate", "priority", "candidateUsers"]);

class HallPropertiesFilter {
  constructor(propertiesPanel) {
    propertiesPanel.registerProvider(100, this); // after the BPMN (1000) and Camunda (500) providers
  }

  getGroups() {
    return (groups) => groups.filter((g) => !HIDDEN_GROUPS.has(g.id)).map((g) => (
      Array.isArray(g.entries) ? { ...g, entries: g.entries.filter((e) => !HIDDEN_ENTRIES.has(e.id)) } : g));
  }
}
HallPropertiesFilter.$inject = ["propertiesPanel"];

const hallPropertiesModule = {
  __init__: ["hallPropertiesFilter"],
  hallPropertiesFilter: ["type", HallPropertiesFilter],
};

// --- Chinese for the palette, context pad and properties panel ------------------------------
const ZH = {
  // palette and context pad
  "Activate hand tool": "抓手工具",
  "Activate lasso tool": "套索工具",
  "Activate create/remove space tool": "插入/删除空间",
  "Activate global connect tool": "连线工具",
  "Create start event": "开始事件",
  "Create intermediate/boundary event": "中间/边界事件",
  "Create end event": "结束事件",
  "Create gateway": "网关",
  "Create task": "任务",
  "Create expanded sub-process": "子流程（展开）",
  "Create data object reference": "数据对象",
  "Create data store reference": "数据存储",
  "Create pool/participant": "泳池",
  "Create group": "分组",
  "Append end event": "追加结束事件",
  "Append gateway": "追加网关",
  "Append task": "追加任务",
  "Append intermediate/boundary event": "追加中间/边界事件",
  "Append receive task": "追加接收任务",
  "Append message intermediate catch event": "追加消息捕获事件",
  "Append timer intermediate catch event": "追加定时事件",
  "Append conditional intermediate catch event": "追加条件事件",
  "Append signal intermediate catch event": "追加信号捕获事件",
  "Append compensation activity": "追加补偿活动",
  "Add text annotation": "添加注释",
  "Add lane above": "在上方添加泳道",
  "Add lane below": "在下方添加泳道",
  "Divide into two lanes": "分成两条泳道",
  "Divide into three lanes": "分成三条泳道",
  "Change element": "更改类型",
  "Connect to other element": "连接到其他元素",
  "Connect using association": "用关联连接",
  "Connect using data input association": "用数据输入关联连接",
  "Delete": "删除",
  "Align elements": "对齐",
  "Distribute elements horizontally": "水平等距分布",
  "Distribute elements vertically": "垂直等距分布",
  "Search in diagram": "在图中搜索",
  "Toggle non-interrupting": "切换非中断",
  "Parallel multi-instance": "并行多实例",
  "Sequential multi-instance": "串行多实例",
  "Loop": "循环",
  "Collection": "集合",
  "Open {element}": "打开 {element}",
  // element types
  "Task": "任务",
  "User task": "用户任务",
  "Service task": "服务任务",
  "Script task": "脚本任务",
  "Business rule task": "业务规则任务",
  "Manual task": "人工任务",
  "Send task": "发送任务",
  "Receive task": "接收任务",
  "Call activity": "调用活动",
  "Sub-process (collapsed)": "子流程（折叠）",
  "Sub-process (expanded)": "子流程（展开）",
  "Sub-process": "子流程",
  "Event sub-process": "事件子流程",
  "Ad-hoc sub-process (collapsed)": "自由子流程（折叠）",
  "Ad-hoc sub-process (expanded)": "自由子流程（展开）",
  "Ad-hoc sub-process": "自由子流程",
  "Transaction": "事务",
  "Start event": "开始事件",
  "End event": "结束事件",
  "Intermediate throw event": "中间抛出事件",
  "Boundary event": "边界事件",
  "Message start event": "消息开始事件",
  "Timer start event": "定时开始事件",
  "Conditional start event": "条件开始事件",
  "Signal start event": "信号开始事件",
  "Error start event": "错误开始事件",
  "Escalation start event": "升级开始事件",
  "Compensation start event": "补偿开始事件",
  "Message start event (non-interrupting)": "消息开始事件（非中断）",
  "Timer start event (non-interrupting)": "定时开始事件（非中断）",
  "Conditional start event (non-interrupting)": "条件开始事件（非中断）",
  "Signal start event (non-interrupting)": "信号开始事件（非中断）",
  "Escalation start event (non-interrupting)": "升级开始事件（非中断）",
  "Message intermediate catch event": "消息捕获事件",
  "Message intermediate throw event": "消息抛出事件",
  "Timer intermediate catch event": "定时捕获事件",
  "Conditional intermediate catch event": "条件捕获事件",
  "Signal intermediate catch event": "信号捕获事件",
  "Signal intermediate throw event": "信号抛出事件",
  "Link intermediate catch event": "链接捕获事件",
  "Link intermediate throw event": "链接抛出事件",
  "Escalation intermediate throw event": "升级抛出事件",
  "Compensation intermediate throw event": "补偿抛出事件",
  "Message end event": "消息结束事件",
  "Error end event": "错误结束事件",
  "Escalation end event": "升级结束事件",
  "Compensation end event": "补偿结束事件",
  "Signal end event": "信号结束事件",
  "Terminate end event": "终止结束事件",
  "Cancel end event": "取消结束事件",
  "Message boundary event": "消息边界事件",
  "Message boundary event (non-interrupting)": "消息边界事件（非中断）",
  "Timer boundary event": "定时边界事件",
  "Timer boundary event (non-interrupting)": "定时边界事件（非中断）",
  "Conditional boundary event": "条件边界事件",
  "Conditional boundary event (non-interrupting)": "条件边界事件（非中断）",
  "Signal boundary event": "信号边界事件",
  "Signal boundary event (non-interrupting)": "信号边界事件（非中断）",
  "Error boundary event": "错误边界事件",
  "Escalation boundary event": "升级边界事件",
  "Escalation boundary event (non-interrupting)": "升级边界事件（非中断）",
  "Compensation boundary event": "补偿边界事件",
  "Cancel boundary event": "取消边界事件",
  "Exclusive gateway": "排他网关",
  "Parallel gateway": "并行网关",
  "Inclusive gateway": "包容网关",
  "Event-based gateway": "事件网关",
  "Complex gateway": "复杂网关",
  "Sequence flow": "顺序流",
  "Default flow": "默认流",
  "Conditional flow": "条件流",
  "Data object reference": "数据对象",
  "Data store reference": "数据存储",
  "Empty pool/participant": "空泳池",
  "Expanded pool/participant": "展开的泳池",
  // properties panel
  "Select an element to edit its properties.": "选择一个元素以编辑其属性。",
  "Multiple elements are selected. Select a single element to edit its properties.": "选中了多个元素，请只选择一个以编辑其属性。",
  "General": "常规",
  "Name": "名称",
  "ID": "ID",
  "ID must be unique.": "ID 必须唯一。",
  "ID must not be empty.": "ID 不能为空。",
  "ID must not contain spaces.": "ID 不能包含空格。",
  "ID must be a valid QName.": "ID 必须是合法的 QName。",
  "ID must not contain prefix.": "ID 不能带前缀。",
  "Process name": "流程名称",
  "Process ID": "流程 ID",
  "Participant Name": "泳池名称",
  "Participant ID": "泳池 ID",
  "This maps to the process definition key.": "即流程定义键：同一 ID 的每次部署是同一流程的一个版本。",
  "Executable": "可执行",
  "Version tag": "版本标签",
  "Documentation": "说明",
  "Element documentation": "元素说明",
  "Process documentation": "流程说明",
  "User assignment": "办理人分配",
  "Assignee": "办理人（assignee）",
  "Candidate groups": "候选组（candidateGroups）",
  "Candidate users": "候选用户",
  "Due date": "办理时限（dueDate）",
  "Follow up date": "跟进日期",
  "Priority": "优先级",
  "Specify more than one group as a comma separated list.": "多个组用英文逗号分隔。",
  "Specify more than one user as a comma separated list.": "多个用户用英文逗号分隔。",
  "The due date as an EL expression (e.g. ${someDate}) or an ISO date (e.g. 2015-06-26T09:54:00).":
    "ISO 8601 时长（如 P3D、PT4H）、日期时间，或 ${表达式}。",
  "Forms": "表单",
  "Form": "表单",
  "Type": "类型",
  "Form key": "表单键（formKey）",
  "Custom form key": "自定义表单键",
  "Generated Task Forms": "生成的表单（formData）",
  "Embedded or External Task Forms": "已注册的表单（formKey）",
  "Camunda Forms": "Camunda Forms（大厅不支持）",
  "Form fields": "表单字段",
  "Label": "标签",
  "Default value": "默认值",
  "Constraints": "约束",
  "Properties": "属性",
  "Config": "配置",
  "Values": "取值",
  "Value": "值",
  "Key": "键",
  "Start initiator": "发起人",
  "Initiator": "发起人变量",
  "Candidate starter": "可发起者",
  "Candidate starter groups": "可发起的组（candidateStarterGroups）",
  "Candidate starter users": "可发起的用户",
  "Condition": "条件",
  "Condition type": "条件类型",
  "Condition expression": "条件表达式",
  "Condition Expression": "条件表达式",
  "Expression": "表达式",
  "Script": "脚本",
  "Script type": "脚本类型",
  "Inline script": "内联脚本",
  "External resource": "外部资源",
  "Resource": "资源",
  "Format": "格式",
  "Result variable": "结果变量",
  "Timer": "定时器",
  "Date": "日期",
  "Duration": "时长",
  "Cycle": "周期",
  "A time duration defined as ISO 8601 durations format.": "ISO 8601 时长，如 P3D（3 天）、PT2H（2 小时）。",
  "A specific point in time defined as ISO 8601 combined date and time representation.": "ISO 8601 日期时间，如 2026-12-01T09:00:00。",
  "A cycle defined as ISO 8601 repeating intervals format, or a cron expression.": "ISO 8601 重复间隔（如 R3/PT10H）或 cron 表达式。",
  "Multi-instance": "多实例",
  "Loop cardinality": "循环次数",
  "Element variable": "元素变量（elementVariable）",
  "Completion condition": "完成条件",
  "Message": "消息",
  "Global message reference": "消息",
  "Signal": "信号",
  "Global signal reference": "信号",
  "Error": "错误",
  "Global error reference": "错误",
  "Escalation": "升级",
  "Global escalation reference": "升级",
  "Called element": "被调用的流程",
  "Called decision": "调用的决策",
  "Decision reference": "决策引用",
  "DMN decision": "DMN 决策",
  "Decision ID": "决策 ID",
  "Binding": "绑定",
  "Implementation": "实现",
  "Implementation type": "实现类型",
  "Inputs": "输入",
  "Outputs": "输出",
  "Input mapping": "输入映射",
  "Output mapping": "输出映射",
  "In mappings": "传入映射",
  "Out mappings": "传出映射",
  "Execution listeners": "执行监听器",
  "Task listeners": "任务监听器",
  "Extension properties": "扩展属性",
  "Asynchronous continuations": "异步延续",
  "Asynchronous before": "之前异步",
  "Asynchronous after": "之后异步",
  "Exclusive": "排他",
  "Job execution": "作业执行",
  "History cleanup": "历史清理",
  "Time to live": "保留时长",
  "Tasklist": "任务列表",
  "Startable": "可启动",
  "Variable name": "变量名",
  "Business key": "业务键",
  "Create": "新建",
  "Create new ...": "新建…",
  "<none>": "<无>",
  "<empty>": "<空>",
  "Learn more.": "了解更多。",
  "string": "字符串",
  "long": "整数",
  "boolean": "布尔",
  "date": "日期",
  "enum": "枚举",
  "On": "开",
  "Off": "关",
};

// the panel's header names the element's type in Title Case ("Timer Boundary Event (Non Interrupting)")
const HEADER_TYPES = {
  "Collaboration": "协作",
  "Participant": "泳池",
  "Process": "流程",
  "Lane": "泳道",
  "Text annotation": "注释",
  "Group": "分组",
  "Expanded sub process": "子流程",
  "Collapsed sub process": "子流程（折叠）",
  "Event sub process": "事件子流程",
  "Event based gateway": "事件网关",
  "Intermediate catch event": "中间捕获事件",
};

function typeLabel(template) {
  const sentence = template.charAt(0) + template.slice(1).toLowerCase();
  const plain = sentence.replace(/ \(non interrupting\)$/, "");
  const base = ZH[plain] || HEADER_TYPES[plain] || ZH[plain.replace(/ sub process$/, " sub-process")];
  if (!base) return null;
  return plain === sentence ? base : base.replace(/（非中断）$/, "") + "（非中断）";
}

function translate(template, replacements = {}) {
  const out = ZH[template] || (/^[A-Z][a-z]+( [A-Z][a-z]+)+( \(Non Interrupting\))?$|^[A-Z][a-z]+$/.test(template)
    && typeLabel(template)) || template;
  return out.replace(/{([^}]+)}/g, (_, key) => (key in replacements ? replacements[key] : `{${key}}`));
}

const translateModule = { translate: ["value", translate] };

const modelerRoot = document.getElementById("modeler");
if (modelerRoot) start(modelerRoot);

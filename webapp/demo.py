"""Demo data: a user for every role and group, the five processes and the hall's own two
(意见建议与投诉, 回访), the service catalogue
(processes/catalogue.json), a few sample cases and, with `history`, a year of made-up
history before them (webapp.synthetic: the year before now, what the statistics show).

Safe to run again: users are updated, identical diagrams deploy nothing, and sample
cases and history are only added to an empty hall."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from engine import clock
from engine.identity import SYSTEM, actor_of
from engine.models import Case
from webapp import hall

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
PASSWORD = "hall123"

# username, display name, roles, groups
USERS = [
    ("admin", "系统管理员", ["admin"], []),
    ("owner", "流程管理员", ["process_owner"], []),
    ("yushen", "网上预审 陈静", ["staff"], ["网上预审"]),
    ("neizi", "内资窗口 王芳", ["staff"], ["内资窗口"]),
    ("waizi", "外资窗口 李强", ["staff"], ["外资窗口"]),
    ("jianshe", "建设窗口 赵磊", ["staff"], ["建设窗口"]),
    ("shehui", "社会事务窗口 孙丽", ["staff"], ["社会事务窗口"]),
    ("gongshang", "工商首席代表 周明", ["staff"], ["工商"]),
    ("guoshui", "国税首席代表 吴昊", ["staff"], ["国税"]),
    ("dishui", "地税首席代表 郑洁", ["staff"], ["地税"]),
    ("zhijian", "质监首席代表 冯涛", ["staff"], ["质监"]),
    ("gongan", "公安首席代表 陈刚", ["staff"], ["公安"]),
    ("yinhang", "银行开户专窗 褚燕", ["staff"], ["银行"]),
    ("shouxi", "首席服务台 卫东", ["staff"], ["首席服务台"]),
    ("xietiao", "管理办协调员 蒋平", ["staff", "coordinator"], ["管理办"]),
    ("fuzhuren", "常务副主任 沈毅", ["staff", "director"], ["常务副主任"]),
    ("zhaoshang", "招商局 韩梅", ["staff"], ["招商局"]),
    ("shangwu", "商务首席代表 杨帆", ["staff"], ["商务"]),
    ("jiancha", "驻厅监察 朱正", ["supervisor"], []),
    ("qiye", "闽江数字科技有限公司", ["applicant"], ["申请人"]),
    ("daiban", "全程代理 代办员 郑敏", ["agent"], ["申请人"]),
    # the 评价器 (a tablet) at a window: shows the case its staff just handled, takes a tap
    ("pingjia_neizi", "内资窗口 评价器", ["device"], ["内资窗口"]),
    ("pingjia_waizi", "外资窗口 评价器", ["device"], ["外资窗口"]),
    # another system's account: the 工商 registration system's worker takes its external tasks
    ("gongshang_xitong", "工商登记系统", ["integrator"], []),
]
# all NZ-001 asks for: what its window ticks at 受理
ACCEPTED = {"acceptance": "accept", "received_materials": [
    "公司登记（备案）申请书", "公司章程", "股东主体资格证明", "法定代表人任职文件", "住所使用证明",
    "名称预先核准通知书"]}
ENTERPRISE = ("91350100M000100Y43", "闽江数字科技有限公司")  # qiye's: its own account (企业之家)

DEPLOYMENTS = [
    ["parallel_approval.bpmn"],
    ["green_channel.bpmn", "green_channel_eligibility.dmn"],
    ["joint_review.bpmn"],
    ["big_project.bpmn"],
    ["enterprise_exit.bpmn"],
    ["complaint.bpmn"],
    ["return_visit.bpmn"],
    ["poor_rating.bpmn"],
]


def one_form(name: str, category: str = "内资", bank: bool = False) -> dict:
    data = {
        "enterprise": {"name": name, "credit_code": "91350100M000100Y43", "legal_rep": "林晓",
                       "address": "福州市鼓楼区五四路 88 号", "phone": "0591-87654321", "registered_capital": 500,
                       "category": category},
        "gongshang": {"business_scope": "软件开发；信息技术咨询服务", "company_type": "有限责任公司"},
        "guoshui": {"tax_type": "小规模纳税人", "invoice_types": ["增值税普通发票"]},
        "dishui": {"employee_count": 12, "accounting_system": "小企业会计准则"},
        "zhijian": {"organization_code": "M000100Y-4", "product_standards": "Q/MJ 001-2026"},
        "gongan": {"seal_count": 3, "seal_types": ["公章", "财务专用章", "发票专用章"]},
    }
    if bank:
        data["bank"] = {"open_account": True, "bank_name": "兴业银行福州分行"}
    return data


def load(echo, history: float = 0.0) -> None:
    """Load the demo hall; `history`: the share of the seed hall's year to make for the year
    before now (1: the year its report tells of, 0: none)."""
    h = hall()
    enterprise = h.portal.enterprise_for_filing(SYSTEM, *ENTERPRISE)
    for username, display, roles, groups in USERS:
        h.identity.create_user(username, PASSWORD, groups, roles, display, update=True,
                               enterprise_id=enterprise if username == "qiye" else None)
    actors = {u: actor_of(h.identity.user(u)) for u, *_ in USERS}
    for files in DEPLOYMENTS:
        pv, created = h.repository.deploy({f: (PROCESSES / f).read_bytes() for f in files}, actors["owner"])
        echo(f"{'deployed' if created else 'unchanged'}: {pv.process_id} ({pv.name}) v{pv.version}")
    items = h.catalogue.load(actors["owner"], json.loads((PROCESSES / "catalogue.json").read_text(encoding="utf-8")))
    echo(f"catalogue: {len(items)} items, {sum(new for _, new in items)} saved")

    if h.session.scalar(sa.select(sa.func.count()).select_from(Case)):
        echo("sample cases: the hall already has cases, none added")
    else:
        if history:
            from webapp.synthetic import Plan, generate

            generate(h, Plan.share(clock.local_now().year - 1, history), echo=echo)
        _sample_cases(h, actors)
        echo("sample cases: added")
    _assessment(h, actors, echo)
    echo(f"\nlogins (password '{PASSWORD}' for all):")
    for username, display, roles, groups in USERS:
        echo(f"  {username:10s} {','.join(roles):20s} {','.join(groups):12s} {display}")


def _complete(h, actor, case_id, element_id, data):
    task = next(t for t in h.tasks.case_tasks(case_id) if t.element_id == element_id)
    return h.tasks.complete(actor, task.id, data)


def _portal_samples(h, a) -> None:
    """企业之家's side: a 即办件 done (its notices issued, rated), a case withdrawn, a walk-in
    taken in at the counter and waiting for 受理, one an agent filed, and questions."""
    rt = h.runtime
    c = rt.start(a["qiye"], None, one_form("闽江数字科技有限公司"), item="GS-002")
    _complete(h, a["yushen"], c.id, "online_prereview", {"prereview_decision": "pass"})
    _complete(h, a["neizi"], c.id, "accept_domestic", {"acceptance": "accept",
                                                       "received_materials": ["补领营业执照申请书", "遗失声明"]})
    _complete(h, a["neizi"], c.id, "handle_immediate_domestic", {"outcome": "approved",
                                                                 "licence_no": "91350100M000100Y43-2"})
    h.ratings.rate(a["qiye"], c.id, 5, "网上申报，当天办结", "portal",
                   dimensions={"attitude": 5, "quality": 5, "competence": 5, "integrity": 5, "efficiency": 5})
    c = rt.start(a["qiye"], None, one_form("闽江数字科技有限公司"), item="SW-002")
    rt.withdraw(a["qiye"], c.id, "经办人信息填错，重新申报")
    walk_in = h.portal.enterprise_for_filing(a["neizi"], "91350100MA2Y7K3P1R", "鼓楼区榕树餐饮有限公司")
    rt.start(a["neizi"], None, one_form("鼓楼区榕树餐饮有限公司"), item="NZ-001", channel="counter",
             enterprise_id=walk_in)
    rt.start(a["daiban"], None, one_form("海川精密制造有限公司"), item="NZ-001", enterprise_id=walk_in)
    c = rt.start(a["neizi"], None, one_form("鼓楼区榕树餐饮有限公司"), item="GS-002", channel="counter",
                 enterprise_id=walk_in)
    _complete(h, a["neizi"], c.id, "accept_domestic", {"acceptance": "accept",
                                                       "received_materials": ["补领营业执照申请书", "遗失声明"]})
    _complete(h, a["neizi"], c.id, "handle_immediate_domestic", {"outcome": "approved",
                                                                 "licence_no": "91350100MA2Y7K3P1R-2"})
    # a 差评 the window recorded: its 差评整改 waits for the 内资窗口 to call the applicant
    h.ratings.rate(a["neizi"], c.id, 2, "排队等候超过一小时", "counter")
    h.portal.ask(a["qiye"], "NZ-001", "住所使用证明可以用租赁合同吗？")
    asked = h.portal.ask(a["qiye"], "WZ-001", "外资企业设立需要商务部门先审批吗？")
    h.portal.answer(a["waizi"], asked.id,
                    "实行备案管理，在一单通中同步提交外商投资企业设立备案申报表即可，无需先行审批。")


def _sample_cases(h, a) -> None:
    rt = h.runtime
    # 并联审批: one waiting for online pre-review, one in parallel review, one with the bank branch
    rt.start(a["qiye"], None, one_form("闽江数字科技有限公司"), item="NZ-001")
    c = rt.start(a["qiye"], None, one_form("榕城智造有限公司"), item="NZ-001")
    _complete(h, a["yushen"], c.id, "online_prereview", {"prereview_decision": "pass"})
    _complete(h, a["neizi"], c.id, "accept_domestic", ACCEPTED)
    h.ratings.rate(a["qiye"], c.id, 4, "预审意见很清楚", "portal")  # 好差评 at 受理
    _complete(h, a["gongshang"], c.id, "review_gongshang", {"gongshang_opinion": "approve", "gongshang_comments": ""})
    c = rt.start(a["qiye"], None, one_form("海峡跨境贸易有限公司", "外资", bank=True), item="WZ-001")
    _complete(h, a["yushen"], c.id, "online_prereview", {"prereview_decision": "pass"})
    _complete(h, a["waizi"], c.id, "accept_foreign", {
        "acceptance": "supplement", "missing_materials": ["投资者主体资格证明（经公证认证）", "住所使用证明"],
        "acceptance_comments": "投资者主体资格证明须经公证认证；住所使用证明须附产权证明"})  # its 补正告知书 is issued
    _portal_samples(h, a)
    # 绿色通道: a key project, eligible
    rt.start(a["qiye"], None, item="LS-001", data={
        "enterprise": {"name": "海川精密制造有限公司", "credit_code": "91320100MA1W8K2Q3X"},
        "project": {"name": "精密轴承生产线", "investment": 12000.0, "investor_type": "外资",
                    "city_introduced": True, "key_project": True},
        "contact": {"name": "王经理", "phone": "025-84561234"}})
    # 会审会: a meeting in three days
    meeting = (clock.local_now() + dt.timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)
    rt.start(a["neizi"], "joint_review", {
        "subject": "某外资企业增资扩产项目会审", "related_case": "BL-20261125-00012", "lead_window": "内资窗口",
        "departments": ["工商", "国税", "质监"], "meeting_at": meeting.replace(tzinfo=None).isoformat(),
        "place": "三楼会审室", "materials": ["项目申请报告", "环评批复"]})
    # 大项目三级联动
    rt.start(a["fuzhuren"], "big_project", {
        "project_name": "年产十万吨新材料项目", "investor": "某某新材料集团", "investment": 150000,
        "approvals_needed": ["企业设立登记", "税务登记", "特种设备使用登记"],
        "description": "市引进重大项目，选址开发区东片。"})
    # 企业迁出挽留
    rt.start(a["shangwu"], "enterprise_exit", {
        "enterprise": {"name": "远航电子科技有限公司", "credit_code": "91320115MA1P4R7T2K", "annual_tax": 3200.0,
                       "annual_output": 56000.0, "employees": 1200},
        "destination": "苏州工业园区", "reasons": "用地扩张受限，外地给予土地和税收优惠", "urgency": "紧急"})
    # 并联审批 accepted earlier, so 督办 and 通知 have something to show at whatever hour the
    # demo is loaded: the departments' reviews (5 working days, counted from the next day) fell
    # due two working days ago on one case and fall due at the next close of office hours,
    # less than a working day away, on the other
    cal = h.deadlines.calendar()
    next_close = cal.add_workdays(clock.now(), 0)
    for name, workdays_before in (("闽侯食品有限公司", 7.5), ("仓山文化传媒有限公司", 5.5)):
        with clock.frozen_at(cal.subtract_working_seconds(next_close, workdays_before * cal.day_seconds)):
            c = rt.start(a["qiye"], None, one_form(name), item="NZ-001")
            _complete(h, a["yushen"], c.id, "online_prereview", {"prereview_decision": "pass"})
            _complete(h, a["neizi"], c.id, "accept_domestic", ACCEPTED)
            _complete(h, a["gongshang"], c.id, "review_gongshang", {"gongshang_opinion": "approve",
                                                                    "gongshang_comments": ""})
    _complaint_samples(h, a)
    h.deadlines.sweep()


def _complaint_samples(h, a) -> None:
    """意见建议/投诉 at every step, one closed with a misconduct on 审批问责; a round of 回访
    of the enterprises served today, one reached (its suggestion raised), one tried again."""
    done = h.runtime.cases(a["qiye"], status="completed")[0][0]
    step = next(t for t in h.tasks.case_tasks(done.id, status="completed")
                if t.element_id == "handle_immediate_domestic")
    about = {"about_case": done.number, "about_task": step.id}
    steps = [
        ("classify", a["qiye"], "portal", {"kind": "suggestion", "subject": "建议增加午间延时服务",
                                           "content": "中午十二点到一点半窗口不办理，上班族只能请假来办。"}),
        ("investigate", a["neizi"], "counter", {"kind": "complaint", "subject": "叫号系统经常跳号",
                                                "content": "取号后等候一小时被跳过。", "contact_name": "林女士",
                                                "contact_phone": "13905910001"}),
        ("rectify", a["jiancha"], "supervision", {"kind": "complaint", "subject": "社会事务窗口午休提前离岗",
                                                  "content": "驻厅监察巡查发现 11:40 窗口无人。"}),
        ("reply", a["xietiao"], "phone", {"kind": "complaint", "subject": "办事指南材料清单与窗口要求不一致",
                                          "content": "电话反映：指南未列出的材料窗口也要求提交。",
                                          "contact_name": "陈先生", "contact_phone": "0591-83330000"}),
        ("close", a["qiye"], "portal", {"kind": "complaint", "subject": "补领营业执照时态度生硬",
                                        "content": "窗口人员不耐烦，解释不清楚。", **about}),
        ("closed", a["qiye"], "portal", {"kind": "complaint", "subject": "补领执照被要求额外提交材料",
                                         "content": "遗失声明已登报，仍被要求另开证明。", **about}),
    ]
    for upto, actor, channel, data in steps:
        c = h.complaints.submit(actor, channel, data)
        finding = "rude" if upto == "close" else "wrong" if upto == "closed" else "none"
        dept = "社会事务窗口" if upto == "rectify" else "内资窗口"
        worker = a["shehui"] if upto == "rectify" else a["neizi"]
        holds = finding != "none" or upto == "rectify"
        for element, who, values in (
                ("classify", a["xietiao"], {"kind": finding if finding != "none" else data["kind"], "department": dept,
                                            "investigate_days": 5}),
                ("investigate", worker, {"findings": "经调取监控和办件记录核实。", "substantiated": holds,
                                         "misconduct": finding}),
                ("rectify", worker, {"measures": "批评教育，业务培训。", "result": "已向当事人致歉并完成整改。"}),
                ("reply", a["xietiao"], {"reply": "经核实，已整改，感谢您的监督。", "way": "online"})):
            if upto == element:
                break
            if element == "rectify" and not holds:
                continue
            _complete(h, who, c.case_id, element, values)
        if upto == "closed":
            h.complaints.close(a["jiancha"], c.id, {"opinion": "查实错批，予以问责。", "accountable": True})
    today = clock.local_now().date()
    rnd = h.visits.plan(a["xietiao"], "本日办结企业回访", today, today)
    visits = h.visits.round(a["xietiao"], rnd.id)[1]
    _complete(h, a["xietiao"], visits[0].case_id, "call", {
        "method": "phone", "reached": True, "satisfaction": 5, "q_once": "yes", "q_fees": "no", "q_attitude": "yes",
        "suggestion": "希望办事指南增加材料样表下载。"})
    h.visits.suggest(a["xietiao"], visits[0].id)
    if len(visits) > 1:
        _complete(h, a["xietiao"], visits[1].case_id, "call", {"method": "phone", "reached": False})


def _assessment(h, a, echo) -> None:
    """百分考核: the default scheme saved, the last quarter published with an entry of each kind
    (a deduction with its reason, an addition for 活动参与), an entry in this quarter's draft."""
    from engine import assessment_scheme
    from engine.assessment import previous_quarter, quarter_of

    office = a["xietiao"]
    if h.assessment.scheme().version == 0:
        scheme = assessment_scheme.default()
        for rules in scheme["stars"].values():
            rules["min_ratings"] = 0  # the demo's last quarter had no ratings: stars by score alone
        h.assessment.save_scheme(office, scheme)
    last = previous_quarter(quarter_of(clock.now()))
    if last in h.assessment.published_quarters():
        echo(f"百分考核: {last} published already")
        return
    h.assessment.add_entry(office, last, {"item": "D1", "subject_kind": "window", "subject": "社会事务窗口",
                                          "points": -1, "reason": "驻厅监察巡查：午休时段窗口提前离岗十分钟"})
    h.assessment.add_entry(a["jiancha"], last, {"item": "E1", "subject_kind": "person", "subject": "jianshe",
                                                "points": -0.5, "reason": "未佩戴工作牌上岗"})
    h.assessment.add_entry(office, last, {"item": "F1", "subject_kind": "window", "subject": "外资窗口", "points": 2,
                                          "reason": "参加全区政务服务技能竞赛，获团体二等奖"})
    h.assessment.add_entry(office, last, {"item": "F1", "subject_kind": "person", "subject": "waizi", "points": 2,
                                          "reason": "大厅“服务之星”读书分享会主讲"})
    h.assessment.publish(office, last)
    h.assessment.add_entry(office, quarter_of(clock.now()), {
        "item": "D1", "subject_kind": "person", "subject": "neizi", "points": -1, "reason": "考勤抽查：迟到一次"})
    echo(f"百分考核: {last} published, with its star windows; entries in this quarter's draft")

from tests.conftest import DIAGRAMS


def test_dmn_then_multi_instance_collects_every_answer(h):
    gs = h.user("gs", groups=["工商"])
    gt = h.user("gt", groups=["国税"])
    h.deploy(DIAGRAMS / "mi_dmn.bpmn", DIAGRAMS / "eligibility.dmn")
    case = h.hall.runtime.start(gs, "mi_dmn", {"amount": 8000, "departments": ["工商", "国税"]})
    tasks = h.open_tasks(case.id, "opinion")
    assert sorted(t.candidate_groups[0] for t in tasks) == ["国税", "工商"]
    assert h.hall.runtime.case(case.id).data["eligible"] is True
    for t in tasks:
        who = gs if t.candidate_groups == ["工商"] else gt
        h.hall.tasks.complete(who, t.id, {"agree": True, "opinion": f"{t.candidate_groups[0]}同意"})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed"
    assert case.data["agreed"] is True
    assert sorted(d["opinion"] for d in case.data["depts"]) == ["国税同意", "工商同意"]


def test_each_instance_task_knows_its_item(h):
    gs = h.user("gs", groups=["工商"])
    h.deploy(DIAGRAMS / "mi_dmn.bpmn", DIAGRAMS / "eligibility.dmn")
    case = h.hall.runtime.start(gs, "mi_dmn", {"amount": 10, "departments": ["工商", "国税"]})
    tasks = h.open_tasks(case.id, "opinion")
    assert sorted(t.context["dept"]["name"] for t in tasks) == ["国税", "工商"]
    mine = next(t for t in tasks if t.context["dept"]["name"] == "工商")
    assert h.hall.tasks.visible_data(mine)["dept"] == {"name": "工商", "group": "工商"}
    ended = h.hall.runtime
    for t in tasks:
        h.hall.tasks.complete(h.user(f"u{t.id}", groups=t.candidate_groups), t.id, {"agree": False})
    assert [(e.action, e.element_id) for e in ended.events(case.id)][-1] == ("ended", "end")

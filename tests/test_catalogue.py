"""The service catalogue (事项目录): versions, checks, the API, the public 办事指南 pages, the CLI."""

import json
import re

import pytest

from tests.conftest import DIAGRAMS
from tests.ui import test_pages as pages

browse = pages.browse  # a person signed in


def item(**changes) -> dict:
    base = {
        "code": "NZ-001", "name": "内资企业设立登记", "category": "domestic", "departments": ["工商"],
        "kind": "promised", "legal_days": 15, "promised_days": 3,
        "materials": [{"name": "公司登记（备案）申请书", "original": True, "copies": 1, "required": True,
                       "sample": "https://example.gov.cn/forms/sqs.pdf"},
                      {"name": "住所使用证明", "original": False, "copies": 1, "required": True, "tolerable": True}],
        "fees": [], "place": "行政服务中心一楼内资窗口", "hours": "周一至周五 9:00-12:00 13:30-17:30",
        "phone": "0591-87654321", "basis": "《中华人民共和国公司法》", "process_id": "parallel5", "online": True,
    }
    base.update(changes)
    return base


@pytest.fixture
def owners(h):
    h.user("owner", roles=["process_owner"])
    h.user("clerk", groups=["window"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    return h


def put(client, h, data, user="owner", code=None):
    return client.put(f"/api/v1/catalogue/{code or data['code']}", json=data, headers=h.token(user))


def test_an_item_saved_gets_a_version_and_a_change_another(client, owners):
    r = put(client, owners, item())
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert first["version"] == 1 and first["saved_by"] == "owner"
    assert first["materials"][1] == {"name": "住所使用证明", "original": False, "copies": 1, "required": True,
                                     "tolerable": True, "departments": [], "sample": None}
    again = put(client, owners, item())  # nothing new: no version
    assert again.status_code == 200 and again.get_json()["version"] == 1
    changed = put(client, owners, item(promised_days=2, fees=[{"name": "工本费", "amount": 10, "basis": "物价局"}]))
    assert changed.status_code == 201 and changed.get_json()["version"] == 2
    assert changed.get_json()["fees"] == [{"name": "工本费", "amount": "10.00", "basis": "物价局"}]

    # read by anyone, no token: the latest, an earlier version, every version
    assert client.get("/api/v1/catalogue/NZ-001").get_json()["promised_days"] == 2
    assert client.get("/api/v1/catalogue/NZ-001?version=1").get_json()["promised_days"] == 3
    assert [v["version"] for v in client.get("/api/v1/catalogue/NZ-001/versions").get_json()] == [1, 2]
    assert client.get("/api/v1/catalogue/NZ-001?version=3").status_code == 404
    assert client.get("/api/v1/catalogue/NONE").status_code == 404


def test_the_catalogue_lists_the_latest_versions_and_searches(client, owners):
    put(client, owners, item())
    put(client, owners, item(name="内资企业设立登记（新）"))
    put(client, owners, item(code="WZ-001", name="外资企业设立登记", category="foreign", departments=["商务", "工商"]))
    put(client, owners, item(code="KZ-1", name="刻章备案", kind="immediate", promised_days=0, legal_days=1,
                             departments=["公安"], process_id=None, online=False))
    listed = client.get("/api/v1/catalogue").get_json()
    assert [(i["code"], i["version"]) for i in listed] == [("KZ-1", 1), ("NZ-001", 2), ("WZ-001", 1)]
    assert [i["code"] for i in client.get("/api/v1/catalogue?q=外资").get_json()] == ["WZ-001"]
    assert [i["code"] for i in client.get("/api/v1/catalogue?q=wz-").get_json()] == ["WZ-001"]  # any case
    assert [i["code"] for i in client.get("/api/v1/catalogue?category=domestic").get_json()] == ["KZ-1", "NZ-001"]
    assert client.get("/api/v1/catalogue?q=%25").get_json() == []  # a wildcard is a character
    assert client.get("/api/v1/catalogue?category=other").status_code == 422


@pytest.mark.parametrize("changes, field", [
    ({"kind": "immediate"}, "promised_days"),  # a 即办件 promises nothing
    ({"promised_days": 20}, "promised_days"),  # more than the law allows
    ({"promised_days": 0}, "promised_days"),
    ({"category": "内资"}, "category"),
    ({"code": "A B"}, "code"),
    ({"legal_days": 1000}, "legal_days"),
    ({"departments": []}, "departments"),
    ({"online": True, "process_id": None}, "process_id"),
    ({"materials": [{"name": "甲"}, {"name": "甲"}]}, "materials"),
    ({"materials": [{"name": "甲", "required": False, "tolerable": True}]}, "materials"),
    ({"materials": [{"name": "甲", "sample": "javascript:alert(1)"}]}, "materials"),
    ({"fees": [{"name": "费", "amount": -1}]}, "fees"),
    ({"phone": "<script>"}, "phone"),
    ({"name": "名" * 201}, "name"),
    ({"surprise": 1}, "surprise"),
])
def test_a_wrong_item_is_refused_naming_the_field_and_nothing_is_saved(client, owners, changes, field):
    r = put(client, owners, item(**changes), code="NZ-001")
    assert r.status_code == 422, r.get_json()
    assert field in json.dumps(r.get_json(), ensure_ascii=False)
    assert client.get("/api/v1/catalogue/NZ-001").status_code == 404


def test_an_unknown_process_and_a_code_that_is_not_the_path_are_refused(client, owners):
    r = put(client, owners, item(process_id="nothing"))
    assert r.status_code == 422 and "nothing" in r.get_json()["message"]
    r = put(client, owners, item(), code="OTHER")
    assert r.status_code == 422 and "code" in r.get_json()["errors"]


def test_only_process_owners_and_admins_edit_the_catalogue(client, owners):
    assert put(client, owners, item(), user="clerk").status_code == 403
    assert client.put("/api/v1/catalogue/NZ-001", json=item()).status_code == 401
    assert client.get("/api/v1/catalogue").get_json() == []


def test_a_catalogue_loads_all_or_nothing(owners):
    from engine.errors import Invalid
    from engine.identity import actor_of

    owner = actor_of(owners.hall.identity.user("owner"))
    cat = owners.hall.catalogue
    with pytest.raises(Invalid) as e:
        cat.load(owner, [item(), item(code="WZ-001", category="foreign", legal_days=-1)])
    assert "item 2 (WZ-001)" in e.value.message and "legal_days" in e.value.message
    assert cat.items() == []
    with pytest.raises(Invalid):
        cat.load(owner, [item(), item()])  # one code twice
    saved = cat.load(owner, [item(), item(code="WZ-001", category="foreign")])
    assert [(r.code, r.version, new) for r, new in saved] == [("NZ-001", 1, True), ("WZ-001", 1, True)]


def test_the_guide_pages_are_public_searchable_and_printable(client, owners):
    put(client, owners, item(fees=[{"name": "工本费", "amount": "10", "basis": "物价局文件"}]))
    put(client, owners, item(code="KZ-1", name="刻章备案", kind="immediate", promised_days=0, legal_days=1,
                             departments=["公安"], process_id=None, online=False, materials=[]))
    page = client.get("/guide")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "内资企业设立登记" in text and "刻章备案" in text
    found = client.get("/guide?q=刻章").get_data(as_text=True)
    assert "刻章备案" in found and "内资企业设立登记" not in found
    guide = client.get("/guide/NZ-001")
    assert guide.status_code == 200
    body = guide.get_data(as_text=True)
    for words in ("承诺件", "法定时限", "15", "承诺时限", "3", "住所使用证明", "容缺", "工本费", "10.00",
                  "物价局文件", "0591-87654321", "《中华人民共和国公司法》", "可网上办理", "@media print"):
        assert words in body, words
    assert 'href="https://example.gov.cn/forms/sqs.pdf"' in body
    immediate = client.get("/guide/KZ-1").get_data(as_text=True)
    assert "即办件" in immediate and "免费" in immediate
    missing = client.get("/guide/NONE")
    assert missing.status_code == 404 and "事项 NONE 不存在" in missing.get_data(as_text=True)
    assert client.get("/guide/NZ-001?version=1").status_code == 200
    assert client.get(f"/guide/NZ-001?version={2**70}").status_code == 404  # beyond any integer column


def test_the_cli_loads_and_exports_a_catalogue(owners, app, tmp_path):
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps([item(), item(code="WZ-001", category="foreign")], ensure_ascii=False))
    runner = app.test_cli_runner()
    r = runner.invoke(args=["catalogue", "load", str(catalogue)])
    assert r.exit_code == 0, r.output
    assert "NZ-001: version 1" in r.output and "WZ-001: version 1" in r.output
    again = runner.invoke(args=["catalogue", "load", str(catalogue)])
    assert "NZ-001: unchanged (version 1)" in again.output
    out = runner.invoke(args=["catalogue", "export"])
    exported = json.loads(out.output)
    assert [i["code"] for i in exported] == ["NZ-001", "WZ-001"]
    catalogue.write_text(json.dumps(exported, ensure_ascii=False))  # an export loads as it is
    assert "unchanged" in runner.invoke(args=["catalogue", "load", str(catalogue)]).output
    catalogue.write_text("[{\"code\": 1}]")
    bad = runner.invoke(args=["catalogue", "load", str(catalogue)])
    assert bad.exit_code != 0 and "item 1" in bad.output


def test_a_process_owner_edits_an_item_on_its_page(client, owners, browse):
    put(client, owners, item())
    web = browse("owner")
    listing = web.get("/models/catalogue").text
    assert "NZ-001" in listing and "/models/catalogue/NZ-001/edit" in listing
    form = web.get("/models/catalogue/NZ-001/edit").text
    assert 'value="内资企业设立登记"' in form and "住所使用证明" in form and "工商</textarea>" in form
    fields = {"code": "NZ-001", "name": "内资企业设立登记", "category": "domestic", "departments": "工商\n质监",
              "kind": "promised", "legal_days": "15", "promised_days": "2",
              "materials[0].name": "公司登记（备案）申请书", "materials[0].original": "on",
              "materials[0].original.present": "1", "materials[0].copies": "1", "materials[0].required": "on",
              "materials[0].required.present": "1", "materials[0].tolerable.present": "1",
              "fees[0].name": "工本费", "fees[0].amount": "5", "place": "一楼", "hours": "工作日", "phone": "12345",
              "basis": "公司法", "process_id": "parallel5", "online": "on", "online.present": "1"}
    saved = web.post("/models/catalogue/NZ-001/edit", data=fields)
    assert saved.status_code == 302, re.findall(r"field-error[^<]*<", saved.text)
    assert saved.headers["Location"].endswith("/guide/NZ-001")
    latest = client.get("/api/v1/catalogue/NZ-001").get_json()
    assert (latest["version"], latest["promised_days"], latest["departments"]) == (2, 2, ["工商", "质监"])
    assert latest["fees"] == [{"name": "工本费", "amount": "5.00", "basis": ""}]
    assert [m["name"] for m in latest["materials"]] == ["公司登记（备案）申请书"]
    wrong = web.post("/models/catalogue/NZ-001/edit", data={**fields, "promised_days": "30"})
    assert wrong.status_code == 422 and "field-error" in wrong.text
    assert client.get("/api/v1/catalogue/NZ-001").get_json()["version"] == 2
    new = web.post("/models/catalogue/new", data={**fields, "code": "NZ-002", "name": "新事项"})
    assert new.status_code == 302 and client.get("/api/v1/catalogue/NZ-002").get_json()["version"] == 1
    assert browse("clerk").get("/models/catalogue").status_code == 403


def test_a_workbook_round_trips_and_a_hall_kept_sheet_loads(owners, app, tmp_path):
    import openpyxl

    runner = app.test_cli_runner()
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps([item(fees=[{"name": "工本费", "amount": "12.50", "basis": "物价局"}]),
                                     item(code="KZ-1", name="刻章备案", kind="immediate", promised_days=0, legal_days=1,
                                          process_id=None, online=False, materials=[], category="social")],
                                    ensure_ascii=False))
    assert runner.invoke(args=["catalogue", "load", str(catalogue)]).exit_code == 0
    book = tmp_path / "catalogue.xlsx"
    r = runner.invoke(args=["catalogue", "export", "--xlsx", str(book)])
    assert r.exit_code == 0 and "2 items" in r.output
    sheets = openpyxl.load_workbook(book)
    assert sheets.sheetnames == ["事项", "申请材料", "收费标准"]
    rows = list(sheets["事项"].iter_rows(values_only=True))
    assert rows[0][:5] == ("事项编码", "事项名称", "办理窗口", "办理部门", "办件类型")
    assert rows[2][:5] == ("KZ-1", "刻章备案", "社会事务", "工商", "即办件")  # the words halls use
    assert "unchanged" in runner.invoke(args=["catalogue", "load", str(book)]).output  # it reads back as it was

    # a sheet as a hall keeps it: numbers typed as numbers, blank rows, departments with commas
    sheets["事项"].append(["GS-9", "执照补领", "内资", "工商，质监", "即办件", 1, 0, "一楼", None, 87654321,
                         None, None, "否"])
    sheets["事项"].append([None] * 13)
    sheets["申请材料"].append(["GS-9", "遗失声明", "否", 2, "是", "否", None])
    sheets.save(book)
    out = runner.invoke(args=["catalogue", "load", str(book)]).output
    assert "GS-9: version 1" in out, out
    added = owners.hall.catalogue.item("GS-9")
    assert (added.departments, added.phone, added.category) == (["工商", "质监"], "87654321", "domestic")
    assert added.materials == [{"name": "遗失声明", "original": False, "copies": 2, "required": True,
                                "tolerable": False, "departments": [], "sample": None}]

    sheets["事项"].append(["GS-9", "执照补领（重复）", "内资", "工商", "即办件", 1, 0, None, None, None,
                         None, None, "否"])
    sheets.save(book)
    twice = runner.invoke(args=["catalogue", "load", str(book)])
    assert twice.exit_code != 0 and "GS-9 again" in twice.output
    sheets["事项"].delete_rows(sheets["事项"].max_row)
    sheets["申请材料"].append(["NOPE", "x", "是", 1, "是", "否", None])
    sheets.save(book)
    bad = runner.invoke(args=["catalogue", "load", str(book)])
    assert bad.exit_code != 0 and "申请材料, row" in bad.output and "NOPE" in bad.output


def test_a_workbook_that_is_not_one_or_unpacks_too_far_is_refused(owners, tmp_path, monkeypatch):
    import io
    import zipfile

    from engine import catalogue_sheets
    from engine.errors import Invalid

    with pytest.raises(Invalid, match="not an XLSX"):
        catalogue_sheets.read(io.BytesIO(b"PK not really"))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"\0" * (2 * 2**20))  # 2 MiB of nothing packs to a few KiB
    monkeypatch.setattr(catalogue_sheets, "MAX_UNPACKED", 2**20)
    with pytest.raises(Invalid, match="unpacks to more than"):
        catalogue_sheets.read(io.BytesIO(bomb.getvalue()))


def test_a_process_owner_downloads_and_imports_the_workbook_on_the_catalogue_page(client, owners, browse):
    import io

    import openpyxl

    put(client, owners, item())
    web = browse("owner")
    page = web.get("/models/catalogue").text
    assert "/models/catalogue.xlsx" in page and 'action="/models/catalogue/import"' in page
    download = web.get("/models/catalogue.xlsx")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    book["事项"].cell(row=2, column=7, value=1)  # 承诺时限 from 3 to 1 working day
    changed = io.BytesIO()
    book.save(changed)
    r = web.post("/models/catalogue/import", data={"file": (io.BytesIO(changed.getvalue()), "catalogue.xlsx")},
                 content_type="multipart/form-data")
    assert r.status_code == 302
    assert "已导入 1 项，其中 1 项生成新版本" in web.get("/models/catalogue").text
    assert client.get("/api/v1/catalogue/NZ-001").get_json()["promised_days"] == 1
    bad = web.post("/models/catalogue/import", data={"file": (io.BytesIO(b"not a workbook"), "x.xlsx")},
                   content_type="multipart/form-data")
    assert bad.status_code == 302 and "flash error" in web.get("/models/catalogue").text
    assert client.get("/api/v1/catalogue/NZ-001").get_json()["version"] == 2
    assert browse("clerk").get("/models/catalogue.xlsx").status_code == 403


def test_a_large_catalogue_comes_a_page_at_a_time(client, owners, browse):
    from engine.identity import actor_of

    owner = actor_of(owners.hall.identity.user("owner"))
    owners.hall.catalogue.load(owner, [item(code=f"X-{n:03d}", name=f"事项{n:03d}", process_id=None, online=False)
                                       for n in range(60)])
    r = client.get("/api/v1/catalogue?page=2&page_size=50")
    assert [i["code"] for i in r.get_json()] == [f"X-{n:03d}" for n in range(50, 60)]
    assert json.loads(r.headers["X-Pagination"])["total"] == 60
    assert "materials" not in r.get_json()[0]  # a list shows the terms; the item has the rest
    assert client.get("/api/v1/catalogue?page_size=1000").status_code == 422
    first, second = client.get("/guide").text, client.get("/guide?page=2").text
    assert "事项049" in first and "事项050" not in first and "事项050" in second and "共 60 项" in second
    assert client.get(f"/guide?page={10**30}").status_code == 200  # past the end: an empty page, not a 500
    assert browse("owner").get(f"/cases?page={10**30}").status_code == 200

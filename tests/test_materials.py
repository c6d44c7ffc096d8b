"""A case's materials: files per material of its item, in versions, typed by their bytes,
bounded in size, shown and served only to those who may see the case."""

import io
import zipfile

import pytest

from app import create_app
from tests import test_filing
from tests.processes.test_parallel_approval import application
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, flashes, text

browse = pages.browse  # a person signed in
filing = test_filing.filing  # a hall with the 并联审批 process and its catalogue item

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def ofd(root_entry="OFD.xml") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(root_entry, "<ofd:OFD/>")
    return out.getvalue()


@pytest.fixture
def case(filing):
    h = filing
    h.user("jiancha", roles=["supervisor"])
    h.user("other", groups=["申请人"], roles=["applicant"])
    return h.hall.runtime.start(h.qiye, None, application(), item="NZ-001")


def upload(client, h, case_id, body, material="公司章程", filename="章程.pdf", user="qiye"):
    return client.post(f"/api/v1/cases/{case_id}/files", query_string={"material": material, "filename": filename},
                       data=body, headers={**h.token(user), "Content-Type": "application/octet-stream"})


def stored(h) -> list:
    root = h.hall.materials.store.root
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_files_are_kept_in_versions_and_served_back_whole(client, filing, case):
    h = filing
    r = upload(client, h, case.id, PDF)
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert (first["material"], first["version"], first["content_type"], first["size"], first["uploaded_by"]) == (
        "公司章程", 1, "application/pdf", len(PDF), "qiye")
    second = upload(client, h, case.id, PDF + b"% revised\n", filename="章程（修订）.pdf").get_json()
    assert second["version"] == 2
    listed = client.get(f"/api/v1/cases/{case.id}/files", headers=h.token("neizi")).get_json()
    assert [(f["material"], f["version"]) for f in listed] == [("公司章程", 2), ("公司章程", 1)]
    r = client.get(f"/api/v1/cases/{case.id}/files/{first['id']}", headers=h.token("neizi"))
    assert r.status_code == 200 and r.data == PDF  # the earlier version is still there, unchanged
    assert r.headers["Content-Type"] == "application/pdf" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment")
    events = [e for e in h.hall.runtime.events(case.id) if e.action == "material_added"]
    assert [e.detail for e in events] == [{"material": "公司章程", "filename": "章程.pdf", "version": 1},
                                          {"material": "公司章程", "filename": "章程（修订）.pdf", "version": 2}]
    # a form's file field does as well as a body sent whole
    r = client.post(f"/api/v1/cases/{case.id}/files", query_string={"material": "住所使用证明"},
                    data={"file": (io.BytesIO(PNG), "../../etc/租赁合同.png")}, headers=h.token("neizi"),
                    content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["filename"] == "租赁合同.png"  # no folders in a name


@pytest.mark.parametrize("body, name, kind", [
    (PNG, "scan.pdf", "image/png"),  # the bytes say what it is, whatever the name
    (JPEG, "scan.jpg", "image/jpeg"),
    (ofd(), "licence.ofd", "application/ofd"),
])
def test_the_type_is_read_from_the_bytes(client, filing, case, body, name, kind):
    r = upload(client, filing, case.id, body, filename=name)
    assert r.status_code == 201 and r.get_json()["content_type"] == kind
    r = client.get(f"/api/v1/cases/{case.id}/files/{r.get_json()['id']}", headers=filing.token("qiye"))
    assert r.headers["Content-Type"] == kind


@pytest.mark.parametrize("body, name", [
    (b"<html><script>alert(1)</script></html>", "page.pdf"),
    (b"MZ\x90\x00 an executable", "scan.jpg"),
    (ofd("word/document.xml"), "letter.ofd"),  # a zip, but not an OFD
    (b"", "empty.pdf"),
])
def test_a_file_of_another_type_is_refused_and_nothing_is_kept(client, filing, case, body, name):
    r = upload(client, filing, case.id, body, filename=name)
    assert r.status_code == 422 and "file" in r.get_json()["errors"]
    assert client.get(f"/api/v1/cases/{case.id}/files", headers=filing.token("qiye")).get_json() == []
    assert stored(filing) == []


def test_a_file_too_large_is_refused_with_413_and_nothing_is_kept(client, filing, case):
    filing.hall.materials.max_bytes = 1024
    r = upload(client, filing, case.id, PDF + b"0" * 2048)
    assert r.status_code == 413 and "file" in r.get_json()["errors"]
    assert stored(filing) == []
    assert upload(client, filing, case.id, PDF).status_code == 201


def test_a_material_the_item_does_not_ask_for_is_refused_naming_the_field(client, filing, case):
    r = upload(client, filing, case.id, PDF, material="营业执照")
    assert r.status_code == 422 and "material" in r.get_json()["errors"]
    assert "公司章程" in r.get_json()["message"] and "其他材料" in r.get_json()["message"]
    assert upload(client, filing, case.id, PDF, material="其他材料").status_code == 201


def test_only_those_who_may_see_the_case_read_its_files(client, filing, case):
    h = filing
    file_id = upload(client, h, case.id, PDF).get_json()["id"]
    assert upload(client, h, case.id, PDF, user="other").status_code == 403  # another enterprise
    assert client.get(f"/api/v1/cases/{case.id}/files/{file_id}", headers=h.token("other")).status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}/files", headers=h.token("other")).status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}/files/{file_id}", headers=h.token("jiancha")).status_code == 200
    assert upload(client, h, case.id, PDF, user="jiancha").status_code == 403  # the supervisor reads
    assert upload(client, h, case.id, PDF, user="neizi").status_code == 201  # taken in at the window
    assert client.get(f"/api/v1/cases/{case.id}/files/{file_id}").status_code == 401
    assert client.get(f"/api/v1/cases/{case.id + 1}/files/{file_id}", headers=h.token("jiancha")).status_code == 404


def test_another_node_on_the_same_store_serves_what_one_stored(client, filing, case, db_url, tmp_path):
    file_id = upload(client, filing, case.id, PDF).get_json()["id"]
    other = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "test", "TESTING": True,
                        "HALL_SCHEDULER": "off", "HALL_FILES_DIR": str(tmp_path / "files")})
    token = filing.token("qiye")
    with other.app_context():
        r = other.test_client().get(f"/api/v1/cases/{case.id}/files/{file_id}", headers=token)
        assert r.status_code == 200 and r.data == PDF
        from webapp import db
        db.engine.dispose()


def test_the_case_page_checks_the_materials_and_takes_a_file(filing, case, browse):
    web = browse("neizi")
    page = doc(web.get(f"/cases/{case.id}"))
    rows = page.xpath("//table[contains(@class,'materials')]//tbody/tr")
    assert [text(r.xpath("./td")[0]) for r in rows] == ["公司章程", "住所使用证明"]
    assert "missing" in rows[0].get("class") and "可容缺" in text(rows[1])
    assert page.xpath("//form[contains(@class,'upload-form')]//select[@name='material']/option/@value") == [
        "公司章程", "住所使用证明", "其他材料"]
    form = {"material": "公司章程", "file": (io.BytesIO(PDF), "章程.pdf")}
    r = web.post(f"/cases/{case.id}/files", form, content_type="multipart/form-data")
    assert r.status_code == 302
    shown = web.get(r.headers["Location"])
    assert "已上传：公司章程（第 1 版）" in flashes(shown)
    page = doc(shown)
    row = page.xpath("//table[contains(@class,'materials')]//tbody/tr")[0]
    assert "missing" not in (row.get("class") or "") and row.xpath(".//a/text()") == ["章程.pdf"]
    assert web.get(row.xpath(".//a/@href")[0]).data == PDF
    assert "上传材料" in text(page.xpath("//ol[@class='timeline']")[0])
    bad = {**form, "file": (io.BytesIO(b"plain text"), "a.pdf")}
    shown = web.get(web.post(f"/cases/{case.id}/files", bad, content_type="multipart/form-data").headers["Location"])
    assert any("只接受 PDF、JPEG、PNG、OFD" in f for f in flashes(shown))


def test_a_case_keeps_a_bounded_number_of_files(client, filing, case, monkeypatch):
    from engine import materials
    monkeypatch.setattr(materials, "MAX_FILES_PER_CASE", 2)
    assert [upload(client, filing, case.id, PDF).status_code for _ in range(3)] == [201, 201, 409]
    assert len(stored(filing)) == 2  # the one refused left nothing behind

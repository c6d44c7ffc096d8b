"""办事指南 in a browser: a visitor, not signed in, finds an item, reads it and prints it."""

from tests.conftest import DIAGRAMS


def test_a_visitor_finds_an_item_reads_its_guide_and_prints_it_without_the_pages_chrome(h, page):
    owner = h.user("owner", roles=["process_owner"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    base = {"category": "domestic", "departments": ["工商"], "kind": "promised", "legal_days": 15,
            "promised_days": 3, "process_id": "parallel5", "online": True}
    h.hall.catalogue.load(owner, [
        {**base, "code": "NZ-001", "name": "内资企业设立登记",
         "materials": [{"name": "住所使用证明", "original": False, "tolerable": True}]},
        {**base, "code": "GA-001", "name": "印章刻制备案", "category": "social", "kind": "immediate",
         "promised_days": 0, "legal_days": 1, "process_id": None, "online": False}])

    page.goto("/")  # not signed in: the sign-in page offers the guides
    page.click("text=办事指南")
    page.wait_for_url("**/guide")
    page.fill("input[name=q]", "印章")
    page.click("button[type=submit]")
    assert page.locator("table.list tbody tr").count() == 1
    page.click("text=印章刻制备案")
    assert "即办件" in page.locator("main").inner_text() and "免费" in page.locator("main").inner_text()

    page.goto("/guide/NZ-001")
    text = page.locator("main").inner_text()
    assert "住所使用证明" in text and "必需，可容缺受理" in text and "3 个工作日" in text
    assert page.locator("header.topbar").is_visible() and page.locator("[data-print]").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible() and not page.locator("[data-print]").is_visible()
    assert page.locator("text=住所使用证明").is_visible()

"""The 百分考核's scheme: categories, items and their points (100 in all), the rule each item
is scored by, and the rules of 星级服务窗口 / 星级服务标兵. A scheme is data 管理办 edits;
`check` is what any scheme must be, `DEFAULT` the one in force until 管理办 saves its own.

An item's rule turns the hall's records of the quarter into a deduction, at most its `cap`:
  manual          nothing from the data: only 管理办's and the supervisor's entries
  accountability  `per` points for each 审批问责 record of the `kinds` named (late, a misconduct...)
  poor_rating     `per` points for each 差评 (level 1 or 2)
  satisfaction    `per` points for each percentage point the 满意率 (ratings not 差评) is below `threshold`
  complaint       `per` points for each complaint found true (its 整改 step was done)
  on_time         `per` points for each percentage point of tasks done on time below `threshold`
Entries add to or take from any item; an item's score stays within 0 and its points plus
its `bonus` (what additions may add beyond full marks)."""

from __future__ import annotations

import copy
import math
import re

from engine.deadlines import ACCOUNTABILITY_KINDS
from engine.errors import Invalid

RULES = ("manual", "accountability", "poor_rating", "satisfaction", "complaint", "on_time")
RATE_RULES = ("satisfaction", "on_time")
MAX_CAUSES = 20  # the records an item lists as its causes: a rule's cap is reached within them
MAX_ITEMS = 60
MAX_CATEGORIES = 12
NAME_CHARS = 60
CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
STAR_RULES = {"min_score": (0, 200), "min_satisfaction": (0, 100), "min_ratings": (0, 1_000_000),
              "max_poor": (0, 1_000_000), "max_complaints": (0, 1_000_000), "most": (0, 100)}


def _item(code, name, points, rule="manual", cap=None, per=None, bonus=0, **more) -> dict:
    return {"code": code, "name": name, "points": points, "rule": rule,
            "cap": points if cap is None and rule != "manual" else cap, "per": per, "bonus": bonus, **more}


DEFAULT = {
    "categories": [
        {"name": "行政审批", "items": [
            _item("A1", "越权审批", 4, "accountability", per=4, kinds=["ultra_vires"]),
            _item("A2", "错批、漏批", 5, "accountability", per=2.5, kinds=["wrong", "missed"]),
            _item("A3", "不合理退批", 4, "accountability", per=2, kinds=["bad_return"]),
            _item("A4", "一次性告知、材料审查规范", 4),
            _item("A5", "超时审批", 3, "accountability", per=1.5, kinds=["overtime"])]},
        {"name": "办事效率", "items": [
            _item("B1", "超期办结", 6, "accountability", per=1, kinds=["late"]),
            _item("B2", "按时办结率", 6, "on_time", per=1, threshold=98),
            _item("B3", "即办件当场办结", 3),
            _item("B4", "延期办理", 3, "accountability", per=0.5, kinds=["extension"]),
            _item("B5", "网上咨询及时答复", 2)]},
        {"name": "工作作风", "items": [
            _item("C1", "服务态度生硬", 4, "accountability", per=2, kinds=["rude"]),
            _item("C2", "办事敷衍推诿", 4, "accountability", per=2, kinds=["shirking"]),
            _item("C3", "差评", 4, "poor_rating", per=1),
            _item("C4", "满意率", 3, "satisfaction", per=1, threshold=99)]},
        {"name": "工作纪律", "items": [
            _item("D1", "考勤（迟到、早退、脱岗）", 5),
            _item("D2", "投诉查实", 5, "complaint", per=2.5),
            _item("D3", "工作时间做与工作无关的事", 5)]},
        {"name": "文明办公", "items": [
            _item("E1", "着装仪表、挂牌上岗", 4),
            _item("E2", "窗口环境卫生", 3),
            _item("E3", "文明用语", 3)]},
        {"name": "活动参与", "items": [
            _item("F1", "参加大厅组织的学习、培训和活动", 3, bonus=3),
            _item("F2", "信息报送与宣传", 2, bonus=2)]},
        {"name": "廉洁自律", "items": [
            _item("G1", "违规收费", 8, "accountability", per=4, kinds=["illegal_fee"]),
            _item("G2", "吃拿卡要、收受礼品", 7)]},
    ],
    "stars": {
        "windows": {"min_score": 95, "min_satisfaction": 99, "min_ratings": 1, "max_poor": 0, "max_complaints": 0,
                    "most": 2},
        "persons": {"min_score": 95, "min_satisfaction": 99, "min_ratings": 1, "max_poor": 0, "max_complaints": 0,
                    "most": 5},
    },
}


def default() -> dict:
    return copy.deepcopy(DEFAULT)


def items(scheme: dict) -> list[dict]:
    """The scheme's items in order, each with its category's name."""
    return [{**item, "category": c["name"]} for c in scheme["categories"] for item in c["items"]]


def _number(value, field: str, low: float, high: float, errors: dict) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high or round(value, 2) != value:
        errors.setdefault(field, []).append(f"a number from {low:g} to {high:g}, at most 2 decimals")
        return None
    return value


def _text(value, field: str, most: int, errors: dict) -> str | None:
    value = value.strip() if isinstance(value, str) else value
    if not isinstance(value, str) or not 1 <= len(value) <= most:
        errors.setdefault(field, []).append(f"a text of 1 to {most} characters")
        return None
    return value


def check(scheme) -> dict:
    """The scheme as it is kept, or Invalid naming each field wrong (`categories.0.items.2.cap`)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(scheme, dict) or not isinstance(scheme.get("categories"), list):
        raise Invalid("a scheme is an object with categories", {"categories": ["a list of categories"]})
    unknown = sorted(set(scheme) - {"categories", "stars"})
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}", {k: ["unknown field"] for k in unknown})
    cats = scheme["categories"]
    if not 1 <= len(cats) <= MAX_CATEGORIES:
        errors["categories"] = [f"1 to {MAX_CATEGORIES} categories"]
    out = {"categories": [], "stars": {}}
    codes, count, total = set(), 0, 0.0
    for ci, cat in enumerate(cats[:MAX_CATEGORIES]):
        at = f"categories.{ci}"
        if not isinstance(cat, dict) or not isinstance(cat.get("items"), list) or not cat["items"]:
            errors.setdefault(at, []).append("an object with a name and a list of items")
            continue
        kept = {"name": _text(cat.get("name"), f"{at}.name", NAME_CHARS, errors), "items": []}
        for ii, item in enumerate(cat["items"]):
            count += 1
            if count > MAX_ITEMS:
                errors["categories"] = [f"at most {MAX_ITEMS} items in all"]
                break
            kept["items"].append(_check_item(item, f"{at}.items.{ii}", codes, errors))
            total += kept["items"][-1].get("points") or 0
        out["categories"].append(kept)
    if not errors and round(total, 2) != 100:
        errors["points"] = [f"the items' points add up to {total:g}, not 100"]
    stars = scheme.get("stars") if "stars" in scheme else DEFAULT["stars"]
    for of in ("windows", "persons"):
        given = stars.get(of) if isinstance(stars, dict) else None
        if not isinstance(given, dict):
            errors.setdefault(f"stars.{of}", []).append("an object of rules")
            continue
        rules = {}
        for name, (low, high) in STAR_RULES.items():
            value = _number(given.get(name), f"stars.{of}.{name}", low, high, errors)
            rules[name] = int(value) if value is not None and name in ("min_ratings", "max_poor", "max_complaints",
                                                                         "most") else value
        if extra := sorted(set(given) - set(STAR_RULES)):
            errors.setdefault(f"stars.{of}", []).append(f"unknown rule(s): {', '.join(extra)}")
        out["stars"][of] = rules
    if errors:
        raise Invalid("the scheme is not valid: " + ", ".join(sorted(errors)), errors)
    return out


def _check_item(item, at: str, codes: set, errors: dict) -> dict:
    if not isinstance(item, dict):
        errors.setdefault(at, []).append("an object")
        return {}
    code = item.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        errors.setdefault(f"{at}.code", []).append("1 to 16 letters, digits, - or _")
    elif code in codes:
        errors.setdefault(f"{at}.code", []).append(f"{code} is used twice")
    codes.add(code)
    rule = item.get("rule", "manual")
    if rule not in RULES:
        errors.setdefault(f"{at}.rule", []).append(f"one of {', '.join(RULES)}")
    points = _number(item.get("points"), f"{at}.points", 0.5, 100, errors)
    kept = {"code": code, "name": _text(item.get("name"), f"{at}.name", NAME_CHARS, errors), "points": points,
            "rule": rule, "bonus": _number(item.get("bonus", 0) or 0, f"{at}.bonus", 0, 20, errors),
            "cap": None, "per": None}
    if rule in RULES and rule != "manual":
        cap = _number(item.get("cap"), f"{at}.cap", 0, points or 100, errors)
        per = _number(item.get("per"), f"{at}.per", 0.01, 100, errors)
        if cap is not None and per is not None and rule not in RATE_RULES and cap / per > MAX_CAUSES:
            errors.setdefault(f"{at}.per", []).append(
                f"its cap is reached within {MAX_CAUSES} records: per at least {cap / MAX_CAUSES:g}")
        kept.update(cap=cap, per=per)
    if rule == "accountability":
        kinds = item.get("kinds")
        if not isinstance(kinds, list) or not kinds or any(k not in ACCOUNTABILITY_KINDS for k in kinds):
            errors.setdefault(f"{at}.kinds", []).append(f"a list of: {', '.join(ACCOUNTABILITY_KINDS)}")
        else:
            kept["kinds"] = sorted(set(kinds), key=list(ACCOUNTABILITY_KINDS).index)
    if rule in RATE_RULES:
        kept["threshold"] = _number(item.get("threshold"), f"{at}.threshold", 0, 100, errors)
    return kept

"""Forms of the parallel_approval process (并联审批, 一单通).

`bl_application` is the one form (一单通) the applicant fills once: the enterprise basics and
one section per department that reviews the case. Each department's review form writes its
own `<dept>_opinion` / `<dept>_comments` variables, so the parallel answers never overwrite
each other when the branches join.
"""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from forms import register

# ---------------------------------------------------------------------------------------
# 统一社会信用代码 (GB 32100-2015) and 组织机构代码 (GB 11714) with their check characters.

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG = re.compile(r"^[0-9A-Z]{8}-?[0-9X]$")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def credit_code_ok(code: str) -> bool:
    if not isinstance(code, str) or not _USCC.match(code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


def organization_code_ok(code: str) -> bool:
    if not isinstance(code, str) or not _ORG.match(code):
        return False
    code = code.replace("-", "")
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(code[:8], _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return code[8] == {10: "X", 11: "0"}.get(check, str(check))


def _check(predicate, message: str):
    def validator(value):
        if not predicate(value):
            raise ValidationError(message)
    return validator


def _choices(*pairs: tuple[str, str]) -> dict:
    """validate + metadata of a choice field: [(value, 中文), ...]."""
    return {"validate": validate.OneOf([v for v, _ in pairs], labels=[label for _, label in pairs]),
            "choices": list(pairs)}


def _choice_field(label: str, *pairs: tuple[str, str], **kw) -> fields.String:
    c = _choices(*pairs)
    return fields.String(validate=c["validate"], metadata={"label": label, "choices": c["choices"]}, **kw)


def _text(label: str, max_len: int = 200, required: bool = True, multiline: bool = False, **kw) -> fields.String:
    meta = {"label": label}
    if multiline:
        meta["multiline"] = True
    validators = [validate.Length(min=1 if required else 0, max=max_len)]
    if not required:
        kw.setdefault("load_default", None)
        kw.setdefault("allow_none", True)
    return fields.String(required=required, validate=validators, metadata=meta, **kw)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------------------------------
# 一单通: the one application form

CATEGORIES = ("内资", "外资", "建设", "社会事务")


class EnterpriseSection(Schema):
    name = _text("企业名称", 100)
    credit_code = fields.String(required=True, validate=_check(
        credit_code_ok, "须为18位统一社会信用代码（校验位正确） / must be a valid 18-character credit code"),
        metadata={"label": "统一社会信用代码"})
    legal_rep = _text("法定代表人", 50)
    address = _text("住所", 200)
    phone = fields.String(required=True, validate=validate.Regexp(
        _PHONE, error="须为手机号或带区号的固定电话 / must be a mobile or landline number"),
        metadata={"label": "联系电话"})
    registered_capital = fields.Float(required=True, validate=validate.Range(
        min=0, min_inclusive=False, max=100_000_000), metadata={"label": "注册资本（万元）"})
    category = _choice_field("办件类别", *[(c, c) for c in CATEGORIES], required=True)


class GongshangSection(Schema):
    business_scope = _text("经营范围", 2000, multiline=True)
    company_type = _choice_field("企业类型", *[(t, t) for t in (
        "有限责任公司", "股份有限公司", "个人独资企业", "合伙企业", "外商投资企业", "分公司")], required=True)


class GuoshuiSection(Schema):
    tax_type = _choice_field("纳税人类型", ("一般纳税人", "一般纳税人"), ("小规模纳税人", "小规模纳税人"),
                             required=True)
    invoice_types = fields.List(
        _choice_field("发票种类", ("增值税专用发票", "增值税专用发票"), ("增值税普通发票", "增值税普通发票")),
        load_default=list, metadata={"label": "申领发票种类"})


class DishuiSection(Schema):
    employee_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1_000_000),
                                    metadata={"label": "从业人数"})
    accounting_system = _choice_field("适用会计制度", ("企业会计准则", "企业会计准则"),
                                      ("小企业会计准则", "小企业会计准则"), required=True)
    social_insurance = fields.Boolean(load_default=True, metadata={"label": "同时办理社会保险登记"})


class ZhijianSection(Schema):
    organization_code = fields.String(required=True, validate=_check(
        organization_code_ok, "须为9位组织机构代码（校验位正确） / must be a valid 9-character organization code"),
        metadata={"label": "组织机构代码"})
    product_standards = _text("执行标准", 1000, required=False, multiline=True)


SEAL_TYPES = ("公章", "财务专用章", "发票专用章", "合同专用章", "法定代表人名章")


class GonganSection(Schema):
    seal_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=20),
                                metadata={"label": "刻章数量"})
    seal_types = fields.List(_choice_field("印章种类", *[(s, s) for s in SEAL_TYPES]), required=True,
                             validate=validate.Length(min=1), metadata={"label": "印章种类"})

    @validates_schema
    def _enough_seals(self, data, **kwargs):
        if data["seal_count"] < len(set(data["seal_types"])):
            raise ValidationError("刻章数量少于所选印章种类 / fewer seals than seal types", "seal_count")


class BankSection(Schema):
    open_account = fields.Boolean(load_default=False, metadata={"label": "是否开立基本户"})
    bank_name = _text("开户银行", 100, required=False)

    @validates_schema
    def _bank_named(self, data, **kwargs):
        if data.get("open_account") and _blank(data.get("bank_name")):
            raise ValidationError("开立基本户须填写开户银行 / name the bank", "bank_name")


@register("bl_application")
class ApplicationForm(Schema):
    """一单通: one form, one section per department."""

    enterprise = fields.Nested(EnterpriseSection, required=True, metadata={"label": "企业基本信息"})
    gongshang = fields.Nested(GongshangSection, required=True, metadata={"label": "工商登记"})
    guoshui = fields.Nested(GuoshuiSection, required=True, metadata={"label": "国税登记"})
    dishui = fields.Nested(DishuiSection, required=True, metadata={"label": "地税登记"})
    zhijian = fields.Nested(ZhijianSection, required=True, metadata={"label": "质监（组织机构代码）"})
    gongan = fields.Nested(GonganSection, required=True, metadata={"label": "公安（刻章备案）"})
    bank = fields.Nested(BankSection, load_default=lambda: {"open_account": False, "bank_name": None},
                         metadata={"label": "银行开户（选填）"})

    @validates_schema
    def _codes_agree(self, data, **kwargs):
        code = data["enterprise"]["credit_code"]
        org = data["zhijian"]["organization_code"].replace("-", "")
        if code[8:17] != org:
            raise ValidationError({"zhijian": {"organization_code": [
                "与统一社会信用代码第9-17位不一致 / must match characters 9-17 of the credit code"]}})


class ResubmissionForm(ApplicationForm):
    """重新提交: the sections of the one form the applicant corrected (each optional)."""

    enterprise = fields.Nested(EnterpriseSection, metadata={"label": "企业基本信息"})
    gongshang = fields.Nested(GongshangSection, metadata={"label": "工商登记"})
    guoshui = fields.Nested(GuoshuiSection, metadata={"label": "国税登记"})
    dishui = fields.Nested(DishuiSection, metadata={"label": "地税登记"})
    zhijian = fields.Nested(ZhijianSection, metadata={"label": "质监（组织机构代码）"})
    gongan = fields.Nested(GonganSection, metadata={"label": "公安（刻章备案）"})
    bank = fields.Nested(BankSection, metadata={"label": "银行开户（选填）"})

    @validates_schema
    def _codes_agree(self, data, **kwargs):
        if "enterprise" in data and "zhijian" in data:
            super()._codes_agree(data, **kwargs)


register("bl_resubmission")(ResubmissionForm)


@register("bl_supplement")
class SupplementForm(Schema):
    """补正材料: what the applicant brought (at the window, or uploaded on the portal)."""

    materials = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                            validate=validate.Length(min=1, max=50, error="列明补交的材料 / list the materials"),
                            metadata={"label": "补交的材料"})
    supplement_note = fields.String(validate=validate.Length(max=2000),
                                    metadata={"label": "补正说明", "multiline": True})


# ---------------------------------------------------------------------------------------
# 网上预审, 窗口受理, 即办件

@register("bl_prereview")
class PrereviewForm(Schema):
    prereview_decision = _choice_field("预审结论", ("pass", "通过"), ("return", "退回修改"), ("reject", "不予通过"),
                                       required=True)
    prereview_comments = _text("预审意见", 2000, required=False, multiline=True)

    @validates_schema
    def _explained(self, data, **kwargs):
        if data["prereview_decision"] != "pass" and _blank(data.get("prereview_comments")):
            raise ValidationError("退回或不予通过须说明理由 / give the reason", "prereview_comments")


def _material_list(label: str) -> fields.List:
    """Names of the case's item's materials (the window's checklist: the task page offers
    them; the engine checks them against the item, see the task's `materialCheck`)."""
    return fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                       validate=validate.Length(max=100), metadata={"label": label})


@register("bl_acceptance")
class AcceptanceForm(Schema):
    acceptance = _choice_field("受理意见", ("accept", "受理"), ("tolerate", "容缺受理"), ("supplement", "补正"),
                               ("reject", "不予受理"), required=True)
    received_materials = _material_list("已收材料")
    tolerated_materials = _material_list("容缺材料（后补）")
    promised_by = fields.Date(load_default=None, allow_none=True, metadata={"label": "容缺材料承诺补交日期"})
    missing_materials = _material_list("需补正的材料")
    reject_reason = _text("不予受理理由", 2000, required=False, multiline=True)
    acceptance_comments = _text("受理说明", 2000, required=False, multiline=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        if data["acceptance"] == "supplement" and not data.get("missing_materials"):
            raise ValidationError("补正须列明所缺材料 / list the missing materials", "missing_materials")
        if data["acceptance"] == "reject" and _blank(data.get("reject_reason")):
            raise ValidationError("不予受理须说明理由 / give the reason", "reject_reason")
        if data["acceptance"] == "tolerate" and data.get("promised_by") is None:
            raise ValidationError("容缺受理须约定补交日期 / give the date the materials are promised by",
                                  "promised_by")


OUTCOMES = (("approved", "准予许可"), ("refused", "不予许可"))


@register("bl_immediate")
class ImmediateForm(Schema):
    """即办件: the window decides and issues on the spot."""

    outcome = _choice_field("办理结果", *OUTCOMES, required=True)
    licence_no = _text("证照编号", 50, required=False)
    refusal_reason = _text("不予许可理由", 2000, required=False, multiline=True)
    remarks = _text("办结说明", 2000, required=False, multiline=True)

    @validates_schema
    def _consistent(self, data, **kwargs):
        if data["outcome"] == "approved" and _blank(data.get("licence_no")):
            raise ValidationError("准予许可须填写证照编号 / give the licence number", "licence_no")
        if data["outcome"] == "refused" and _blank(data.get("refusal_reason")):
            raise ValidationError("不予许可须说明理由 / give the reason", "refusal_reason")


# ---------------------------------------------------------------------------------------
# 并联审查: one form per department, each writing its own variables

DEPARTMENTS = (("gongshang", "工商"), ("guoshui", "国税"), ("dishui", "地税"), ("zhijian", "质监"),
               ("gongan", "公安"), ("bank", "银行"))


class _ReviewForm(Schema):
    prefix = ""

    @validates_schema
    def _explained(self, data, **kwargs):
        if data[f"{self.prefix}_opinion"] == "reject" and _blank(data.get(f"{self.prefix}_comments")):
            raise ValidationError("不同意须说明理由 / give the reason", f"{self.prefix}_comments")


def _review_form(prefix: str, dept: str) -> type[Schema]:
    attrs = {
        "prefix": prefix,
        f"{prefix}_opinion": _choice_field(f"{dept}审查意见", ("approve", "同意"), ("reject", "不同意"),
                                           required=True),
        f"{prefix}_comments": _text(f"{dept}审查说明", 2000, required=False, multiline=True),
        "__doc__": f"{dept}审查意见.",
    }
    return register(f"bl_review_{prefix}")(type(f"Review{prefix.title()}Form", (_ReviewForm,), attrs))


REVIEW_FORMS = {prefix: _review_form(prefix, dept) for prefix, dept in DEPARTMENTS}


# ---------------------------------------------------------------------------------------
# 汇总办结 (lead department 工商)

@register("bl_issue_licences")
class IssueLicencesForm(Schema):
    licence_no = _text("营业执照编号", 50)
    issue_remarks = _text("办结说明", 2000, required=False, multiline=True)


@register("bl_refusal")
class RefusalForm(Schema):
    refusal_reason = _text("不予许可理由", 2000, multiline=True)


# ---------------------------------------------------------------------------------------
# what the process itself writes into the case (the process property `caseData`): the
# labels its page shows those values under

class _ReviewRecord(Schema):
    department = fields.String(metadata={"label": "部门"})
    opinion = _choice_field("审查意见", ("approve", "同意"), ("reject", "不同意"))
    comments = fields.String(metadata={"label": "审查说明"})


@register("bl_case")
class CaseData(Schema):
    reviews = fields.List(fields.Nested(_ReviewRecord), metadata={"label": "并联审查意见"})
    rejected_departments = fields.List(fields.String(), metadata={"label": "不同意的部门"})
    outcome = _choice_field("办理结果", *OUTCOMES)
    completed_at = fields.DateTime(metadata={"label": "办结时间"})
    supplement = fields.Nested(SupplementForm, metadata={"label": "补正材料"})
    resubmission = fields.Nested(ResubmissionForm, metadata={"label": "重新提交的内容"})

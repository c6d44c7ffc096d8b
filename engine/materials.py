"""Materials (申请材料): the files attached to a case, one or more per material of its item.

A file is streamed to a `FileStore` (a directory every node of the hall shares) a chunk at a
time, never held whole in memory; its type is read from its first bytes, not from its
name, and only PDF, JPEG, PNG and OFD are taken. Uploading to a material that has a file
adds a version: the earlier ones are kept. Only those who may see the case read its files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

from engine import clock, db, history
from engine.errors import Conflict, Forbidden, HallError, Invalid, NotFound
from engine.identity import WINDOW_ROLES, Actor
from engine.models import Case, CaseFile, CatalogueItem

TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "application/ofd": "OFD"}
OTHER = "其他材料"  # what a file that is none of the item's materials is filed under
MAX_BYTES = 40 * 2**20
MAX_FILES_PER_CASE = 200  # versions included: a case's materials and their 补正 rounds
MAX_FILES_PER_DRAFT = 50  # a filing not yet submitted
CHUNK = 64 * 2**10
NAME_CHARS = CaseFile.__table__.c.filename.type.length
MATERIAL_CHARS = CaseFile.__table__.c.material.type.length


class TooLarge(HallError):
    status = 413


def sniff(head: bytes, path: Path) -> str | None:
    """The content type of a stored file by its bytes, if it is one the hall takes."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"PK\x03\x04"):  # OFD (GB/T 33190) is a zip whose root holds OFD.xml
        try:
            with zipfile.ZipFile(path) as z:
                if "OFD.xml" in z.namelist():
                    return "application/ofd"
        except (zipfile.BadZipFile, OSError):
            return None
    return None


CHECKLIST = ("received_materials", "tolerated_materials", "missing_materials")  # a window's lists of materials


def intake_errors(terms: list[dict], values: dict, decision: str) -> dict[str, list[str]]:
    """What is wrong with a window's 受理 (`values[decision]` "accept" or "tolerate") against
    the materials the case's item asks for: every required material received, or, where the
    item allows it, tolerated (容缺) to follow by a date; nothing named the item does not ask
    for. Other decisions (补正, 不予受理) are not checked."""
    if values.get(decision) not in ("accept", "tolerate"):
        return {}
    items = {m["name"]: m for m in terms}
    received, tolerated = set(values.get("received_materials") or []), set(values.get("tolerated_materials") or [])
    errors: dict[str, list[str]] = {}
    for field, named in (("received_materials", received), ("tolerated_materials", tolerated)):
        if unknown := sorted(named - set(items)):
            errors.setdefault(field, []).append(f"not materials of this item: {', '.join(unknown)}")
    if untolerable := sorted(n for n in tolerated if n in items and not items[n].get("tolerable")):
        errors.setdefault("tolerated_materials", []).append(f"may not follow later (容缺): {', '.join(untolerable)}")
    if missing := sorted(n for n, m in items.items() if m.get("required", True) and n not in received | tolerated):
        errors.setdefault("received_materials", []).append(
            f"required and not received: {', '.join(missing)}; ask for them (补正)")
    if values[decision] == "accept" and tolerated:
        errors.setdefault(decision, []).append("materials follow later: this is 容缺受理 (tolerate)")
    if values[decision] == "tolerate" and not tolerated:
        errors.setdefault("tolerated_materials", []).append("name the materials that follow later")
    return errors


class FileStore:
    """Files under one directory, by a key the store makes. On several machines the
    directory is one every node mounts (NFS, say): what one node stores, all read."""

    def __init__(self, root):
        self.root = Path(root)

    def write(self, stream, limit: int) -> tuple[str, int, str, str]:
        """Copy `stream` (anything with `read(n)`) in; (key, size, SHA-256, content type).
        Past `limit` bytes, or of a type the hall does not take, nothing is kept."""
        spool = self.root / "incoming"
        spool.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        path = spool / name
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            with open(path, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"the file is larger than {limit // 2**20} MB", errors={"file": ["too large"]})
                    if len(head) < 8:
                        head += chunk[:8]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())  # on disk before the database says the file is there
            if size == 0:
                raise Invalid("the file is empty", {"file": ["empty"]})
            kind = sniff(head, path)
            if kind is None:
                raise Invalid("only PDF, JPEG, PNG and OFD files are taken (judged by their content)",
                              {"file": ["not PDF, JPEG, PNG or OFD"]})
            key = f"{name[:2]}/{name}"
            (self.root / name[:2]).mkdir(exist_ok=True)
            os.replace(path, self.root / key)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return key, size, digest.hexdigest(), kind

    def path(self, key: str) -> Path:
        return self.root / key

    def remove(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


def clean_name(filename: str | None) -> str:
    """A file's name as shown and offered on download: no folders, no control characters."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:NAME_CHARS] or "file"


def _added(row: CaseFile, process_id: str | None, at) -> dict:
    return history.event(row.case_id, row.uploaded_by, "material_added", process_id=process_id, at=at,
                         detail={"material": row.material, "filename": row.filename, "version": row.version})


class Materials:
    def __init__(self, session, runtime, store: FileStore, max_bytes: int = MAX_BYTES):
        self.session = session
        self.runtime = runtime
        self.store = store
        self.max_bytes = max_bytes

    def add(self, actor: Actor, case_id: int, material: str, filename: str | None, stream):
        """Attach a file to a case under one of its item's materials (or OTHER): by the
        case's applicant, or at the window. Returns the file's row."""
        case = self.runtime.visible_case(actor, case_id)
        if not (actor.has(*WINDOW_ROLES) or (actor.is_applicant_only and actor.owns(case))):
            raise Forbidden("files are added by the case's applicant, or at the window")
        if case.status != "running":
            raise Conflict(f"case {case.number} is {case.status}: its materials are closed")
        self._check_material(material, self.names(case))
        return self._file(actor, CaseFile.case_id, case_id, material, filename, stream, MAX_FILES_PER_CASE,
                          case.process_id)

    def add_to_draft(self, actor: Actor, draft, material: str, filename: str | None, stream):
        """Attach a file to a draft (engine.portal, its owner's): it goes with the case filed."""
        item = self.session.scalar(sa.select(CatalogueItem).where(CatalogueItem.code == draft.item_code)
                                   .order_by(CatalogueItem.version.desc()).limit(1))
        self.session.rollback()
        self._check_material(material, [m["name"] for m in (item.materials if item else [])] + [OTHER])
        return self._file(actor, CaseFile.draft_id, draft.id, material, filename, stream, MAX_FILES_PER_DRAFT)

    @staticmethod
    def _check_material(material, names: list[str]) -> None:
        if not isinstance(material, str) or not material.strip() or len(material) > MATERIAL_CHARS:
            raise Invalid("material is required", {"material": ["required"]})
        if names and material not in names:
            raise Invalid(f"material must be one of: {', '.join(names)}", {"material": ["one of the item's materials"]})

    def _file(self, actor: Actor, owner, owner_id: int, material: str, filename: str | None, stream, most: int,
              process_id: str | None = None):
        """Store a file and its row under a case or a draft (`owner` is the column), if it
        has fewer than `most`."""
        if self.session.scalar(sa.select(sa.func.count()).where(owner == owner_id)) >= most:
            self.session.rollback()
            raise Conflict(f"at most {most} files are kept together")
        self.session.rollback()
        key, size, sha, kind = self.store.write(stream, self.max_bytes)
        name = clean_name(filename)
        now = clock.now()
        try:
            with db.write(self.session) as s:
                version = (s.scalar(sa.select(sa.func.max(CaseFile.version))
                                    .where(owner == owner_id, CaseFile.material == material)) or 0) + 1
                row = CaseFile(material=material, version=version, filename=name, content_type=kind, size=size,
                               sha256=sha, storage_key=key, uploaded_by=actor.username, uploaded_at=now,
                               **{owner.key: owner_id})
                s.add(row)
                s.flush()
                if owner is CaseFile.case_id:
                    history.record(s, [_added(row, process_id, now)])
                s.expunge(row)
        except BaseException as e:
            self.store.remove(key)
            if isinstance(e, sa.exc.IntegrityError) and db.unique_violation(e):
                raise Conflict("another file was added to this material meanwhile; send it again") from None
            raise
        return row

    def hand_over(self, draft_id: int, case_id: int) -> None:
        """A draft's files become its case's, each in the case's history."""
        with db.write(self.session) as s:
            rows = list(s.scalars(sa.select(CaseFile).where(CaseFile.draft_id == draft_id).order_by(CaseFile.id)))
            process_id = s.scalar(sa.select(Case.process_id).where(Case.id == case_id))
            for row in rows:
                row.case_id, row.draft_id = case_id, None
            history.record(s, [_added(row, process_id, row.uploaded_at) for row in rows])

    def of_draft(self, draft_id: int) -> list[CaseFile]:
        rows = list(self.session.scalars(sa.select(CaseFile).where(CaseFile.draft_id == draft_id)
                                         .order_by(CaseFile.material, CaseFile.version.desc())))
        self.session.rollback()
        return rows

    def names(self, case) -> list[str]:
        """The materials a case's files go under: its item's, then OTHER ([] without an item:
        any name)."""
        return [m["name"] for m in self.terms(case)] + [OTHER] if case.item_id is not None else []

    def terms(self, case) -> list[dict]:
        """The materials the item a case was filed under asks for (name, original, copies,
        required, tolerable, sample): what the window checks."""
        if case.item_id is None:
            return []
        materials = self.session.scalar(sa.select(CatalogueItem.materials).where(CatalogueItem.id == case.item_id))
        self.session.rollback()
        return materials or []

    def checklist(self, actor: Actor, case, departments: set[str] | None = None) -> list[SimpleNamespace]:
        """A case's materials as the window checks them: each the item asks for (its terms
        and its files, newest first), then any other material that has files. With
        `departments` (a department's part of the case), only what those departments review:
        the materials naming one of them, and those naming none."""
        files: dict[str, list[CaseFile]] = {}
        for f in self.of_case(actor, case.id):
            files.setdefault(f.material, []).append(f)
        rows = [SimpleNamespace(name=m["name"], terms=m, files=files.pop(m["name"], [])) for m in self.terms(case)]
        if departments is not None:
            return [r for r in rows if not r.terms.get("departments") or departments & set(r.terms["departments"])]
        return rows + [SimpleNamespace(name=name, terms=None, files=fs) for name, fs in files.items()]

    def of_case(self, actor: Actor, case_id: int) -> list[CaseFile]:
        """Every file of a case, every version, by material and newest first."""
        self.runtime.visible_case(actor, case_id)
        rows = list(self.session.scalars(sa.select(CaseFile).where(CaseFile.case_id == case_id)
                                         .order_by(CaseFile.material, CaseFile.version.desc())))
        self.session.rollback()
        return rows

    def get(self, actor: Actor, case_id: int, file_id: int) -> CaseFile:
        self.runtime.visible_case(actor, case_id)
        row = self.session.scalar(sa.select(CaseFile).where(CaseFile.id == file_id, CaseFile.case_id == case_id))
        self.session.rollback()
        if row is None:
            raise NotFound(f"no file {file_id} in case {case_id}")
        return row

    def open(self, actor: Actor, case_id: int, file_id: int):
        """(the file's row, its bytes opened for reading)."""
        row = self.get(actor, case_id, file_id)
        try:
            return row, open(self.store.path(row.storage_key), "rb")
        except FileNotFoundError:
            raise NotFound(f"file {file_id} is missing from the hall's file store") from None

"""Deployed process versions (Camunda's RepositoryService): deploy, lint, list, load specs."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict

import sqlalchemy as sa

from engine import bpmn, clock, db, history
from engine.errors import Forbidden, Invalid, NotFound
from engine.identity import Actor
from engine.models import ProcessVersion

log = logging.getLogger("hall.repository")


def _checksum(files: dict[str, str], main: str) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"main": main, "files": sorted(files.items())}, ensure_ascii=False).encode())
    return h.hexdigest()


class Repository:
    def __init__(self, session, forms, cache_size: int = 64):
        self.session = session
        self.forms = forms
        self._bundles: OrderedDict[int, bpmn.Bundle] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # deploy ------------------------------------------------------------------------
    def deploy(self, uploads: dict[str, bytes | str], actor: Actor, process_id: str | None = None):
        """Validate, lint and store `uploads` ({filename: content}) as the next version.

        Returns (version, created); identical content returns the existing version and
        created=False. Anything wrong raises Invalid with one error per element."""
        if not actor.has("process_owner"):
            raise Forbidden("deploying needs the process_owner role")
        files = self._decode(uploads)
        try:
            bundle = self._build_with_called(files, process_id)
        except bpmn.BadFile as e:
            raise Invalid(str(e), [{"element_id": None, "message": str(e)}]) from None
        except Exception as e:  # parser errors name the element; anything else is still the file's fault
            err = bpmn.validation_error(e)
            raise Invalid(f"the diagram cannot be parsed: {err['message']}", [err]) from None
        problems = bpmn.lint_documents(bundle.documents, self.forms)
        if problems:
            raise Invalid(f"{len(problems)} problem(s) in the diagram", problems)

        files = bundle.files
        checksum = _checksum(files, bundle.main_file)
        with db.write(self.session) as s:
            existing = s.scalar(sa.select(ProcessVersion).where(
                ProcessVersion.process_id == bundle.process_id, ProcessVersion.checksum == checksum))
            if existing is not None:
                return existing, False
            latest = s.scalar(sa.select(sa.func.max(ProcessVersion.version))
                              .where(ProcessVersion.process_id == bundle.process_id)) or 0
            pv = ProcessVersion(
                process_id=bundle.process_id, version=latest + 1, name=bundle.name, checksum=checksum,
                main_file=bundle.main_file, files=dict(sorted(files.items())), case_prefix=bundle.case_prefix,
                starter_groups=bundle.starter_groups, deployed_at=clock.now(), deployed_by=actor.username,
            )
            s.add(pv)
            s.flush()
            history.record(s, [history.event(None, actor.username, "deployed", process_id=pv.process_id,
                                             detail={"version": pv.version, "name": pv.name})])
        log.info("deployed", extra={"process_id": pv.process_id, "version": pv.version, "actor": actor.username})
        return pv, True

    @staticmethod
    def _decode(uploads: dict[str, bytes | str]) -> dict[str, str]:
        if not uploads:
            raise Invalid("no file uploaded; send one or more 'file' parts (.bpmn, .dmn)",
                          [{"element_id": None, "message": "no file"}])
        if len(uploads) > bpmn.MAX_FILES:
            raise Invalid(f"at most {bpmn.MAX_FILES} files per deployment",
                          [{"element_id": None, "message": f"{len(uploads)} files; at most {bpmn.MAX_FILES}"}])
        files = {}
        for name, content in uploads.items():
            if not name.lower().endswith((".bpmn", ".dmn", ".xml")):
                raise Invalid(f"{name}: only .bpmn and .dmn files are accepted",
                              [{"element_id": None, "message": f"{name}: not a .bpmn or .dmn file"}])
            raw = content if isinstance(content, bytes) else content.encode("utf-8")
            if len(raw) > bpmn.MAX_FILE_BYTES:
                msg = f"{name}: larger than {bpmn.MAX_FILE_BYTES // 1024} KiB"
                raise Invalid(msg, [{"element_id": None, "message": msg}])
            try:
                files[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                msg = f"{name}: not UTF-8 text"
                raise Invalid(msg, [{"element_id": None, "message": msg}]) from None
        return files

    def _build_with_called(self, files: dict[str, str], process_id: str | None) -> bpmn.Bundle:
        """Build, pulling in the latest deployed version of every process a call activity
        names that the upload does not define (that version is copied into this one)."""
        files = dict(files)
        for _ in range(10):
            defined, called = bpmn.called_processes(files)
            missing = called - defined
            added = False
            for pid in sorted(missing):
                pv = self.latest(pid, required=False)
                if pv is not None:
                    for name, text in pv.files.items():
                        files.setdefault(f"called/{pid}/{name}", text)
                    added = True
            if not added:
                break
        bundle = bpmn.build(files, process_id, validate=True)
        bundle.files = files
        return bundle

    # queries -----------------------------------------------------------------------
    def latest(self, process_id: str, required: bool = True) -> ProcessVersion | None:
        pv = self.session.scalar(sa.select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                 .order_by(ProcessVersion.version.desc()).limit(1))
        if pv is None and required:
            raise NotFound(f"no process '{process_id}'")
        return pv

    def version(self, process_id: str, version: int) -> ProcessVersion:
        pv = self.session.scalar(sa.select(ProcessVersion).where(
            ProcessVersion.process_id == process_id, ProcessVersion.version == version))
        if pv is None:
            raise NotFound(f"no version {version} of process '{process_id}'")
        return pv

    def processes(self) -> list[dict]:
        latest = (sa.select(ProcessVersion.process_id, sa.func.max(ProcessVersion.version).label("v"))
                  .group_by(ProcessVersion.process_id).subquery())
        rows = self.session.execute(
            sa.select(ProcessVersion).join(latest, sa.and_(ProcessVersion.process_id == latest.c.process_id,
                                                           ProcessVersion.version == latest.c.v))
            .order_by(ProcessVersion.process_id)).scalars()
        return [{"process_id": pv.process_id, "name": pv.name, "latest_version": pv.version,
                 "deployed_at": pv.deployed_at, "starter_groups": pv.starter_groups} for pv in rows]

    def versions(self, process_id: str) -> list[ProcessVersion]:
        rows = list(self.session.scalars(sa.select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                         .order_by(ProcessVersion.version.desc())))
        if not rows:
            raise NotFound(f"no process '{process_id}'")
        return rows

    def bundle(self, version_id: int) -> bpmn.Bundle:
        """The parsed specs of a version, parsed once per process and kept in memory."""
        with self._lock:
            b = self._bundles.get(version_id)
            if b is not None:
                self._bundles.move_to_end(version_id)
                return b
        pv = self.session.get(ProcessVersion, version_id)
        if pv is None:
            raise NotFound(f"no process version {version_id}")
        b = bpmn.build(pv.files, pv.process_id)
        with self._lock:
            self._bundles[version_id] = b
            while len(self._bundles) > self._cache_size:
                self._bundles.popitem(last=False)
        return b

    def may_start(self, actor: Actor, pv: ProcessVersion) -> bool:
        if actor.has("admin", "system"):  # the system starts what the hall's rules start (差评整改)
            return True
        if pv.starter_groups:
            return bool(actor.groups & set(pv.starter_groups))
        return actor.has("staff", "coordinator", "director", "applicant", "agent", "process_owner")


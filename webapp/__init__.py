"""Flask glue: the database handle, the engine instance, and the blueprints."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re

import orjson
from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from werkzeug.routing import IntegerConverter

from engine.errors import HallError
from engine.hall import Hall
from engine.models import Base

API_PREFIX = "/api/v1"  # the REST API's root
ID_MAX = 2**63 - 1  # the largest row id (a 64-bit integer column)

db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
migrate = Migrate()


def hall() -> Hall:
    """The engine of the current app."""
    return current_app.extensions["hall"]


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 times (not HTTP dates), Chinese as is; orjson, falling back to json for
    what it does not take (integers beyond 64 bits)."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, (dt.datetime, dt.date, dt.time)):
            return o.isoformat()
        if isinstance(o, decimal.Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)

    def dumps(self, obj, **kwargs) -> str:
        try:
            return orjson.dumps(obj, default=self.default).decode()
        except TypeError:
            return super().dumps(obj, **kwargs)

    def loads(self, s, **kwargs):
        # what request.get_json() reads; a caller with options of its own gets plain json
        return super().loads(s, **kwargs) if kwargs else load_request_json(s)


class BadJSON(ValueError):
    """A request body that is not JSON the hall can keep; the message says why."""


MAX_JSON_DEPTH = 32
_ESCAPED_SURROGATE_OR_NUL = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_ESCAPED_SURROGATE_OR_NUL_BYTES = re.compile(_ESCAPED_SURROGATE_OR_NUL.pattern.encode())


def load_request_json(body: bytes | str):
    """A request's JSON body. Refused (BadJSON) when it is not JSON, or holds what could
    not be stored or sent back: a lone surrogate (\\ud800) or a NUL (\\u0000) in a
    string, NaN, Infinity or a number beyond a float, an integer of more than 4300 digits,
    nesting deeper than MAX_JSON_DEPTH."""
    if isinstance(body, bytes) and not _long_integer_in(body):
        # orjson, several times faster, reads UTF-8 as strictly and refuses NaN, Infinity,
        # numbers beyond a float and lone surrogates itself; it would make an integer of
        # 19 digits or more a float, so those go the slower way. Whatever it refuses goes
        # there too, which says what is wrong.
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            if (_ESCAPED_SURROGATE_OR_NUL_BYTES.search(body) is not None
                    or body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH):
                _check_json(value)
            return value
    try:
        # decoded here, strictly: json.loads would let encoded lone surrogates through
        text = body if isinstance(body, str) else body.decode(json.detect_encoding(body))
        value = json.loads(text, parse_constant=_not_a_number, parse_float=_finite)
    except RecursionError:
        raise BadJSON(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:  # not JSON, not Unicode text, or an integer too long to read
        raise BadJSON(str(e)) from None
    escapes = _ESCAPED_SURROGATE_OR_NUL.search(text) is not None
    # brackets are counted in C; the walk runs only when nesting could be too deep
    if escapes or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        _check_json(value)
    return value


_AS_DIGIT_RUNS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))  # each digit a "0", the rest " "


def _long_integer_in(body: bytes) -> bool:
    """A run of 19 digits or more in `body` (found in C: a regex search would cost several
    times orjson's whole read)."""
    return b"0" * 19 in body.translate(_AS_DIGIT_RUNS)


def _not_a_number(name: str):
    raise BadJSON(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(f"{text} is beyond what a number can hold")
    return value


def _check_json(value) -> None:
    pending = [(value, 1)]
    while pending:
        v, depth = pending.pop()
        if isinstance(v, str):
            if "\x00" in v:
                raise BadJSON("a string holds a NUL character (\\u0000)")
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise BadJSON("a string holds a lone surrogate (\\ud800-\\udfff): not text") from None
        elif isinstance(v, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise BadJSON(f"nested deeper than {MAX_JSON_DEPTH} levels")
            items = [*v.keys(), *v.values()] if isinstance(v, dict) else v
            pending.extend((item, depth + 1) for item in items)


def refuse_nul() -> None:
    """Before every request: no NUL character in the path, the query or a form (PostgreSQL
    cannot hold one in text, and no real input has one). JSON bodies are checked as read."""
    where = _nul_in_request()
    if where:
        raise HallError(f"a NUL character (\\u0000) in {where}: not accepted",
                        errors={"request": [f"NUL in {where}"]})


def _nul_in_request() -> str | None:
    req = request._get_current_object()  # once, not through the proxy at every look
    if "\x00" in req.path:
        return "the path"
    if b"%00" in req.query_string or b"\x00" in req.query_string:
        return "the query"
    if req.mimetype in _FORM_TYPES:
        if any("\x00" in k or "\x00" in v for k, v in req.form.items(multi=True)):
            return "a form field"
        if any("\x00" in (f.filename or "") for f in req.files.values()):
            return "a file name"
    return None


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Scripts only from the hall's own files (a diagram's text never runs as script, whatever it
# holds); no page inside another site's frame.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'")


def security_headers(response):
    """After every request: the browser runs no script but the hall's, guesses no content
    type, and shows no page of the hall framed by another site."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


class IdConverter(IntegerConverter):
    """<int:...> up to the largest number a database integer holds: a larger one names
    nothing (404) instead of overflowing the database's integers further on."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


class LazyCookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions for pages. The API takes bearer tokens only: its requests get
    a read-only empty session, never saved (no cookie work, no `Vary: Cookie`). A page
    request without a session cookie gets an empty session without building a signer."""

    def open_session(self, app, request):
        if request.path.startswith(API_PREFIX):
            return self.null_session_class()
        if request.cookies.get(self.get_cookie_name(app)) is None:
            return self.session_class()
        return super().open_session(app, request)


def uploaded_file(req) -> tuple[str | None, object]:
    """(name, stream) of a file sent as a form's `file` field, or as the whole body (its name
    in the query's `filename`): read a chunk at a time, never whole."""
    if req.mimetype == "multipart/form-data":
        f = req.files.get("file")
        if f is None:
            raise HallError("no file: send it as the form field 'file'", errors={"file": ["required"]})
        return f.filename, f.stream
    return req.args.get("filename"), req.stream


def send_case_file(row, fh):
    """A case's file as a download: streamed, of the type its bytes showed, never shown as a
    page by the browser."""
    return _send(fh, row.content_type, row.filename, row.sha256, attachment=True)


def send_notice(row, fh, number: str):
    """A notice's PDF, opened in the browser to print (the hall wrote it: nothing of a user's runs)."""
    return _send(fh, "application/pdf", f"{number}-{row.title}.pdf", row.sha256, attachment=False)


def _send(fh, mimetype: str, name: str, etag: str, attachment: bool):
    from flask import send_file

    response = send_file(fh, mimetype=mimetype, as_attachment=attachment, download_name=name, etag=etag, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response

"""The REST API under /api/v1 (flask-smorest). A contract: add to it, never change it.

Every error is JSON: {"message": ..., "errors": ...}; engine errors keep their status
(401, 403, 404, 409, 422), malformed requests are 400/422, nothing a client sends is a 500.
"""

from __future__ import annotations

import inspect
import logging
from functools import wraps

import flask_smorest
from flask import g, jsonify, request
from flask_smorest import Api
from marshmallow import RAISE, ValidationError, fields
from webargs.core import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from engine.errors import HallError, Invalid
from webapp import API_PREFIX, BadJSON, load_request_json

log = logging.getLogger("hall.api")


class HallApi(Api):
    def handle_http_exception(self, error: HTTPException):
        messages = (getattr(error, "data", None) or {}).get("messages")
        if messages:
            # webargs: {"json": {field: [...]}} -> {field: [...]}
            errors = {}
            for loc in messages.values():
                errors.update(loc if isinstance(loc, dict) else {"_": loc})
            fields = ", ".join(sorted(errors))
            body = {"message": f"invalid request: {fields}", "errors": errors}
        else:
            body = {"message": error.description or error.name, "errors": {}}
        response = jsonify(body)
        response.status_code = error.code or 500
        for k, v in error.get_headers():  # a 405's Allow, say
            if k.lower() != "content-type":
                response.headers[k] = v
        for k, v in ((getattr(error, "data", None) or {}).get("headers") or {}).items():
            response.headers[k] = v
        return response


api = HallApi()

API_DESCRIPTION = """The hall's REST API. Every request but POST /auth/token carries a bearer token.

What every request is held to, beyond each schema: a JSON body is refused (400, naming why)
when it is not JSON, or holds a lone surrogate (\\ud800) or a NUL anywhere, an integer of
more than 4300 digits, a number beyond a float, NaN or Infinity, or nests deeper than 32
levels; a NUL in the path, the query or a form field is refused too. A date is between
1900-01-01 and 2199-12-31. An id is a positive 64-bit integer (a larger one names nothing:
404). A request is at most 41 MiB (413). Sign-in is throttled: 429 with Retry-After. Data a
form refuses is a 422 naming each field; an invalid diagram, one error per element."""

MAX_PAGE = 1_000_000


class HallParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies as every request of the hall is read."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        try:
            return load_request_json(req.get_data(cache=True))
        except BadJSON as e:
            raise HallError(f"the request body is not usable JSON: {e}", errors={"json": [str(e)]}) from None


class Blueprint(flask_smorest.Blueprint):
    """The API's blueprints: bodies read by HallParser; a page number beyond MAX_PAGE is
    refused (its offset would overflow the database's integers)."""

    ARGUMENTS_PARSER = HallParser()

    def _document_pagination_metadata(self, spec, resp_doc):
        """X-Pagination is a header, so its value is text: JSON text (flask-smorest's
        documented point of change; it documents an object)."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "the page's place in the list, as JSON text: {\"total\", \"total_pages\", "
                           "\"first_page\", \"last_page\", \"page\", \"previous_page\", \"next_page\"}",
            "schema": {"type": "string"}}

    def paginate(self, *args, **kwargs):
        paginated = super().paginate(*args, **kwargs)

        def decorator(func):
            @wraps(func)
            def bounded(*f_args, pagination_parameters, **f_kwargs):
                if pagination_parameters.page > MAX_PAGE:
                    raise Invalid(f"page must be at most {MAX_PAGE}", {"page": [f"at most {MAX_PAGE}"]})
                return func(*f_args, pagination_parameters=pagination_parameters, **f_kwargs)

            return paginated(bounded)

        return decorator

    def direct(self, documented):
        """Serve a busy route (a case read, a completion) straight: the decorators under
        this one document it (the OpenAPI document is theirs), but at run time only the
        token check, the JSON body read and validated as webargs would, and the function's
        own body run. Each layer of webargs and flask-smorest costs little in a loop, but a
        server has their code out of its caches between requests; served this way, a case
        read and a completion take some percent less. The function answers with a
        Response (`views.respond`), which the response decorators would pass on as is."""
        from webapp.auth import authenticated_actor

        view = inspect.unwrap(documented)
        parameters = documented._apidoc.get("arguments", {}).get("parameters", [])
        if any(p["in"] != "json" for p in parameters) or len(parameters) > 1:
            raise TypeError(f"{view.__name__}: only a route with at most a JSON body is served directly")
        schema = parameters[0]["schema"] if parameters else None
        plain = _plain_loader(schema) if schema is not None else None

        @wraps(view)
        def served(*args, **kwargs):
            g.actor = authenticated_actor()
            if schema is not None:
                args = (*args, self._json_body(schema, plain))
            return view(*args, **kwargs)

        served._apidoc = documented._apidoc
        return served

    def _json_body(self, schema, plain=None):
        """The request's JSON body loaded with `schema`, as `arguments` has webargs do it:
        no JSON body is an empty one, and what the schema refuses is the same 422. `plain`
        (`_plain_loader`) loads the bodies it can vouch for without marshmallow."""
        body = self.ARGUMENTS_PARSER._raw_load_json(request)
        if body is missing:
            body = {}
        if plain is not None:
            loaded = plain(body)
            if loaded is not None:
                return loaded
        try:
            return schema.load(body)
        except ValidationError as e:
            abort(self.ARGUMENTS_PARSER.DEFAULT_VALIDATION_STATUS, exc=e, messages={"json": e.messages},
                  schema=schema, headers=None)


_PLAIN_FIELDS = (fields.Raw, fields.String)


def _plain_loader(schema):
    """For a schema of plain fields (Raw, String) with nothing to check beyond their type, a
    function that loads a body as `schema.load` does, or says None where marshmallow must
    look (a missing required field, a wrong type, a null, an unknown key): marshmallow
    then gives its answer, error or not. A body that passes needs no marshmallow at all:
    its load of a completion's body took 9 µs in a loop, this 1 µs, reading the JSON 3 µs.
    None for any other schema."""
    declared = schema.load_fields
    if (schema.many or schema.partial or schema.unknown != RAISE or any(schema._hooks.values())
            or any(type(f) not in _PLAIN_FIELDS or f.validators or f.data_key not in (None, name)
                   or f.attribute not in (None, name) for name, f in declared.items())):
        return None
    texts = {name for name, f in declared.items() if type(f) is fields.String}
    required = {name for name, f in declared.items() if f.required}
    defaults = {name: f.load_default for name, f in declared.items() if f.load_default is not missing}

    def load(body):
        if type(body) is not dict or not required.issubset(body) or not declared.keys() >= body.keys():
            return None
        out = {}
        for name in declared:
            if name in body:
                value = body[name]
                if value is None or (name in texts and type(value) is not str):
                    return None
            elif name in defaults:
                value = defaults[name]() if callable(defaults[name]) else defaults[name]
            else:
                continue
            out[name] = value
        return out

    return load


def init_app(app) -> None:
    app.config.setdefault("API_TITLE", "Hall")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": API_DESCRIPTION}})
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    from webapp.api import cases, deadlines, process_models, ratings, tasks, tokens

    for module in (tokens, process_models, cases, tasks, deadlines, ratings):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.PREFIX)

    @app.errorhandler(HallError)
    def _hall_error(e: HallError):
        response = jsonify(e.payload())
        response.status_code = e.status
        if e.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        if e.extra.get("retry_after"):
            response.headers["Retry-After"] = str(e.extra["retry_after"])
        return response

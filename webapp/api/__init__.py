"""The REST API under /api/v1 (flask-smorest). A contract: add to it, never change it.

Every error is JSON: {"message": ..., "errors": ...}; engine errors keep their status
(401, 403, 404, 409, 422), malformed requests are 400/422, nothing a client sends is a 500.
"""

from __future__ import annotations

import logging
from functools import wraps

import flask_smorest
from flask import jsonify
from flask_smorest import Api
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
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
    """webargs' Flask parser, reading JSON bodies as every request of the hall is read
    (`load_json`, the parser's documented method for the "json" location)."""

    def load_json(self, req, schema):
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





def init_app(app) -> None:
    app.config.setdefault("API_TITLE", "Hall")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": API_DESCRIPTION}})
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    from webapp.api import (
        assessment,
        cases,
        catalogue,
        complaints,
        deadlines,
        external,
        incidents,
        materials,
        moves,
        notices,
        process_models,
        ratings,
        statistics,
        tasks,
        tokens,
        users,
        visits,
    )

    for module in (tokens, process_models, cases, tasks, deadlines, ratings, catalogue, materials, notices,
                   complaints, visits, statistics, users, assessment, incidents, external, moves):
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

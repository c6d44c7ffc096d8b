"""The REST API under /api/v1 (flask-smorest). A contract: add to it, never change it.

Every error is JSON: {"message": ..., "errors": ...}; engine errors keep their status
(401, 403, 404, 409, 422), malformed requests are 400/422, nothing a client sends is a 500.
"""

from __future__ import annotations

import logging

from flask import jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from engine.errors import HallError
from webapp import API_PREFIX

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
        for k, v in ((getattr(error, "data", None) or {}).get("headers") or {}).items():
            response.headers[k] = v
        return response


api = HallApi()


def init_app(app) -> None:
    app.config.setdefault("API_TITLE", "Hall")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    from webapp.api import cases, deadlines, process_models, tasks, tokens

    for module in (tokens, process_models, cases, tasks, deadlines):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.PREFIX)

    @app.errorhandler(HallError)
    def _hall_error(e: HallError):
        response = jsonify(e.payload())
        response.status_code = e.status
        if e.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

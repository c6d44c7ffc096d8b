"""External tasks over the API, on Camunda 7's external-task contract (the paths, the JSON
names, typed variables), so that a Camunda client library works against the hall with its
base URL set to .../api/v1: fetchAndLock, complete, failure, unlock, extendLock."""

from __future__ import annotations

import json

from marshmallow import Schema, fields, validate

from webapp import hall
from webapp.api import Blueprint
from webapp.auth import current_actor, token_required

PREFIX = "/external-task"
blp = Blueprint("api_external", __name__, description="External tasks: other systems' workers fetch, lock, complete")

_TYPES = {bool: "Boolean", int: "Long", float: "Double", str: "String", type(None): "Null"}


def typed(value) -> dict:
    """A value as Camunda's REST API types it; objects and lists as Json."""
    kind = _TYPES.get(type(value))
    return {"value": value, "type": kind} if kind else {"value": json.dumps(value, ensure_ascii=False), "type": "Json"}


def untyped(variables: dict | None) -> dict:
    """Camunda's typed variables as plain values (a Json one parsed)."""
    out = {}
    for name, v in (variables or {}).items():
        value = v.get("value") if isinstance(v, dict) else v
        if isinstance(v, dict) and str(v.get("type", "")).lower() in ("json", "object") and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[name] = value
    return out


class Topic(Schema):
    topicName = fields.String(required=True, validate=validate.Length(min=1, max=100))
    lockDuration = fields.Integer(required=True, strict=True)
    variables = fields.List(fields.String(), load_default=None, validate=validate.Length(max=100))


class FetchAndLock(Schema):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=128))
    maxTasks = fields.Integer(load_default=1, strict=True)
    usePriority = fields.Boolean(load_default=False)
    topics = fields.List(fields.Nested(Topic), required=True)


class Complete(Schema):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=128))
    variables = fields.Dict(load_default=None)
    localVariables = fields.Dict(load_default=None)


class Failure(Schema):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=128))
    errorMessage = fields.String(load_default=None, validate=validate.Length(max=1000))
    errorDetails = fields.String(load_default=None, validate=validate.Length(max=10_000))
    retries = fields.Integer(required=True, strict=True)
    retryTimeout = fields.Integer(load_default=0, strict=True)


class Worker(Schema):
    workerId = fields.String(load_default=None, validate=validate.Length(max=128))


class ExtendLock(Schema):
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=128))
    newDuration = fields.Integer(required=True, strict=True)


class LockedTask(Schema):
    id = fields.String()
    topicName = fields.String()
    workerId = fields.String()
    lockExpirationTime = fields.DateTime()
    processInstanceId = fields.String(metadata={"description": "the case's id"})
    processDefinitionKey = fields.String()
    activityId = fields.String()
    retries = fields.Integer(allow_none=True)
    errorMessage = fields.String(allow_none=True)
    variables = fields.Dict()


class ExternalTaskOut(Schema):
    id = fields.String()
    topicName = fields.String()
    workerId = fields.String(allow_none=True)
    lockExpirationTime = fields.DateTime(allow_none=True)
    processInstanceId = fields.String()
    processDefinitionKey = fields.String()
    activityId = fields.String()
    retries = fields.Integer(allow_none=True)
    errorMessage = fields.String(allow_none=True)
    suspended = fields.Boolean(metadata={"description": "true once an incident holds it"})


@blp.route("/fetchAndLock", methods=["POST"])
@token_required
@blp.arguments(FetchAndLock())
@blp.response(200, LockedTask(many=True))
def fetch_and_lock(body):
    """Lock up to maxTasks tasks of the topics for the worker, oldest first, with the case's
    variables (those named, or all)."""
    tasks = hall().external.fetch_and_lock(current_actor(), body["workerId"], body["maxTasks"], body["topics"])
    return [{"id": str(t["id"]), "topicName": t["topic"], "workerId": t["worker_id"],
             "lockExpirationTime": t["lock_expires_at"], "processInstanceId": str(t["case_id"]),
             "processDefinitionKey": t["process_id"], "activityId": t["element_id"], "retries": t["retries"],
             "errorMessage": t["error_message"], "variables": {k: typed(v) for k, v in t["variables"].items()}}
            for t in tasks]


@blp.route("/<int:task_id>/complete", methods=["POST"])
@token_required
@blp.arguments(Complete())
@blp.response(204)
@blp.alt_response(409, description="not locked by this worker (its lock expired, or another holds it)")
def complete(body, task_id):
    """The work is done: its variables join the case's data and the case goes on."""
    hall().external.complete(current_actor(), task_id, body["workerId"],
                             {**untyped(body["variables"]), **untyped(body["localVariables"])})


@blp.route("/<int:task_id>/failure", methods=["POST"])
@token_required
@blp.arguments(Failure())
@blp.response(204)
def failure(body, task_id):
    """The work failed: fetched again after retryTimeout (ms) while retries are left; with
    retries 0 it is an incident for a person."""
    message = body["errorMessage"] or (body["errorDetails"] or "")[:1000]
    hall().external.failure(current_actor(), task_id, body["workerId"], message, body["retries"],
                            body["retryTimeout"])


@blp.route("/<int:task_id>/unlock", methods=["POST"])
@token_required
@blp.arguments(Worker())
@blp.response(204)
def unlock(body, task_id):
    """Give the task back: the next fetch may take it."""
    hall().external.unlock(current_actor(), task_id, body["workerId"])


@blp.route("/<int:task_id>/extendLock", methods=["POST"])
@token_required
@blp.arguments(ExtendLock())
@blp.response(204)
def extend_lock(body, task_id):
    hall().external.extend_lock(current_actor(), task_id, body["workerId"], body["newDuration"])


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(Schema.from_dict({"topicName": fields.String(validate=validate.Length(max=100))})(),
               location="query")
@blp.response(200, ExternalTaskOut(many=True))
def listing(query):
    """The external tasks waiting, oldest first (a topic's)."""
    return [{"id": str(t.id), "topicName": t.topic, "workerId": t.worker_id, "lockExpirationTime": t.lock_expires_at,
             "processInstanceId": str(t.case_id), "processDefinitionKey": t.process_id, "activityId": t.element_id,
             "retries": t.retries, "errorMessage": t.error_message, "suspended": t.status == "incident"}
            for t in hall().external.listing(current_actor(), query.get("topicName"))]

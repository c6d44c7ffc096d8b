"""Errors the engine raises for a caller to show; each maps to one HTTP status."""

from __future__ import annotations


class HallError(Exception):
    status = 400

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def payload(self) -> dict:
        return {"message": self.message, **self.extra}


class NotFound(HallError):
    status = 404


class Forbidden(HallError):
    status = 403


class Conflict(HallError):
    status = 409


class Invalid(HallError):
    """Input that cannot be accepted. `errors` names each field or BPMN element."""

    status = 422

    def __init__(self, message: str, errors=None):
        super().__init__(message, errors=errors if errors is not None else [])


class EngineFailure(HallError):
    """The diagram could not go on (a script raised, no gateway condition matched...).

    The action is rolled back; the message names the element."""

    status = 422

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message, errors=[{"element_id": element_id, "message": message}])
        self.element_id = element_id

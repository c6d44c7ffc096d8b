"""Forms of the parallel_approval process."""

from marshmallow import Schema, fields, validate  # noqa: F401

from forms import register  # noqa: F401

"""Forms of the joint_review process."""

from marshmallow import Schema, fields, validate  # noqa: F401

from forms import register  # noqa: F401

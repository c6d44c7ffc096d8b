"""The hall's registered forms (by formKey), one module per process."""

from forms import big_project, enterprise_exit, green_channel, joint_review, parallel_approval, poor_rating  # noqa: F401

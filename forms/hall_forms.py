"""The hall's registered forms (by formKey), one module per process."""

from forms import (  # noqa: F401
    big_project,
    complaint,
    enterprise_exit,
    green_channel,
    joint_review,
    parallel_approval,
    poor_rating,
    return_visit,
)

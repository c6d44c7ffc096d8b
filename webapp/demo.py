"""Demo data: placeholder until the processes land."""


def load(echo) -> None:
    echo("nothing yet")

"""The base of the project's user-facing errors.

Each of them says what was wrong, where, and what to do. They are Dagster `Failure`s, so a
failed run shows that message where the UI and the run's failure event show a failure (its
description), instead of "Error occurred while executing op ..." over a stack trace with the
message further down. Outside Dagster (the CLI, the tests) they are ordinary exceptions.
"""

from __future__ import annotations

from dagster import Failure


class ExplainedError(Failure):
    """A failure whose message is meant for the user (see the module docstring)."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)

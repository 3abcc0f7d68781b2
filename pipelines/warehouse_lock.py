"""The warehouse's writer lock: DuckDB allows one writing process per file. Opening the file
waits a bounded time for another process's lock, then fails naming that process (instead of
the ~100 s of silent retries in `dagster_duckdb.DuckDBResource`)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import duckdb
from dagster import get_dagster_logger

from pipelines.errors import ExplainedError


class WarehouseLockedError(ExplainedError, RuntimeError):
    """Another process holds the warehouse file."""


class RunStoppedError(WarehouseLockedError):
    """A step of a run in which an earlier step found the warehouse locked: not run."""


def connect(path: Path, config: dict[str, Any], lock_wait_s: float) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, waiting up to `lock_wait_s` for another process's lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_wait_s
    delay = 0.2
    while True:
        try:
            return duckdb.connect(str(path), read_only=False, config=config)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(_lock_message(path, str(err), lock_wait_s)) from None
            if delay == 0.2 and lock_wait_s >= 1:  # the first refusal: say what it waits for
                get_dagster_logger("pipelines.warehouse").warning(
                    f"[warehouse] waiting up to {lock_wait_s:.0f} s for {_holder(str(err))} "
                    f"to release {path} (CCP_LOCK_WAIT_S)"
                )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _holder(error: str) -> str:
    holder = re.search(r"held in (.+?) \(PID (\d+)\)", error)
    return f"process {holder.group(2)} ({holder.group(1)})" if holder else "another process"


def _lock_message(path: Path, error: str, waited_s: float) -> str:
    return (
        f"[warehouse] {path} is locked by {_holder(error)}; waited {waited_s:.0f} s. DuckDB "
        "allows one writing process per file: usually another pipeline run (Dagster UI or "
        "`ccp run`), a notebook or the duckdb CLI has it open.\nWhat to do: wait for that run "
        "to finish or close that program, then run again. Nothing was written (a pipeline "
        "run writes nothing after this step)."
    )

"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.loopback import LoopbackServer

if TYPE_CHECKING:  # the harness imports Dagster: load it only when a fault test runs
    from tests.support.faults import Baseline, Case


@pytest.fixture
def loopback_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A started HTTP server on 127.0.0.1; requests to it must never go through a proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with LoopbackServer() as server:
        yield server


@pytest.fixture(scope="session")
def fault_baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baseline]:
    """One good live-mode warehouse + reports, built once for every fault test (see
    tests/support/faults.py)."""
    from tests.support.faults import baseline_in

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        patch.setenv("no_proxy", "127.0.0.1,localhost")
        with baseline_in(tmp_path_factory.mktemp("fault-baseline")) as baseline:
            yield baseline


@pytest.fixture
def fault(
    fault_baseline: Baseline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Case]:
    """A fault case: the baseline served good again and copied into this test's tmp_path,
    where the case runs; the reports' generated date pinned so re-rendered pages keep their
    bytes."""
    from tests.support.faults import REPORT_EPOCH

    monkeypatch.setenv("SOURCE_DATE_EPOCH", REPORT_EPOCH)
    fault_baseline.serve_good()
    yield fault_baseline.copy_to(tmp_path)
    fault_baseline.serve_good()

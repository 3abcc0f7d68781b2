"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.loopback import LoopbackServer


@pytest.fixture
def loopback_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A started HTTP server on 127.0.0.1; requests to it must never go through a proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with LoopbackServer() as server:
        yield server

"""A serving process collects its young objects less often than Python's default."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from fairbeam.api.collector import YOUNGEST
from fairbeam.config import Settings
from tests.conftest import LiveServer


@pytest.fixture
def default_collector() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_server_tunes_the_collector_when_it_starts(
    default_collector: None, settings: Settings, engine: Engine
) -> None:
    server = LiveServer(settings, engine)
    assert gc.get_threshold()[0] == 700
    server.start()
    try:
        assert httpx.get(f"{server.url}/api/health", trust_env=False).status_code == 200
        assert gc.get_threshold() == (YOUNGEST, 10, 10)
    finally:
        server.stop()

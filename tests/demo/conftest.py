"""The small demo facility, built once per test process and handed to each test that asks
for it (`built`) as a copy of its own: a copy of its catalogue, and its folders restored
as they were after the build, at the paths the catalogue names."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fairbeam.config import Settings
from fairbeam.db import make_engine, make_sessionmaker
from fairbeam.demo.build import DemoSummary, build_demo_facility
from fairbeam.demo.plan import Size
from tests.conftest import Snapshot, copy_database, drop_database, folder_settings, template_of


@dataclass
class BuiltDemo:
    """The demo as built: its catalogue (a template to copy) and its folders."""

    template: str
    folders: Snapshot
    summary: DemoSummary


@pytest.fixture(scope="session")
def built_demo(
    template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltDemo]:
    """`build_demo_facility` once, into a catalogue that each test copies."""
    folder = tmp_path_factory.mktemp("demo")
    url, name = copy_database(template_database, folder)
    engine = make_engine(url)
    try:
        summary = build_demo_facility(
            make_sessionmaker(engine), folder_settings(folder, url), Size.small
        )
    finally:
        engine.dispose()
    folders = Snapshot.take(folder, tmp_path_factory.mktemp("demo-pristine"), "var", "data")
    template = template_of(url, name)
    yield BuiltDemo(template, folders, summary)
    drop_database(name)


def _wants_demo(request: pytest.FixtureRequest) -> bool:
    return "built" in request.fixturenames


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, template_database: str, tmp_path: Path
) -> Iterator[str]:
    """A catalogue of this test's own: a copy of the built demo's when the test asks for
    `built`, else an empty one."""
    template = (
        request.getfixturevalue("built_demo").template
        if _wants_demo(request)
        else template_database
    )
    url, name = copy_database(template, tmp_path)
    yield url
    drop_database(name)


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Settings:
    """The demo's folders, restored, when the test asks for `built`; else tmp_path's."""
    if not _wants_demo(request):
        return folder_settings(tmp_path, database_url)
    demo: BuiltDemo = request.getfixturevalue("built_demo")
    demo.folders.restore()
    return folder_settings(demo.folders.folder, database_url)


@pytest.fixture
def built(settings: Settings, built_demo: BuiltDemo) -> DemoSummary:
    """The small demo facility after its years of policy passes, in this test's catalogue."""
    return copy.deepcopy(built_demo.summary)

"""The Python client against a real server on loopback, on the small facility of world.py."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import PurePosixPath

import numpy as np
import pint
import pytest

from fairbeam.client import (
    Client,
    ClientError,
    Conflict,
    Dataset,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthorized,
    Unreachable,
)
from tests.conftest import ENGINE, LiveServer
from tests.world import World

Connect = Callable[[str], Client]
BASE = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def connect(server: LiveServer, world: World) -> Iterator[Connect]:
    """Clients acting as a role of the world (``anonymous`` has no token)."""
    clients: list[Client] = []

    def make(role: str) -> Client:
        client = Client(server.url, world.tokens[role])
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def scans(count: int, prefix: str = "scan") -> list[dict[str, object]]:
    """``count`` MX datasets of MX-1001, many sharing a start time (ties break on id)."""
    return [
        {
            "investigation": "MX-1001",
            "name": f"{prefix}_{i:04d}",
            "location": f"/data/visitor/MX-1001/{prefix}_{i:04d}",
            "technique": "MX",
            "start": BASE + timedelta(minutes=i // 7),
            "parameters": {"energy": (12.7 + i / 1000, "keV")},
            "files": [{"path": f"{prefix}_{i:04d}.h5", "size": 1000 + i}],
        }
        for i in range(count)
    ]


def test_health_and_me(connect: Connect) -> None:
    health = connect("anonymous").health()
    assert (health.status, health.database) == ("ok", ENGINE)
    assert connect("anonymous").me().anonymous
    me = connect("staff").me()
    assert (me.username, me.instruments) == ("stella", ["ID23"])
    assert repr(me) == "<User stella (staff) on ID23>"


def test_datasets_follow_cursors_without_skipping_or_repeating(
    connect: Connect, world: World
) -> None:
    registered = connect("software").register_datasets(scans(120))
    assert len(registered) == 120 and all(r.created for r in registered)
    client = connect("participant")
    results = client.datasets(investigation="MX-1001", page_size=50)
    assert [len(page) for page in results.pages()] == [50, 50, 21]
    ids = [d.id for d in results]
    assert len(ids) == len(set(ids)) == 121
    assert set(ids) == {r.id for r in registered} | {world.closed_dataset}
    starts = [(d.start, d.id) for d in results]
    assert starts == sorted(starts, reverse=True)
    by_name = [d.name for d in client.datasets(investigation="MX-1001", sort="name", page_size=7)]
    assert by_name == sorted(by_name) and len(by_name) == 121


def test_limit_caps_the_total_and_the_last_request(connect: Connect) -> None:
    connect("software").register_datasets(scans(120))
    results = connect("participant").datasets(investigation="MX-1001", limit=70, page_size=50)
    assert [len(page) for page in results.pages()] == [50, 20]
    everything = connect("participant").datasets(investigation="MX-1001", page_size=1000)
    assert [d.id for d in results.to_list()] == [d.id for d in everything.to_list()[:70]]
    first = results.first()
    assert first is not None and first.id == everything.to_list()[0].id
    assert connect("anonymous").datasets(investigation="MX-1001").first() is None
    assert connect("participant").datasets(limit=0).to_list() == []


def test_files_follow_cursors(connect: Connect) -> None:
    dataset = connect("software").register_dataset(
        "MX-1001",
        "many_files",
        "/data/visitor/MX-1001/many_files",
        files=[{"path": f"frame_{i:05d}.h5", "size": i} for i in range(120)] + ["master.h5"],
    )
    assert dataset.file_count == 121
    files = connect("participant").files(dataset, page_size=50)
    paths = [f.path for f in files]
    assert len(paths) == len(set(paths)) == 121 and paths == sorted(paths)
    one = connect("participant").file(next(iter(files)).id)
    assert (one.dataset, one.path) == (dataset.id, "frame_00000.h5")


def test_parameter_conditions_convert_units(connect: Connect, world: World) -> None:
    software = connect("software")
    longer = software.register_dataset(
        "MX-1001",
        "long_wavelength",
        "/data/visitor/MX-1001/long_wavelength",
        parameters={"wavelength": (1.2, "angstrom"), "detector": "Eiger2 16M"},
    )
    assert longer.parameters["wavelength"].model_dump() == {"value": 1.2, "unit": "angstrom"}
    client = connect("participant")
    below = {d.id for d in client.datasets(param="wavelength < 1 nm")}
    assert {world.closed_dataset, world.open_dataset, longer.id} <= below
    assert world.foreign_dataset not in below
    above = {d.id for d in client.datasets(param="wavelength > 0.1 nm")}
    assert above == {longer.id}
    both = client.datasets(param=["wavelength < 1 nm", "detector ~ eiger"])
    assert [d.id for d in both] == [longer.id]
    assert client.facets(param="wavelength < 1 nm").total == len(below)
    with pytest.raises(TypeError, match="unknown dataset filter wavelenght"):
        client.facets(wavelenght="1 nm")  # type: ignore[call-arg]


def test_access_rules_apply_through_the_client(connect: Connect, world: World) -> None:
    participant = connect("participant")
    closed = participant.dataset(world.closed_dataset)
    assert closed.parameter("wavelength") == 0.966
    assert participant.file(world.closed_file).dataset == world.closed_dataset
    anonymous = connect("anonymous")
    with pytest.raises(NotFound) as caught:
        anonymous.dataset(world.closed_dataset)
    assert f"dataset {world.closed_dataset} not found" in str(caught.value)
    assert caught.value.status == 404 and caught.value.detail.endswith("not found")
    with pytest.raises(NotFound):
        connect("other_user").file(world.closed_file)
    visible = {d.id for d in anonymous.datasets()}
    assert world.open_dataset in visible and world.closed_dataset not in visible
    # High-level metadata stays public.
    assert anonymous.investigation("MX-1001").title == "Investigation MX-1001"


def test_registration_is_idempotent(connect: Connect) -> None:
    software = connect("software")
    fields = scans(1, prefix="again")[0]
    first = software.register_dataset(**fields)  # type: ignore[arg-type]
    second = software.register_dataset(**{**fields, "files": ["again_0000_extra.h5"]})  # type: ignore[arg-type]
    assert second.id == first.id and second.file_count == 2
    again = software.register_datasets([fields, *scans(2, prefix="fresh")])
    assert [(r.id == first.id, r.created) for r in again] == [
        (True, False),
        (False, True),
        (False, True),
    ]
    count = len(connect("participant").datasets(q="again").to_list())
    assert count == 1


def test_errors_carry_the_servers_detail(connect: Connect, server: LiveServer) -> None:
    with pytest.raises(Unauthorized, match="token is not valid") as caught:
        Client(server.url, "not-a-token").me()
    assert caught.value.status == 401 and "GET /api/me" in str(caught.value)
    with pytest.raises(InvalidRequest, match="sort 'size' is not known") as invalid:
        connect("participant").datasets(sort="size").to_list()
    assert invalid.value.status == 422
    with pytest.raises(InvalidRequest, match="bogus"):
        connect("software").register_datasets([{**scans(1)[0], "bogus": 1}])
    with pytest.raises(Forbidden, match="only beamline staff and managers"):
        connect("participant").stats()
    manager = connect("manager")
    with pytest.raises(Conflict, match="'MX-1001'"):
        manager.create_investigation("MX-1001", "Twice", "ID23", BASE)
    with pytest.raises(InvalidRequest, match="instrument 'BM99' does not exist"):
        manager.create_investigation("XX-1", "Nowhere", "BM99", BASE)
    with pytest.raises(NotFound, match="instrument 'BM99' not found"):
        manager.instrument("BM99")
    assert issubclass(Unreachable, ClientError) and issubclass(Conflict, ClientError)


def test_unreachable_server_names_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with Client(url, retries=1) as client, pytest.raises(Unreachable) as caught:
        client.health()
    assert f"cannot reach fairbeam at {url} after 2 attempts" in str(caught.value)
    assert isinstance(caught.value, ConnectionError)
    with pytest.raises(ValueError, match="http://"):
        Client("127.0.0.1:8000")


def test_login(server: LiveServer, world: World) -> None:
    with Client.login(server.url + "/api/", "alice", "alice-password") as client:
        assert client.user is not None and client.user.username == "alice"
        assert client.me().username == "alice"
        assert client.dataset(world.closed_dataset).investigation == "MX-1001"
        assert [i.code for i in client.investigations(scope="mine")] == ["MX-1001"]
        assert repr(client) == f"<fairbeam Client {server.url} as alice>"
    with pytest.raises(Unauthorized, match="wrong username or password"):
        Client.login(server.url, "alice", "not-her-password")


def test_times_go_in_as_given_and_come_back_in_utc(connect: Connect) -> None:
    connect("software").register_datasets(scans(21))
    client = connect("participant")
    paris = timezone(timedelta(hours=1))
    cut = BASE + timedelta(minutes=2)
    expected = {d.id for d in client.datasets(investigation="MX-1001") if d.start >= cut}
    assert len(expected) == 8  # scans 14 to 20, and closed_0001 registered just now
    for value in (cut, cut.astimezone(paris), cut.replace(tzinfo=None), cut.isoformat()):
        got = client.datasets(investigation="MX-1001", start_after=value)
        assert {d.id for d in got} == expected
    dataset = client.datasets(investigation="MX-1001", limit=1).to_list()[0]
    assert dataset.start.tzinfo is UTC and dataset.created.tzinfo is UTC
    manager = connect("manager")
    created = manager.create_investigation(
        "MX-2002",
        "Lysozyme at room temperature",
        "ID23",
        datetime(2024, 5, 2, 9, 0, tzinfo=paris),
        end="2024-05-04T09:00:00Z",
        participants={"alice": "principal_investigator", "bob": "collaborator"},
    )
    assert created.start == datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
    assert created.start.tzinfo is UTC
    assert {p.username for p in created.participants} == {"alice", "bob"}
    mine = {i.code for i in client.investigations(scope="mine")}
    assert mine == {"MX-1001", "MX-2002"}


def test_catalogue_reads(connect: Connect, world: World) -> None:
    client = connect("staff")
    assert [i.name for i in client.instruments()] == ["ID11", "ID23"]
    assert client.instrument("ID11").techniques == ["XRD", "3DXRD"]
    on_id11 = client.investigations(instrument="ID11").to_list()
    assert [i.code for i in on_id11] == ["HC-2000"]
    assert client.investigation(world.closed_investigation).code == "MX-1001"
    assert client.investigations(q="MX-09").first().code == "MX-0900"  # type: ignore[union-attr]
    stats = client.stats(since="30d")
    assert stats.datasets == 3 and stats.files == 6
    facets = client.facets(instrument="ID23")
    assert facets.total == 2 and {f.value for f in facets.technique} == {"MX"}


def test_results_read_well_in_a_notebook(connect: Connect, world: World) -> None:
    client = connect("participant")
    dataset = client.dataset(world.closed_dataset)
    assert repr(dataset).startswith(f"<Dataset {world.closed_dataset} 'closed_0001' of MX-1001")
    html = dataset._repr_html_()
    assert "wavelength" in html and "angstrom" in html and "lysozyme" in html
    results = client.datasets(investigation="MX-1001")
    assert (
        repr(results)
        == "<Results /api/datasets investigation='MX-1001': lazy, iterate or call to_list()>"
    )
    assert "closed_0001" in results._repr_html_()
    (row,) = results.rows()
    assert row["wavelength [angstrom]"] == 0.966 and row["sample"] == "lysozyme"
    assert "MX-1001" in repr(client.investigation("MX-1001"))
    if importlib.util.find_spec("pandas") is None:
        with pytest.raises(ImportError, match="pip install pandas"):
            results.to_dataframe()
    else:
        frame = results.to_dataframe()
        assert list(frame["name"]) == ["closed_0001"]
    assert isinstance(dataset, Dataset)


def test_registration_takes_python_values(connect: Connect) -> None:
    units = pint.UnitRegistry()
    dataset = connect("software").register_dataset(
        "MX-1001",
        "python_values",
        "/data/visitor/MX-1001/python_values",
        start=date(2024, 3, 2),
        sample={"name": "thaumatin", "chemical_formula": "C1H1"},
        parameters={
            "energy": 12.7 * units.keV,
            "frames": np.int64(3600),
            "exposure_time": (np.float64(0.01), "s"),
            "omega_range": np.array([0.0, 360.0]),
        },
        files=[PurePosixPath("python_values/master.h5")],
    )
    assert dataset.start == datetime(2024, 3, 2, tzinfo=UTC)
    assert dataset.sample is not None and dataset.sample.chemical_formula == "C1H1"
    given = {name: (p.value, p.unit) for name, p in dataset.parameters.items()}
    assert given == {
        "energy": (12.7, "kiloelectron_volt"),
        "frames": (3600, None),
        "exposure_time": (0.01, "s"),
        "omega_range": ([0.0, 360.0], None),
    }
    assert [f.path for f in connect("participant").files(dataset.id)] == ["python_values/master.h5"]
    found = connect("participant").datasets(param="energy > 12000 eV", sample="thaumatin")
    assert [d.id for d in found] == [dataset.id]

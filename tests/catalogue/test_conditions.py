"""Parameter conditions with units: `wavelength < 1 nm` matches 0.966 angstrom."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal
from fairbeam.catalogue.conditions import parse_condition
from fairbeam.catalogue.datasets import DatasetFilters, list_datasets
from fairbeam.errors import InvalidInput
from tests.catalogue.conftest import register

# Two datasets with the same parameters in different units.
A = {
    "wavelength": {"value": 0.966, "unit": "angstrom"},
    "energy": {"value": 12.4, "unit": "keV"},
    "temperature": {"value": 100, "unit": "K"},
    "exposure": {"value": 50, "unit": "ms"},
    "edge": "12.4 keV",
    "mode": "Continuous Rotation",
    "gain": {"value": 5, "unit": "counts per gizmo"},
    "frames": 3600,
}
B = {
    "wavelength": {"value": 1.5, "unit": "Å"},
    "energy": {"value": 8000, "unit": "eV"},
    "temperature": {"value": 25, "unit": "degC"},
    "exposure": {"value": 0.2, "unit": "s"},
    "edge": {"value": 8.9, "unit": "keV"},
    "mode": "still",
    "gain": {"value": 0.5, "unit": "counts per gizmo"},
    "frames": 1,
}
MATCHES = [
    ("wavelength < 1 nm", {"a", "b"}),
    ("wavelength < 0.1 nm", {"a"}),
    ("wavelength > 1.2 angstrom", {"b"}),
    ("wavelength = 0.0966 nm", {"a"}),
    ("wavelength = 96.6 pm", {"a"}),
    ("wavelength != 0.966 angstrom", {"b"}),
    ("wavelength <= 0.15 nm", {"a", "b"}),
    ("wavelength >= 0.15 nm", {"b"}),
    ("wavelength < 1 m/s", set()),
    ("energy > 10 keV", {"a"}),
    ("energy < 10000 eV", {"b"}),
    ("energy = 8 keV", {"b"}),
    ("energy = 12400 eV", {"a"}),
    ("temperature < 200 K", {"a"}),
    ("temperature > 0 degC", {"b"}),
    ("temperature < -100 degC", {"a"}),
    ("temperature = 298.15 K", {"b"}),
    ("exposure < 0.1 s", {"a"}),
    ("exposure >= 200 ms", {"b"}),
    ("exposure = 0.05 s", {"a"}),
    ("edge > 10000 eV", {"a"}),
    ("edge < 10 keV", {"b"}),
    ("mode ~ rotation", {"a"}),
    ("mode ~ STILL", {"b"}),
    ("mode ~ o", {"a"}),
    ("mode = still", {"b"}),
    ("mode != still", {"a"}),
    ("gain > 1 counts per gizmo", {"a"}),
    ("gain > 1 volts", set()),
    ("frames >= 3600", {"a"}),
    ("frames = 1", {"b"}),
    ("frames < 3600", {"b"}),
    ("pressure > 1 bar", set()),
]


@pytest.fixture
def two(session: Session, manager: Principal) -> Principal:
    register(session, manager, name="a", parameters=A)
    register(session, manager, name="b", parameters=B)
    return manager


def names(session: Session, principal: Principal, *conditions: str) -> set[str]:
    filters = DatasetFilters(param=list(conditions))
    page = list_datasets(session, principal, filters, "-start", 100, None)
    return {d.name for d in page.items}


@pytest.mark.parametrize(("condition", "expected"), MATCHES, ids=[m[0] for m in MATCHES])
def test_condition_converts_units(
    condition: str, expected: set[str], session: Session, two: Principal
) -> None:
    assert names(session, two, condition) == expected


def test_several_conditions_are_anded(session: Session, two: Principal) -> None:
    assert names(session, two, "energy > 5 keV", "temperature < 200 K") == {"a"}
    assert names(session, two, "energy > 5 keV", "temperature > 200 K") == {"b"}
    assert names(session, two, "energy > 10 keV", "temperature > 200 K") == set()


def test_values_are_returned_as_submitted(session: Session, two: Principal) -> None:
    page = list_datasets(session, two, DatasetFilters(param=["mode ~ rotation"]), "name", 10, None)
    (a,) = page.items
    assert {name: (p.value, p.unit) for name, p in a.parameters.items()} == {
        "wavelength": (0.966, "angstrom"),
        "energy": (12.4, "keV"),
        "temperature": (100, "K"),
        "exposure": (50, "ms"),
        "edge": ("12.4 keV", None),
        "mode": ("Continuous Rotation", None),
        "gain": (5, "counts per gizmo"),
        "frames": (3600, None),
    }


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("wavelength < 1 nm", ("wavelength", "<", 1.0, "nm")),
        ("wavelength<1nm", ("wavelength", "<", 1.0, "nm")),
        ("energy >= 1.2e4 eV", ("energy", ">=", 12000.0, "eV")),
        ("frames != -3", ("frames", "!=", -3.0, None)),
        ("mode ~ rot", ("mode", "~", None, None)),
        ("mode = '12 keV'", ("mode", "=", None, None)),
    ],
)
def test_parse_condition(raw: str, parsed: tuple[object, ...]) -> None:
    condition = parse_condition(raw)
    assert (condition.name, condition.op, condition.number, condition.unit) == parsed


@pytest.mark.parametrize("raw", ["wavelength", "wavelength <", "< 1 nm", "energy > high"])
def test_a_bad_condition_says_what_is_wrong(raw: str) -> None:
    with pytest.raises(InvalidInput, match="param"):
        parse_condition(raw)

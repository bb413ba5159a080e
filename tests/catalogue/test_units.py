"""Values and units are kept as given; an SI value is indexed beside them."""

from __future__ import annotations

import json

import pytest

from fairbeam.catalogue.units import normalise, si_conversion


@pytest.mark.parametrize(
    ("value", "unit", "si_value", "si_unit"),
    [
        (0.966, "angstrom", 0.966e-10, "m"),
        (0.966, "Å", 0.966e-10, "m"),
        (12.4, "keV", 12.4e3 * 1.602176634e-19, "kg*m**2/s**2"),
        (25, "degC", 298.15, "K"),
        (100, "K", 100.0, "K"),
        (50, "ms", 0.05, "s"),
        ("12.4 keV", None, 12.4e3 * 1.602176634e-19, "kg*m**2/s**2"),
        ("0.2 s", None, 0.2, "s"),
        (3, "um", 3e-6, "m"),
    ],
)
def test_si_value_is_indexed_beside_the_original(
    value: object, unit: str | None, si_value: float, si_unit: str
) -> None:
    stored = normalise(value, unit)
    assert (stored.value, stored.unit) == (value, unit)  # never rewritten
    assert stored.si_value == pytest.approx(si_value, rel=1e-12)
    assert stored.si_unit == si_unit


def test_kelvin_and_celsius_share_an_si_unit() -> None:
    assert normalise(25, "degC").si_unit == normalise(298.15, "K").si_unit
    assert normalise(12.4, "keV").si_unit == normalise(8000, "eV").si_unit


@pytest.mark.parametrize(
    ("value", "unit", "number", "text"),
    [
        (5, "counts per gizmo", 5.0, "5"),
        (3600, None, 3600.0, "3600"),
        ("continuous rotation", None, None, "continuous rotation"),
        ([1, 2, 3], "mm", None, "[1, 2, 3]"),
        ({"model": "Eiger"}, None, None, '{"model": "Eiger"}'),
        (None, None, None, None),
        (True, None, 1.0, "true"),
    ],
)
def test_what_has_no_si_value_is_kept_and_indexed_as_given(
    value: object, unit: str | None, number: float | None, text: str | None
) -> None:
    stored = normalise(value, unit)
    assert (stored.value, stored.unit) == (value, unit)
    assert (stored.value_num, stored.value_text) == (number, text)
    assert stored.si_value is None


@pytest.mark.parametrize("unit", ["counts per gizmo", "", "   ", "arb. units"])
def test_an_unknown_unit_has_no_conversion(unit: str) -> None:
    assert si_conversion(unit) is None


@pytest.mark.parametrize(
    "number", [True, False, 0, -5, 10**30, 1.5, 1e-300, 1.2e12, 0.1, -0.0, 123456789.123]
)
def test_a_number_is_kept_as_its_json_text(number: bool | int | float) -> None:
    assert normalise(number, None).value_text == json.dumps(number)

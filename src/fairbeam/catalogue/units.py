"""Parameter values and units: kept exactly as given, normalised to SI beside them."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import pint

_NUMBER_WITH_UNIT = re.compile(
    r"^\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>[^\d\s].*?)?\s*$"
)
# Spellings facilities write that pint does not read as meant.
_ALIASES = {
    "Å": "angstrom",
    "deg": "degree",
    "um": "micrometer",
    "µm": "micrometer",
    "ph/s": "1/s",
    "photons/s": "1/s",
    "photon/s": "1/s",
}
MAX_TEXT = 500


@dataclass(frozen=True)
class Conversion:
    """y_si = x * factor + offset, in the SI unit ``si_unit``."""

    factor: float
    offset: float
    si_unit: str


@lru_cache(maxsize=1)
def _registry() -> Any:
    # Building pint's registry takes about a second: only when a unit is first read.
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


@lru_cache(maxsize=8192)
def si_conversion(unit: str) -> Conversion | None:
    """How to bring a value in ``unit`` to SI, or None when pint does not know the unit."""
    spelled = _ALIASES.get(unit.strip(), unit.strip())
    if not spelled:
        return None
    try:
        zero = _registry().Quantity(0.0, spelled).to_base_units()
        one = _registry().Quantity(1.0, spelled).to_base_units()
    except Exception:  # pint raises many kinds for text it cannot read
        return None
    offset = float(zero.magnitude)
    factor = float(one.magnitude) - offset
    if not math.isfinite(factor) or factor == 0:
        return None
    return Conversion(factor=factor, offset=offset, si_unit=f"{one.units:~C}" or "1")


class NormalisedValue(NamedTuple):
    """A parameter as stored: original value and unit, plus what the indexes hold.
    (A tuple: a million datasets bring ten million of them.)"""

    value: Any
    unit: str | None
    value_text: str | None
    value_num: float | None
    si_value: float | None
    si_unit: str | None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _number_json(value: bool | int | float) -> str:
    """A finite number's JSON text, as ``json.dumps`` writes it, without its encoder."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return float.__repr__(value)


def normalise(value: Any, unit: str | None) -> NormalisedValue:
    """Index a parameter without touching what was submitted."""
    number = _as_number(value)
    text: str | None = None
    index_unit = unit
    if isinstance(value, str):
        text = value[:MAX_TEXT]
        match = _NUMBER_WITH_UNIT.match(value)
        if match:
            number = float(match["num"])
            if not math.isfinite(number):
                number = None
            if index_unit is None and match["unit"]:
                index_unit = match["unit"]
    elif number is not None:
        text = _number_json(value)
    elif value is not None:
        text = json.dumps(value, sort_keys=True, default=str)[:MAX_TEXT]
    si_value: float | None = None
    si_unit: str | None = None
    if number is not None and index_unit:
        conversion = si_conversion(index_unit)
        if conversion is not None:
            si_value = number * conversion.factor + conversion.offset
            si_unit = conversion.si_unit
    return NormalisedValue(
        value=value,
        unit=unit,
        value_text=text,
        value_num=number,
        si_value=si_value,
        si_unit=si_unit,
    )

"""What an acquisition or a processing pipeline tells the catalogue: parameters with
units, as control software posts them, and the files it wrote."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from random import Random
from typing import Any

HC = 12.398_419_84  # keV * angstrom: wavelength = HC / energy


@dataclass
class Acquisition:
    """One dataset as the control software describes it."""

    technique: str
    parameters: dict[str, Any]
    files: list[tuple[str, int]]  # path relative to the dataset's location, size in bytes
    seconds: float  # how long it took
    definition: str  # the NeXus application definition of its master file
    picture: str  # what demo/nexus.py draws in the master file's default plot
    pipeline: str = ""  # the program that made a processed dataset
    extra: dict[str, float] = field(default_factory=dict)  # numbers the picture needs


def q(value: Any, unit: str) -> dict[str, Any]:
    """A parameter with its unit, as posted to the API."""
    return {"value": value, "unit": unit}


def sig(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    return float(f"{value:.{digits}g}")


def frame_files(
    stem: str, frames: int, per_file: int, frame_bytes: int, rng: Random
) -> list[tuple[str, int]]:
    """A detector's data files: ``per_file`` frames in each (1: one file per frame)."""
    count = max(1, math.ceil(frames / per_file))
    ext = "h5" if per_file > 1 else stem.rsplit(".", 1)[-1]
    base = stem.rsplit(".", 1)[0] if per_file == 1 else stem
    files = []
    for index in range(count):
        in_file = min(per_file, frames - index * per_file)
        size = int(in_file * frame_bytes * rng.uniform(0.92, 1.08))
        name = f"{base}_{index + 1:06d}.{ext}" if per_file > 1 else f"{base}_{index:04d}.{ext}"
        files.append((name, size))
    return files


def master_file(
    name: str, rng: Random, low: int = 40_000, high: int = 6_000_000
) -> tuple[str, int]:
    """A NeXus master file of a size between ``low`` and ``high`` bytes."""
    return (f"{name}.h5", rng.randint(low, high))

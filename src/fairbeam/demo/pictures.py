"""Small, plausible detector images and curves for the demo's NeXus files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FRAMES = 10
PIXELS = 128


@dataclass
class Picture:
    """An NXdata group's content: the signal and its axes, each with units."""

    signal: NDArray[Any]
    units: str = "counts"
    long_name: str = "intensity"
    axes: list[tuple[str, NDArray[Any], str]] = field(default_factory=list)  # name, values, unit
    interpretation: str | None = None


def _grid() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    centre = (PIXELS - 1) / 2
    y, x = np.mgrid[0:PIXELS, 0:PIXELS].astype(np.float64) - centre
    return y, x


def _frames(rng: np.random.Generator, expected: NDArray[np.float64]) -> NDArray[np.uint16]:
    counts = rng.poisson(np.clip(expected, 0, 60_000))
    return np.clip(counts, 0, 65_535).astype(np.uint16)


def _stack(signal: NDArray[Any], step: float, unit: str) -> Picture:
    angles = np.arange(signal.shape[0], dtype=np.float64) * step
    return Picture(signal, axes=[("rotation_angle", angles, unit)], interpretation="image")


SPOT_REACH = 8  # pixels around a spot's centre where it adds counts


def _window(centre: float) -> slice:
    """The pixels of one axis within SPOT_REACH of a spot's centre."""
    middle = centre + (PIXELS - 1) / 2
    return slice(max(0, int(middle) - SPOT_REACH), min(PIXELS, int(middle) + SPOT_REACH + 2))


def diffraction(rng: np.random.Generator, spots: int, rings: list[float]) -> Picture:
    """Rotation frames: diffuse background, powder or ice rings and Bragg spots."""
    y, x = _grid()
    r = np.hypot(x, y)
    expected = np.empty((FRAMES, PIXELS, PIXELS))
    for frame in range(FRAMES):
        image = 30.0 * np.exp(-r / 60) + 2.0
        for radius in rings:
            image += 40.0 * np.exp(-((r - radius) ** 2) / 3.0)
        for _ in range(spots):
            sy, sx = rng.uniform(-60, 60, 2)
            # A spot is a few pixels wide: drawn in its own window (beyond it, < 1e-20).
            rows, cols = _window(sy), _window(sx)
            image[rows, cols] += rng.uniform(200, 5000) * np.exp(
                -((x[rows, cols] - sx) ** 2 + (y[rows, cols] - sy) ** 2) / 1.2
            )
        image[r < 4] = 0.0  # beam stop
        expected[frame] = image
    return _stack(_frames(rng, expected), 0.1, "deg")


def scattering(rng: np.random.Generator, radius: float) -> Picture:
    """Isotropic small-angle scattering of spheres around the beam stop."""
    y, x = _grid()
    qr = np.hypot(x, y) * 0.02 * radius + 1e-6
    form = (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2
    expected = np.stack([5e4 * form * rng.uniform(0.9, 1.1) + 3 for _ in range(FRAMES)])
    expected[:, np.hypot(x, y) < 5] = 0.0
    return _stack(_frames(rng, expected), 1.0, "s")


def projections(rng: np.random.Generator) -> Picture:
    """Flat-field radiographs of a cylinder with dense inclusions, over a half turn."""
    y, x = _grid()
    inclusions = rng.uniform(-30, 30, (6, 3))
    expected = np.empty((FRAMES, PIXELS, PIXELS))
    for frame in range(FRAMES):
        theta = np.pi * frame / FRAMES
        path = 2 * np.sqrt(np.clip(45.0**2 - x**2, 0, None)) * 0.01
        for px, pz, py in inclusions:
            u = px * np.cos(theta) + pz * np.sin(theta)
            d2 = (x - u) ** 2 + (y - py) ** 2
            path += 2 * np.sqrt(np.clip(8.0**2 - d2, 0, None)) * 0.05
        expected[frame] = 30_000 * np.exp(-path)
    return _stack(_frames(rng, expected), 180 / FRAMES, "deg")


def slices(rng: np.random.Generator) -> Picture:
    """Reconstructed slices: attenuation of the same cylinder and inclusions."""
    y, x = _grid()
    volume = np.where(np.hypot(x, y) < 45, 1.0, 0.0)[None].repeat(FRAMES, 0)
    for px, pz, radius in rng.uniform([-30, -30, 4], [30, 30, 10], (6, 3)):
        volume += np.where(np.hypot(x - px, y - pz) < radius, 4.0, 0.0)[None]
    volume += rng.normal(0, 0.15, volume.shape)
    heights = np.arange(FRAMES, dtype=np.float64)
    return Picture(
        volume.astype(np.float32), "1/cm", "linear attenuation", [("z", heights, "voxel")], "image"
    )


def fluorescence_map(rng: np.random.Generator) -> Picture:
    """An element's fluorescence counts over a raster scan: a few grains in a matrix."""
    rows, columns = 64, 96
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float64)
    image = np.full((rows, columns), 20.0)
    for cy, cx, size, height in rng.uniform([0, 0, 3, 200], [rows, columns, 12, 3000], (8, 4)):
        image += height * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * size**2))
    counts = rng.poisson(image).astype(np.float32)
    return Picture(
        counts, axes=[("y", np.arange(rows) * 0.5, "um"), ("x", np.arange(columns) * 0.5, "um")]
    )


def absorption(rng: np.random.Generator, e0: float, normalised: bool) -> Picture:
    """A XANES spectrum: edge step, white line and the first EXAFS wiggles."""
    energy = np.linspace(e0 - 0.03, e0 + 0.12, 300)
    de = (energy - e0) * 1000
    mu = 0.5 + 0.5 + np.arctan(de / 1.5) / np.pi + 0.6 * np.exp(-((de - 4) ** 2) / 8)
    mu += 0.05 * np.sin(de / 9) * (de > 10) * np.exp(-np.clip(de, 0, None) / 80)
    if not normalised:
        mu = 0.3 + 1.2 * mu - 0.002 * de
    mu += rng.normal(0, 0.004, mu.size)
    return Picture(
        mu, "", "normalised absorption" if normalised else "absorption", [("energy", energy, "keV")]
    )


def curve_saxs(rng: np.random.Generator, q_max: float, radius: float) -> Picture:
    """Azimuthally integrated I(q) of polydisperse spheres."""
    q = np.linspace(q_max / 150, q_max, 500)
    intensity = np.zeros_like(q)
    for r in rng.normal(radius, radius * 0.1, 20):
        qr = q * abs(r) + 1e-9
        intensity += (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2
    intensity = 100 * intensity / 20 + 1e-3
    intensity *= rng.normal(1, 0.02, q.size)
    return Picture(intensity, "1/cm", "I(q)", [("q", q, "1/nm")])


def curve_powder(rng: np.random.Generator) -> Picture:
    """An integrated powder pattern: a few Bragg peaks on a background."""
    two_theta = np.linspace(1, 15, 1500)
    intensity = 50 + 20 * np.exp(-two_theta / 5)
    for position, height in rng.uniform([2, 100], [14, 5000], (14, 2)):
        intensity += height * np.exp(-((two_theta - position) ** 2) / 0.0008)
    return Picture(
        rng.poisson(intensity).astype(np.float64),
        "counts",
        "intensity",
        [("two_theta", two_theta, "deg")],
    )


def merging_statistics(rng: np.random.Generator, resolution: float) -> Picture:
    """CC1/2 in resolution shells, as autoprocessing reports it."""
    d = np.linspace(40, resolution, 20)
    cc = 100 / (1 + np.exp((1 / d**2 - 0.85 / resolution**2) * 30 * resolution**2))
    cc = np.clip(cc + rng.normal(0, 0.5, d.size), 0, 100)
    return Picture(cc, "%", "CC1/2", [("resolution", d, "angstrom")])


def guinier(rng: np.random.Generator, rg: float) -> Picture:
    """A buffer-subtracted protein curve."""
    q = np.linspace(0.03, 5.0, 800)
    intensity = 100 * np.exp(-(q**2) * rg**2 / 3) + 0.05 / (1 + (q * rg) ** 4)
    intensity *= rng.normal(1, 0.01, q.size)
    return Picture(intensity, "1/cm", "I(q)", [("q", q, "1/nm")])


def draw(kind: str, rng: np.random.Generator, extra: dict[str, float]) -> Picture:
    """The picture named by a dataset's acquisition (see demo/acquisition.py)."""
    if kind == "mx":
        return diffraction(rng, 25, [rng.uniform(40, 55)])
    if kind == "xrd":
        return diffraction(rng, 60, sorted(rng.uniform(15, 62, 6)))
    if kind == "saxs":
        return scattering(rng, rng.uniform(2, 6))
    if kind == "tomo":
        return projections(rng)
    if kind == "tomo_rec":
        return slices(rng)
    if kind == "xrf":
        return fluorescence_map(rng)
    if kind in ("xas", "xas_norm"):
        return absorption(rng, extra.get("e0", 7.112), kind == "xas_norm")
    if kind == "saxs_curve":
        return curve_saxs(rng, extra.get("q_max", 2.0), rng.uniform(3, 12))
    if kind == "xrd_curve":
        return curve_powder(rng)
    if kind == "mx_stats":
        return merging_statistics(rng, extra.get("resolution", 2.0))
    if kind == "bio_curve":
        return guinier(rng, extra.get("rg", 3.0))
    raise ValueError(f"no picture named {kind!r}")

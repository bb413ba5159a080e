"""Acquisitions and processing of the diffraction beamlines: MX on ID23, 3DXRD and powder
diffraction on ID11."""

from __future__ import annotations

import math
from random import Random
from typing import Any

from fairbeam.demo.acquisition import HC, Acquisition, frame_files, master_file, q, sig


def mx_raw(rng: Random, name: str, legacy: bool) -> Acquisition:
    """A characterisation (4 images) or a full rotation collection on ID23."""
    collection = rng.random() < 0.6
    energy = rng.choice([12.7, 12.66, 13.5, 11.56, 14.2])
    wavelength = round(HC / energy, 4)
    distance = round(rng.uniform(140, 480), 1)
    half_width = 116.0 if not legacy else 211.0
    resolution = wavelength / (2 * math.sin(0.5 * math.atan(half_width / distance)))
    images = rng.choice([1800, 3600, 3600, 7200]) if collection else 4
    oscillation = rng.choice([0.1, 0.1, 0.05, 0.2]) if collection else 1.0
    exposure = rng.choice([0.01, 0.02, 0.04, 0.05, 0.1])
    detector = "Pilatus3 6M" if legacy else "Eiger2 X CdTe 9M"
    centre = (1231.5, 1263.5) if legacy else (2070.0, 2167.0)
    parameters = {
        "scan_type": "collection" if collection else "characterisation",
        "wavelength": q(wavelength, "angstrom"),
        "energy": q(energy, "keV"),
        "exposure_time": q(exposure, "s"),
        "flux": q(sig(rng.uniform(1.2e12, 6e12)), "ph/s"),
        "transmission": q(round(rng.uniform(2, 100), 1), "%"),
        "beam_size_x": q(rng.choice([10, 20, 50]), "um"),
        "beam_size_y": q(rng.choice([10, 20]), "um"),
        "detector_distance": q(distance, "mm"),
        "resolution": q(round(resolution, 2), "angstrom"),
        "oscillation_range": q(oscillation, "deg"),
        "omega_start": q(round(rng.uniform(0, 90), 1), "deg"),
        "number_of_images": images,
        "beam_centre_x": q(round(centre[0] + rng.uniform(-3, 3), 1), "pixel"),
        "beam_centre_y": q(round(centre[1] + rng.uniform(-3, 3), 1), "pixel"),
        "detector": detector,
        "sample_temperature": q(100, "K"),
    }
    if legacy:
        files = frame_files(f"{name}.cbf", images, 1, 6_300_000, rng)
    else:
        files = [master_file(name, rng, 600_000, 4_000_000)]
        files += frame_files(f"{name}_data", images, 100, 2_100_000, rng)
    return Acquisition(
        "macromolecular crystallography",
        parameters,
        files,
        images * exposure + 20,
        "NXmx",
        "mx",
        extra={"wavelength": wavelength, "distance": distance},
    )


def mx_processed(rng: Random, name: str, raw: Acquisition) -> Acquisition | None:
    """Automatic processing of a full collection (autoPROC or xia2/DIALS)."""
    if raw.parameters["scan_type"] != "collection":
        return None
    pipeline = rng.choice(["autoPROC", "xia2.dials", "EDNA_proc"])
    resolution = round(raw.parameters["resolution"]["value"] + rng.uniform(0.0, 0.6), 2)
    group, cell = rng.choice(
        [
            ("P 43 21 2", (79.1, 79.1, 37.9)),
            ("C 1 2 1", (114.2, 53.6, 44.9)),
            ("P 21 21 21", (52.3, 68.4, 104.2)),
            ("P 1 21 1", (45.1, 53.9, 58.2)),
        ]
    )
    parameters = {
        "pipeline": pipeline,
        "space_group": group,
        "cell_a": q(round(cell[0] * rng.uniform(0.99, 1.01), 2), "angstrom"),
        "cell_b": q(round(cell[1] * rng.uniform(0.99, 1.01), 2), "angstrom"),
        "cell_c": q(round(cell[2] * rng.uniform(0.99, 1.01), 2), "angstrom"),
        "resolution_high": q(resolution, "angstrom"),
        "resolution_low": q(round(rng.uniform(40, 60), 1), "angstrom"),
        "completeness": q(round(rng.uniform(96, 100), 1), "%"),
        "multiplicity": round(rng.uniform(3.5, 13.5), 1),
        "i_over_sigma": round(rng.uniform(8, 25), 1),
        "cc_half": q(round(rng.uniform(99.0, 99.9), 1), "%"),
        "r_merge": q(round(rng.uniform(3, 12), 1), "%"),
    }
    files = [
        ("truncate-unique.mtz", rng.randint(2_000_000, 12_000_000)),
        ("XDS_ASCII.HKL", rng.randint(20_000_000, 140_000_000)),
        ("aimless.log", rng.randint(80_000, 300_000)),
        ("summary.html", rng.randint(30_000, 90_000)),
        (f"{name}_{pipeline}.h5", rng.randint(200_000, 900_000)),
    ]
    extra = {"resolution": resolution}
    return Acquisition(
        raw.technique,
        parameters,
        files,
        rng.uniform(300, 1800),
        "NXmx",
        "mx_stats",
        pipeline,
        extra,
    )


def xrd_raw(rng: Random, name: str, legacy: bool) -> Acquisition:
    """A 3DXRD rotation or a powder diffraction series on ID11."""
    energy = rng.choice([43.56, 65.35, 88.0])
    three_d = rng.random() < 0.55
    images = rng.choice([720, 1440, 3600]) if three_d else rng.choice([1, 50, 200])
    exposure = rng.choice([0.02, 0.05, 0.1])
    parameters: dict[str, Any] = {
        "scan_type": "3DXRD" if three_d else "powder",
        "energy": q(energy, "keV"),
        "wavelength": q(round(HC / energy, 5), "angstrom"),
        "detector_distance": q(round(rng.uniform(140, 1000), 1), "mm"),
        "beam_size_x": q(rng.choice([0.25, 1.0, 50.0, 100.0]), "um"),
        "beam_size_y": q(rng.choice([0.25, 1.0, 20.0]), "um"),
        "exposure_time": q(exposure, "s"),
        "number_of_images": images,
        "detector": "FReLoN 2k" if legacy else "Eiger2 X CdTe 4M",
        "sample_temperature": q(rng.choice([296, 296, 573, 873, 1173]), "K"),
    }
    if three_d:
        parameters["omega_step"] = q(round(360 / images, 3), "deg")
        parameters["applied_load"] = q(round(rng.uniform(0, 900), 0), "N")
    if legacy:
        files = frame_files(f"{name}.edf", images, 1, 8_390_000, rng)
    else:
        files = [master_file(name, rng, 100_000, 2_000_000)]
        files += frame_files(f"{name}_eiger", images, 1000, 3_600_000, rng)
    technique = "3D X-ray diffraction" if three_d else "X-ray diffraction"
    return Acquisition(
        technique,
        parameters,
        files,
        images * exposure + 30,
        "NXxbase",
        "xrd",
        extra={"energy": energy},
    )


def xrd_processed(rng: Random, name: str, raw: Acquisition) -> Acquisition | None:
    """Grain indexing (ImageD11) or azimuthal integration (pyFAI)."""
    if raw.parameters["scan_type"] == "3DXRD":
        parameters: dict[str, Any] = {
            "pipeline": "ImageD11",
            "grains_indexed": rng.randint(120, 4200),
            "peaks_found": rng.randint(80_000, 900_000),
            "mean_grain_size": q(round(rng.uniform(8, 60), 1), "um"),
        }
        files = [
            (f"{name}_grains.map", rng.randint(200_000, 4_000_000)),
            (f"{name}_peaks.h5", rng.randint(50_000_000, 400_000_000)),
        ]
        pipeline = "ImageD11"
    else:
        parameters = {"pipeline": "pyFAI", "number_of_bins": 3000, "radial_unit": "2th_deg"}
        files = [(f"{name}_integrated.h5", rng.randint(300_000, 9_000_000))]
        pipeline = "pyFAI"
    return Acquisition(
        raw.technique, parameters, files, 300, "NXxbase", "xrd_curve", pipeline, extra=raw.extra
    )

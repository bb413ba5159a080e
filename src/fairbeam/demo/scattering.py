"""Acquisitions and processing of the scattering beamlines: SAXS/WAXS on ID02, BioSAXS on
BM29."""

from __future__ import annotations

import math
from random import Random

from fairbeam.demo.acquisition import HC, Acquisition, frame_files, master_file, q, sig


def saxs_raw(rng: Random, name: str, legacy: bool) -> Acquisition:
    """A time series of SAXS (or WAXS) frames on ID02."""
    waxs = rng.random() < 0.25
    energy = 12.23
    distance = 0.1 if waxs else rng.choice([1.0, 3.0, 8.0, 31.0])
    q_max = round(4 * math.pi / (HC / energy / 10) * math.sin(0.5 * math.atan(0.08 / distance)), 3)
    frames = rng.choice([1, 10, 100, 600, 1000])
    exposure = rng.choice([0.001, 0.01, 0.1, 0.5])
    parameters = {
        "energy": q(energy, "keV"),
        "wavelength": q(round(HC / energy, 4), "angstrom"),
        "detector_distance": q(distance, "m"),
        "q_min": q(round(q_max / 150, 4), "1/nm"),
        "q_max": q(q_max, "1/nm"),
        "q_range": q([round(q_max / 150, 4), q_max], "1/nm"),
        "exposure_time": q(exposure, "s"),
        "number_of_frames": frames,
        "transmission": q(round(rng.uniform(20, 90), 1), "%"),
        "flux": q(sig(rng.uniform(1e12, 2e13)), "ph/s"),
        "detector": "Rayonix MX-170HS" if waxs else ("FReLoN 4M" if legacy else "Eiger2 4M"),
        "sample_environment": rng.choice(
            ["capillary", "stopped-flow", "Couette shear cell", "Linkam stage", "microfluidic chip"]
        ),
        "sample_temperature": q(rng.choice([5, 20, 25, 37, 60]), "degC"),
    }
    technique = "wide angle X-ray scattering" if waxs else "small angle X-ray scattering"
    if legacy:
        files = frame_files(f"{name}.edf", frames, 1, 16_800_000, rng)
    else:
        files = [master_file(name, rng, 50_000, 400_000)]
        files += frame_files(f"{name}_eiger2", frames, 100, 3_900_000, rng)
    return Acquisition(
        technique,
        parameters,
        files,
        frames * exposure + 5,
        "NXsas",
        "saxs",
        extra={"q_max": q_max},
    )


def saxs_processed(rng: Random, name: str, raw: Acquisition) -> Acquisition | None:
    """Azimuthal integration by pyFAI in the on-line pipeline."""
    parameters = {
        "pipeline": "dahu",
        "integration_method": "pyFAI csr, pixel splitting",
        "number_of_bins": rng.choice([1000, 2000]),
        "normalisation": "transmitted flux and solid angle",
        "q_min": raw.parameters["q_min"],
        "q_max": raw.parameters["q_max"],
    }
    frames = raw.parameters["number_of_frames"]
    files = [(f"{name}_ave.h5", 40_000 + frames * 16_000), (f"{name}_azim.h5", frames * 720_000)]
    return Acquisition(
        raw.technique,
        parameters,
        files,
        30,
        "NXcanSAS",
        "saxs_curve",
        "dahu",
        extra=raw.extra,
    )


def biosaxs_raw(rng: Random, name: str, legacy: bool) -> Acquisition:
    """A batch measurement of a protein in solution on BM29."""
    frames = rng.choice([10, 10, 20])
    parameters = {
        "energy": q(12.5, "keV"),
        "wavelength": q(round(HC / 12.5, 4), "angstrom"),
        "detector_distance": q(2.83, "m"),
        "q_min": q(0.03, "1/nm"),
        "q_max": q(5.0, "1/nm"),
        "exposure_time": q(1.0, "s"),
        "number_of_frames": frames,
        "concentration": q(round(rng.uniform(0.5, 12), 2), "mg/ml"),
        "buffer": rng.choice(
            [
                "50 mM HEPES pH 7.5, 150 mM NaCl",
                "PBS pH 7.4",
                "20 mM Tris pH 8.0, 300 mM NaCl, 2% glycerol",
            ]
        ),
        "flow": q(rng.choice([1.0, 2.0]), "ul/s"),
        "detector": "Pilatus3 2M" if legacy else "Pilatus3 X 2M",
        "sample_temperature": q(rng.choice([4, 20]), "degC"),
    }
    files = [master_file(name, rng, 200_000, 900_000)]
    files += frame_files(f"{name}_data", frames, frames, 1_900_000, rng)
    return Acquisition(
        "small angle X-ray scattering",
        parameters,
        files,
        frames + 20,
        "NXsas",
        "saxs",
        extra={"q_max": 5.0},
    )


def biosaxs_processed(rng: Random, name: str, raw: Acquisition) -> Acquisition | None:
    """Buffer subtraction and Guinier analysis (FreeSAS) in the on-line pipeline."""
    rg = round(rng.uniform(1.5, 6.5), 2)
    parameters = {
        "pipeline": "FreeSAS",
        "radius_of_gyration": q(rg, "nm"),
        "forward_scattering": round(rng.uniform(10, 400), 2),
        "max_dimension": q(round(rg * rng.uniform(2.8, 3.4), 1), "nm"),
        "porod_volume": q(round(rg**3 * rng.uniform(8, 12), 1), "nm^3"),
        "molecular_weight": q(round(rg**3 * rng.uniform(1.5, 2.5), 1), "kDa"),
    }
    files = [(f"{name}_sub.h5", rng.randint(100_000, 600_000)), (f"{name}_sub.dat", 48_000)]
    return Acquisition(
        raw.technique, parameters, files, 15, "NXcanSAS", "bio_curve", "FreeSAS", extra={"rg": rg}
    )

"""Acquisitions and processing of the imaging beamlines: tomography on ID19, X-ray
fluorescence and absorption spectroscopy on ID21."""

from __future__ import annotations

from random import Random
from typing import Any

from fairbeam.demo.acquisition import Acquisition, frame_files, master_file, q


def tomo_raw(rng: Random, name: str, legacy: bool) -> Acquisition:
    """A half or full turn of radiographs on ID19."""
    projections = rng.choice([2000, 3000, 4000, 6000])
    pixel = rng.choice([0.7, 1.4, 3.5, 6.5, 13.0])
    exposure = rng.choice([0.02, 0.05, 0.1, 0.2])
    darks, flats = 20, 41
    parameters = {
        "energy": q(rng.choice([19.0, 26.0, 35.0, 52.0, 80.0]), "keV"),
        "pixel_size": q(pixel, "um"),
        "number_of_projections": projections,
        "number_of_darks": darks,
        "number_of_flats": flats,
        "scan_range": q(rng.choice([180, 360]), "deg"),
        "exposure_time": q(exposure, "s"),
        "propagation_distance": q(rng.choice([50, 300, 1000, 2500]), "mm"),
        "detector": "pco.edge 4.2 CLHS" if legacy else "Iris 15",
        "optics": rng.choice(["Twinmic 10x", "Mitutoyo 2x", "Optique Peter 5x"]),
        "scintillator": rng.choice(["GGG:Eu 10 um", "LuAG:Ce 25 um", "LSO:Tb 8 um"]),
        "sample_temperature": q(round(rng.uniform(21, 24), 1), "degC"),
    }
    frames = projections + darks + flats
    if legacy:
        files = frame_files(f"{name}.edf", frames, 1, 8_390_000, rng)
        files += [("darkend0000.edf", 8_390_000), ("refHST0000.edf", 16_780_000)]
    else:
        files = [master_file(name, rng, 200_000, 1_500_000)]
        files += frame_files(f"scan0002/{name}_iris15", frames, 1000, 15_700_000, rng)
    return Acquisition(
        "tomography",
        parameters,
        files,
        frames * exposure + 60,
        "NXtomo",
        "tomo",
        extra={"projections": projections},
    )


def tomo_processed(rng: Random, name: str, raw: Acquisition) -> Acquisition | None:
    """The volume reconstructed by nabu (or PyHST2 slices for older scans)."""
    legacy = raw.parameters["detector"].startswith("pco")
    pipeline = "PyHST2" if legacy else "nabu"
    slices = rng.choice([1024, 2048, 2160])
    parameters = {
        "pipeline": pipeline,
        "reconstruction_algorithm": "filtered back-projection",
        "phase_retrieval": "Paganin",
        "delta_beta": rng.choice([100, 200, 500, 1000]),
        "voxel_size": raw.parameters["pixel_size"],
        "number_of_slices": slices,
    }
    if legacy:
        files = [(f"{name}_vol/{name}_{i:05d}.tif", 10_240_000) for i in range(slices)]
    else:
        files = [(f"{name}_rec.hdf5", slices * 2560 * 2560 * 4), (f"{name}_nabu.conf", 6_400)]
    return Acquisition(
        raw.technique, parameters, files, rng.uniform(600, 3600), "NXtomo", "tomo_rec", pipeline
    )


EDGES = {"S K": 2.472, "Cr K": 5.989, "Fe K": 7.112, "Zn K": 9.659, "As K": 11.867}


def xrf_raw(rng: Random, name: str, legacy: bool) -> Acquisition:
    """A fluorescence map or a XANES spectrum on ID21."""
    edge = rng.choice(sorted(EDGES))
    e0 = EDGES[edge]
    if rng.random() < 0.5:
        lines, columns = rng.randint(60, 200), rng.randint(80, 250)
        dwell = rng.choice([20, 50, 100, 200])
        parameters: dict[str, Any] = {
            "scan_type": "map",
            "energy": q(round(e0 + 0.1, 3), "keV"),
            "map_size": f"{columns} x {lines}",
            "step_size": q(rng.choice([0.3, 0.5, 1.0, 2.0]), "um"),
            "dwell_time": q(dwell, "ms"),
            "beam_size_x": q(rng.choice([0.3, 0.5, 0.8]), "um"),
            "beam_size_y": q(rng.choice([0.5, 0.7]), "um"),
            "elements": rng.choice(["Pb, Cr, S, Ca", "Fe, Mn, Ca, K", "Zn, Fe, S, P", "As, Fe, S"]),
            "detector": "Bruker XFlash 16-element SDD",
            "sample_temperature": q(rng.choice([100, 296]), "K"),
        }
        points, technique, picture = lines * columns, "X-ray fluorescence", "xrf"
        files = [master_file(name, rng, 2_000_000, 30_000_000)]
        files += frame_files(f"{name}_falconx", lines, 10, columns * 4_200, rng)
    else:
        points = rng.choice([150, 250, 400])
        dwell = rng.choice([100, 200, 500])
        parameters = {
            "scan_type": "XANES",
            "edge": edge,
            "energy_start": q(round(e0 - 0.03, 3), "keV"),
            "energy_end": q(round(e0 + 0.12, 3), "keV"),
            "energy_step": q(rng.choice([0.2, 0.25, 0.5]), "eV"),
            "number_of_points": points,
            "dwell_time": q(dwell, "ms"),
            "detection_mode": rng.choice(["fluorescence", "transmission"]),
            "detector": "Bruker XFlash 16-element SDD",
            "sample_temperature": q(rng.choice([-150, 22]), "degC"),
        }
        technique, picture = "X-ray absorption spectroscopy", "xas"
        files = [
            master_file(name, rng, 100_000, 900_000),
            (f"{name}_falconx_000001.h5", points * 9_000),
        ]
    return Acquisition(
        technique,
        parameters,
        files,
        points * dwell / 1000 + 30,
        "NXfluo" if picture == "xrf" else "NXxas",
        picture,
        extra={"e0": e0},
    )


def xrf_processed(rng: Random, name: str, raw: Acquisition) -> Acquisition | None:
    """Fitted elemental maps (PyMca) or a normalised spectrum (Larch)."""
    if raw.picture == "xrf":
        parameters = {
            "pipeline": "PyMca",
            "fit_configuration": "ID21_Pb_Cr_vacuum.cfg",
            "elements_fitted": raw.parameters["elements"],
        }
        files = [
            (f"{name}_fit.h5", rng.randint(5_000_000, 60_000_000)),
            (f"{name}_fit.cfg", 12_000),
        ]
        return Acquisition(
            raw.technique, parameters, files, 400, "NXfluo", "xrf", "PyMca", extra=raw.extra
        )
    parameters = {
        "pipeline": "Larch",
        "e0": q(round(raw.extra["e0"] + rng.uniform(-0.002, 0.004), 4), "keV"),
        "edge_step": round(rng.uniform(0.2, 1.8), 3),
        "pre_edge_range": q([-30, -10], "eV"),
        "normalisation_range": q([50, 120], "eV"),
    }
    files = [(f"{name}_norm.h5", rng.randint(60_000, 300_000)), (f"{name}_norm.dat", 24_000)]
    return Acquisition(
        raw.technique, parameters, files, 20, "NXxas", "xas_norm", "Larch", extra=raw.extra
    )

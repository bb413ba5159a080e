"""Short canonical names (energy, detector_distance, ...) that facility search uses."""

from __future__ import annotations

from fairbeam.ingest.records import Parameter

# (canonical name, NeXus class of an enclosing group, field names), best first.
RULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("energy", "NXmonochromator", ("energy",)),
    ("energy", "NXbeam", ("incident_energy", "energy")),
    ("energy", "NXcollection", ("energy",)),
    ("wavelength", "NXmonochromator", ("wavelength",)),
    ("wavelength", "NXbeam", ("incident_wavelength", "wavelength")),
    ("wavelength", "NXcrystal", ("wavelength",)),
    ("detector_distance", "NXdetector", ("distance", "detector_distance", "sample_distance")),
    (
        "exposure_time",
        "NXdetector",
        ("count_time", "exposure_time", "acquisition_time", "acq_expo_time", "frame_time"),
    ),
    ("exposure_time", "NXcollection", ("count_time", "acq_expo_time", "exposure_time")),
    ("temperature", "NXsample", ("temperature",)),
    ("temperature", "NXenvironment", ("temperature",)),
    ("pressure", "NXsample", ("pressure",)),
    ("magnetic_field", "NXsample", ("magnetic_field",)),
    ("flux", "NXbeam", ("flux", "incident_flux")),
    ("flux", "NXmonitor", ("flux",)),
    ("transmission", "NXattenuator", ("attenuator_transmission", "transmission")),
    ("transmission", "NXbeam", ("transmission",)),
    ("pixel_size", "NXdetector", ("x_pixel_size", "pixel_size")),
    ("pixel_size_x", "NXdetector", ("x_pixel_size",)),
    ("pixel_size_y", "NXdetector", ("y_pixel_size",)),
    ("beam_size_x", "NXbeam", ("size_x", "beam_size_x", "incident_beam_size_x")),
    ("beam_size_y", "NXbeam", ("size_y", "beam_size_y", "incident_beam_size_y")),
    ("ring_current", "NXsource", ("current",)),
    ("source_energy", "NXsource", ("energy",)),
    ("sample_rotation", "NXsample", ("rotation_angle", "omega")),
    ("frame_count", "NXdetector", ("frame_count", "nimages")),
]
# NXbeam vectors giving the beam size as [horizontal, vertical].
BEAM_SIZE_FIELDS = ("incident_beam_size", "size", "beam_size")
# The class chain is searched this far up: a detector's settings may sit in a sub-collection.
CLASS_DEPTH = 2


def add_canonical(
    parameters: dict[str, Parameter],
    candidates: list[tuple[tuple[str, ...], str, Parameter]],
) -> None:
    """Add the canonical short names, first rule first, never replacing a name already set."""
    for canonical, nx_class, fields in RULES:
        if canonical in parameters:
            continue
        for classes, name, parameter in candidates:
            if name in fields and nx_class in classes[-CLASS_DEPTH:] and _scalar(parameter):
                parameters[canonical] = Parameter(parameter.value, parameter.unit)
                break
    for classes, name, parameter in candidates:
        if classes[-1:] == ("NXbeam",) and name in BEAM_SIZE_FIELDS:
            value = parameter.value
            if isinstance(value, list) and len(value) == 2 and all(map(_number, value)):
                parameters.setdefault("beam_size_x", Parameter(value[0], parameter.unit))
                parameters.setdefault("beam_size_y", Parameter(value[1], parameter.unit))
    # Bliss files often give the energy only as a positioner.
    for name in ("energy", "wavelength"):
        moved = parameters.get(f"positioners.{name}")
        if moved is not None and _scalar(moved):
            parameters.setdefault(name, Parameter(moved.value, moved.unit))


def _scalar(parameter: Parameter) -> bool:
    return _number(parameter.value) or isinstance(parameter.value, str)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)

"""Read one NXentry into a Scan: its fields, sample, people, default plot and parameters."""

from __future__ import annotations

import h5py

from fairbeam.ingest.canonical import add_canonical
from fairbeam.ingest.records import Parameter, Person, Plot, Scan
from fairbeam.ingest.techniques import technique_for
from fairbeam.ingest.values import attribute_texts, parse_time, summarise
from fairbeam.ingest.walk import FileReader, Found, group_links

# NXentry text fields kept as parameters besides the Scan's own fields.
ENTRY_TEXT_FIELDS = ("program_name", "entry_identifier", "collection_identifier", "run_cycle")
MAX_DEFAULT_HOPS = 8


def read_scan(reader: FileReader, entry: h5py.Group) -> Scan:
    """Return the metadata of one NXentry (or of a top-level group that looks like one)."""
    scan = Scan(name=entry.name.lstrip("/"))
    scan.title = reader.field_text(entry, "title")
    scan.start = parse_time(reader.field_text(entry, "start_time"))
    scan.end = parse_time(reader.field_text(entry, "end_time"))
    scan.experiment_identifier = reader.field_text(entry, "experiment_identifier")
    groups = classified_children(reader, entry)
    scan.definition = read_definition(reader, entry, groups)
    scan.technique = technique_for(scan.definition)
    for _, group in groups.get("NXinstrument", []):
        scan.instrument = scan.instrument or reader.field_text(group, "name")
    scan.instrument = scan.instrument or reader.field_text(entry, "beamline")
    read_sample(reader, entry, groups, scan)
    scan.users = [p for p in (read_person(reader, g) for _, g in groups.get("NXuser", [])) if p]
    found = reader.walk(entry)
    scan.parameters = found.parameters
    for name in ENTRY_TEXT_FIELDS:
        text = reader.field_text(entry, name)
        if text:
            scan.parameters.setdefault(name, Parameter(text, None))
    if scan.definition:
        scan.parameters.setdefault("definition", Parameter(scan.definition, None))
    for _, instrument in groups.get("NXinstrument", []):
        positioners = reader.member(instrument, "positioners")
        if isinstance(positioners, h5py.Group):
            read_collection(
                reader, positioners, "positioners", scan.parameters, found, summary=False
            )
    measurement = reader.member(entry, "measurement")
    if isinstance(measurement, h5py.Group):
        read_collection(reader, measurement, "measurement", scan.parameters, found, summary=True)
    add_canonical(scan.parameters, found.candidates)
    if found.projections is not None:
        scan.parameters.setdefault("number_of_projections", Parameter(found.projections, None))
    scan.plot = find_plot(reader, entry, found.first_nxdata)
    return scan


def classified_children(
    reader: FileReader, entry: h5py.Group
) -> dict[str, list[tuple[str, h5py.Group]]]:
    """Return the entry's child groups by NeXus class."""
    groups: dict[str, list[tuple[str, h5py.Group]]] = {}
    for name, member in reader.children(entry):
        if isinstance(member, h5py.Group):
            groups.setdefault(reader.nx_class(member, name), []).append((name, member))
    return groups


def read_definition(
    reader: FileReader, entry: h5py.Group, groups: dict[str, list[tuple[str, h5py.Group]]]
) -> str | None:
    """Return the application definition: entry field, entry attribute, or an NXsubentry's."""
    found = reader.field_text(entry, "definition") or reader.text(entry, "definition")
    if found:
        return found
    for _, member in groups.get("NXsubentry", []):
        found = reader.field_text(member, "definition") or reader.text(member, "definition")
        if found:
            return found
    return None


def read_sample(
    reader: FileReader,
    entry: h5py.Group,
    groups: dict[str, list[tuple[str, h5py.Group]]],
    scan: Scan,
) -> None:
    """Fill the sample name and formula: an NXsample group, or a `sample` text field."""
    for _, sample in groups.get("NXsample", []):
        scan.sample = scan.sample or reader.field_text(sample, "name")
        scan.sample = scan.sample or reader.field_text(sample, "sample_name")
        formula = reader.field_text(sample, "chemical_formula")
        scan.chemical_formula = scan.chemical_formula or formula
    scan.sample = scan.sample or reader.field_text(entry, "sample")
    scan.sample = scan.sample or reader.field_text(entry, "sample_name")


def read_person(reader: FileReader, group: h5py.Group) -> Person | None:
    """Return the person an NXuser group names; the e-mail field is never read."""
    name = reader.field_text(group, "name")
    if not name:
        return None
    return Person(
        name=name,
        role=reader.field_text(group, "role"),
        affiliation=reader.field_text(group, "affiliation"),
        orcid=reader.field_text(group, "ORCID") or reader.field_text(group, "orcid"),
    )


def read_collection(
    reader: FileReader,
    group: h5py.Group,
    prefix: str,
    parameters: dict[str, Parameter],
    found: Found,
    *,
    summary: bool,
) -> None:
    """Read Bliss positioners or measurement counters as `<prefix>.<name>` parameters."""
    for name, _ in group_links(group):
        if not reader.count():
            return
        member = reader.member(group, name)
        if not isinstance(member, h5py.Dataset):
            continue
        values = walked_values(found, member, f"{prefix}.{name}", summary=summary)
        if values is None:
            try:
                unit = reader.text(member, "units") or None
                if unit is None and not summary:
                    continue
                readable = reader.links.virtual(member) if member.is_virtual else True
                values = summarise(member, f"{prefix}.{name}", unit, read=readable, summary=summary)
            except (OSError, ValueError, TypeError, RuntimeError) as exc:
                reader.problems.append(f"{member.name.lstrip('/')} could not be read: {exc}")
                continue
        for key, value in values.items():
            parameters.setdefault(key, value)


def walked_values(
    found: Found, member: h5py.Dataset, name: str, *, summary: bool
) -> dict[str, Parameter] | None:
    """Return the parameters the walk already read from this field, renamed; None if unread.

    Collections mostly link to fields the walk has read (Bliss counters and positioners):
    reading them again cost a quarter of the whole harvest.
    """
    known = found.fields.get(hash(member.id))
    if known is None:
        return None
    unit, walked, values = known
    if unit is None and not summary:
        return {}
    # The walk reads a short array as one value; a summary wants first, last, min, max.
    if summary and (not values or walked in values):
        return None
    return {name + key[len(walked) :]: value for key, value in values.items()}


def find_plot(reader: FileReader, entry: h5py.Group, first_nxdata: str | None) -> Plot | None:
    """Return the default NXdata: the @default chain, then plotselect, then the first NXdata."""
    current = entry
    for _ in range(MAX_DEFAULT_HOPS):
        target = reader.text(current, "default")
        if not target:
            break
        member = reader.resolve(current, target)
        if not isinstance(member, h5py.Group):
            break
        current = member
        if reader.nx_class(member, target.rsplit("/", 1)[-1]) == "NXdata":
            return describe_plot(reader, member)
    for name in ("plotselect", "data"):
        member = reader.member(entry, name)
        if isinstance(member, h5py.Group) and reader.nx_class(member, name) == "NXdata":
            return describe_plot(reader, member)
    if first_nxdata:
        member = reader.resolve(entry, first_nxdata)
        if isinstance(member, h5py.Group):
            return describe_plot(reader, member)
    measurement = reader.member(entry, "measurement")
    if isinstance(measurement, h5py.Group):
        return Plot(path=measurement.name)
    return None


def describe_plot(reader: FileReader, group: h5py.Group) -> Plot:
    """Return signal, axes and shape of an NXdata group, reading only attributes and shapes."""
    signal = reader.text(group, "signal")
    axes = attribute_texts(group, "axes", reader.max_bytes, reader.problems)
    if not signal:
        # NeXus before 2014 marked the signal field with @signal=1 instead.
        for name, member in reader.children(group):
            if isinstance(member, h5py.Dataset) and "signal" in member.attrs:
                signal = name
                break
    member = reader.member(group, signal) if signal else None
    if isinstance(member, h5py.Dataset):
        if not axes:
            old = reader.text(member, "axes")
            axes = [a for a in (old or "").replace(",", ":").split(":") if a]
        shape = [int(n) for n in member.shape]
        return Plot(path=group.name, signal=signal, axes=axes, shape=shape, ndim=len(shape))
    return Plot(path=group.name, signal=signal, axes=axes)

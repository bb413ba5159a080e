"""Turn HDF5 attribute and dataset values into plain, JSON-able Python values, cheaply."""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime
from typing import Any

import h5py
import numpy as np
from h5py import h5a, h5s, h5t

from fairbeam.ingest.records import Parameter

# Arrays with fewer elements are read whole; larger ones are never read beyond one element.
SMALL_ARRAY = 10_000
# A vector this short (a beam size, a cell edge triple) is kept whole as a list.
SHORT_LIST = 4
# Memory types of string attributes by (size, variable, charset, padding): turning a file
# type into a numpy dtype cost more than reading the attribute.
_STRING_TYPES: dict[tuple[int, bool, int, int], tuple[np.dtype[Any], h5t.TypeID]] = {}


def decode_text(value: Any) -> str | None:
    """Return a str from bytes, numpy strings or a one-element array of them, else None."""
    if isinstance(value, np.ndarray):
        if value.size != 1:
            return None
        value = value.reshape(-1)[0]
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace").rstrip("\x00")
    if isinstance(value, str):
        return str(value)
    return None


def plain(value: Any) -> Any:
    """Return a JSON-able Python value for a numpy scalar, string or small array; None if not."""
    text = decode_text(value)
    if text is not None:
        return text
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return plain(value.reshape(-1)[0])
        if value.dtype.kind in "biuf":
            items = [plain(item) for item in value.tolist()]
            return None if any(item is None for item in _flatten(items)) else items
        if value.dtype.kind in "SUO":
            texts = [decode_text(item) for item in value.reshape(-1)]
            return None if any(t is None for t in texts) else texts
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, list):
        return [plain(item) for item in value]
    return None


def _flatten(items: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def attribute_size(obj: h5py.HLObject, name: str) -> int:
    """Return the bytes an attribute takes in the file, without reading it."""
    return int(h5py.h5a.open(obj.id, name.encode()).get_storage_size())


def read_attribute(obj: h5py.HLObject, name: str, max_bytes: int, problems: list[str]) -> Any:
    """Return an attribute's value, or None when absent, unreadable or larger than `max_bytes`."""
    try:
        key = name.encode()
        if not h5a.exists(obj.id, key):
            return None
        attr = h5a.open(obj.id, key)
        size = attr.get_storage_size()
        if size > max_bytes:
            problems.append(
                f"attribute {obj.name}@{name} is {size} bytes, over {max_bytes}: skipped"
            )
            return None
        value = attribute_value(attr)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        problems.append(f"attribute {obj.name}@{name} could not be read: {exc}")
        return None
    # Variable-length strings only show their length once read.
    text = decode_text(value)
    if text is not None and len(text) > max_bytes:
        problems.append(f"attribute {obj.name}@{name} is over {max_bytes} bytes: skipped")
        return None
    return value


def attribute_value(attr: h5a.AttrID) -> Any:
    """Return an opened attribute's value exactly as h5py's `attrs[name]` does, cheaper."""
    shape = attr.shape
    if shape is None:
        return h5py.Empty(attr.dtype)
    kind = attr.get_type()
    if kind.get_class() == h5t.STRING:
        signature = (kind.get_size(), kind.is_variable_str(), kind.get_cset(), kind.get_strpad())
        known = _STRING_TYPES.get(signature)
        if known is None:
            known = _STRING_TYPES[signature] = (attr.dtype, h5t.py_create(attr.dtype))
        dtype, memory = known
    else:
        dtype = attr.dtype
        memory = h5t.py_create(dtype)
        if dtype.subdtype is not None:
            # NumPy has no top-level array types: the element shape joins the array's.
            dtype, inner = dtype.subdtype
            shape = shape + inner
    values = np.zeros(shape, dtype=dtype, order="C")
    attr.read(values, mtype=memory)
    string = h5t.check_string_dtype(dtype)
    if string and string.length is None:
        values = np.array(
            [b.decode("utf-8", "surrogateescape") for b in values.flat], dtype=dtype
        ).reshape(values.shape)
    return values[()] if values.ndim == 0 else values


def attribute_text(
    obj: h5py.HLObject, name: str, max_bytes: int, problems: list[str]
) -> str | None:
    """Return an attribute as text (bytes or str, scalar or one-element array), else None."""
    return decode_text(read_attribute(obj, name, max_bytes, problems))


def attribute_texts(
    obj: h5py.HLObject, name: str, max_bytes: int, problems: list[str]
) -> list[str]:
    """Return an attribute holding one or several strings as a list of str."""
    value = read_attribute(obj, name, max_bytes, problems)
    if value is None:
        return []
    if isinstance(value, np.ndarray) and value.size > 1:
        return [t for t in (decode_text(v) for v in value.reshape(-1)) if t is not None]
    text = decode_text(value)
    return [text] if text is not None else []


def read_whole(dataset: h5py.Dataset) -> Any:
    """Return a whole dataset as `dataset[()]` does, in one low-level read for small arrays."""
    shape = dataset.shape
    dtype = dataset.dtype
    if shape is None or dtype.kind not in "biuf" or math.prod(shape) > SMALL_ARRAY:
        return dataset[()]
    values = np.empty(shape, dtype=dtype)
    dataset.id.read(h5s.ALL, h5s.ALL, values)
    return values


def is_text(dataset: h5py.Dataset) -> bool:
    """Tell whether a dataset holds strings (fixed or variable length)."""
    return dataset.dtype.kind in "SU" or h5py.check_string_dtype(dataset.dtype) is not None


def dataset_text(dataset: h5py.Dataset, max_bytes: int) -> str | None:
    """Return a scalar or one-element string dataset as str, else None; never reads big data."""
    if not is_text(dataset) or dataset.size != 1:
        return None
    if dataset.dtype.itemsize > max_bytes:
        return None
    text = decode_text(np.asarray(dataset[()]))
    if text is None or len(text) > max_bytes:
        return None
    return text.strip()


def summarise(
    dataset: h5py.Dataset, name: str, unit: str | None, *, read: bool = True, summary: bool = False
) -> dict[str, Parameter]:
    """Return a field as one parameter, or as name.first/.last/.min/.max/.length for arrays.

    With `read` false only the shape is used; with `summary` even short arrays are summarised.
    """
    shape = tuple(int(n) for n in dataset.shape)
    size = math.prod(shape)
    if dataset.dtype.kind not in "biuf" and not is_text(dataset):
        return {}
    short = size <= (SHORT_LIST if len(shape) <= 1 else SHORT_LIST**2)
    if read and not summary and size > 0 and (size == 1 or short):
        value = plain(np.asarray(read_whole(dataset)))
        return {} if value is None else {name: Parameter(value, unit)}
    found: dict[str, Parameter] = {f"{name}.length": Parameter(shape[0] if shape else 1, None)}
    if len(shape) > 1:
        found[f"{name}.shape"] = Parameter(list(shape), None)
    if len(shape) != 1 or size == 0 or not read or is_text(dataset):
        return found
    extremes: dict[str, Any] = {}
    if size < SMALL_ARRAY:
        values = np.asarray(read_whole(dataset))
        first, last = values[0], values[-1]
        if values.dtype.kind == "f" and np.isnan(values).any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                extremes = {"min": plain(np.nanmin(values)), "max": plain(np.nanmax(values))}
        else:
            extremes = {"min": plain(values.min()), "max": plain(values.max())}
    else:
        # One element each: for a chunked, compressed array this decodes two chunks at most.
        first, last = dataset[0], dataset[size - 1]
    for key, value in {"first": plain(first), "last": plain(last), **extremes}.items():
        if value is not None:
            found[f"{name}.{key}"] = Parameter(value, unit)
    return found


def parse_time(text: str | None) -> datetime | None:
    """Parse an ISO 8601 time as an aware UTC datetime; a time without offset is taken as UTC."""
    if not text:
        return None
    cleaned = text.strip().replace(" ", "T", 1) if "T" not in text else text.strip()
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

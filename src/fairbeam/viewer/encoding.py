"""Encodings of values as h5grove sends them: JSON, raw binary, NumPy's .npy and CSV."""

from __future__ import annotations

import io
import json
from typing import Any

import h5py
import numpy as np
from fastapi import Response

from fairbeam.errors import InvalidInput

FORMATS = ("json", "bin", "npy", "csv")
DTYPES = ("origin", "safe")
NUMERIC_KINDS = "biufc"


def _plain(value: Any) -> Any:
    """A JSON-ready version of an h5py value: NaN and infinities become null, bytes text,
    complex numbers [real, imaginary], references their text."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":
            return value.tolist()
        if value.dtype.kind == "f":
            finite = np.isfinite(value)
            if finite.all():
                return value.tolist()
            boxed = value.astype(object)
            boxed[~finite] = None
            return boxed.tolist()
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return _plain(value.item()) if value.dtype.kind != "V" else _plain(np.asarray(value))
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, complex):
        return [_plain(value.real), _plain(value.imag)]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, h5py.Empty):
        return None
    if isinstance(value, h5py.Reference | h5py.RegionReference):
        return str(value)
    return value


def _records(value: np.ndarray[Any, Any] | np.void) -> Any:
    # Compound values: h5grove sends each record as the list of its fields.
    if isinstance(value, np.void):
        return [_plain(value[name]) for name in value.dtype.names or ()]
    return [_records(item) for item in value]


def json_bytes(value: Any) -> bytes:
    """UTF-8 JSON of ``value``, compact."""
    if isinstance(value, np.ndarray | np.void) and value.dtype.names:
        value = _records(value)
    try:
        # Most values (all metadata) are plain already: only numpy values, bytes and the
        # like go through _plain, as json meets them.
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=_plain).encode()
    except (ValueError, TypeError):
        # A NaN or infinity, which JSON has no word for, or keys that are not text.
        return json.dumps(_plain(value), separators=(",", ":"), allow_nan=False).encode()


def json_response(value: Any) -> Response:
    """A JSON response of an h5py value."""
    return Response(json_bytes(value), media_type="application/json")


def is_numeric(dtype: np.dtype[Any]) -> bool:
    """True for booleans, integers, floats and complex numbers."""
    return dtype.kind in NUMERIC_KINDS


def safe_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype a JavaScript typed array reads: little-endian, float16 widened to float32,
    long doubles narrowed to float64."""
    if dtype.kind == "f" and dtype.itemsize < 4:
        return np.dtype("<f4")
    if dtype.kind == "f" and dtype.itemsize > 8:
        return np.dtype("<f8")
    return dtype.newbyteorder("<") if dtype.byteorder in ("=", ">") else dtype


def check_request(fmt: str, dtype: str) -> None:
    """InvalidInput naming the allowed values when ``format`` or ``dtype`` is unknown."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format={fmt!r} is not supported; use one of {', '.join(FORMATS)}")
    if dtype not in DTYPES:
        raise InvalidInput(f"dtype={dtype!r} is not supported; use one of {', '.join(DTYPES)}")


def convert(value: Any, dtype: str) -> Any:
    """The value with ``dtype=safe`` applied (numbers only)."""
    if dtype == "origin":
        return value
    if not isinstance(value, np.ndarray | np.generic) or not is_numeric(value.dtype):
        raise InvalidInput("dtype=safe applies to numeric data only; use dtype=origin")
    return np.asarray(value).astype(safe_dtype(value.dtype), copy=False)


def data_response(value: Any, fmt: str) -> Response:
    """The response of `/data/` for a value already read and converted."""
    if fmt == "json":
        return json_response(value)
    array = np.ascontiguousarray(value)
    if fmt == "bin":
        if array.dtype.kind == "O":
            raise InvalidInput("format=bin needs fixed-size data; use format=json for this")
        # A byte view of the array: no copy of a possibly large frame.
        body = memoryview(array.reshape(-1)).cast("B") if array.size else b""  # type: ignore[arg-type]
        return Response(
            body, media_type="application/octet-stream", headers={"Vary": "Accept-Encoding"}
        )
    if not is_numeric(array.dtype):
        raise InvalidInput(f"format={fmt} applies to numeric data only; use format=json")
    if fmt == "npy":
        buffer = io.BytesIO()
        np.save(buffer, array)
        return _download(buffer.getvalue(), "application/octet-stream", "data.npy")
    if array.ndim not in (1, 2):
        raise InvalidInput("format=csv needs a 1D or 2D selection; add a selection")
    text = io.BytesIO()
    np.savetxt(text, array, delimiter=",")
    return _download(text.getvalue(), "text/csv", "data.csv")


def _download(body: bytes, media_type: str, filename: str) -> Response:
    disposition = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


def accepts_deflate(header: str | None) -> bool:
    """True when an Accept-Encoding header lets the answer be a zlib ("deflate") stream."""
    if not header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        weights[name.strip().lower()] = weight
    return weights.get("deflate", weights.get("*", 0.0)) > 0


def deflate_response(stream: bytes) -> Response:
    """A zlib stream sent as is; the client inflates it (HTTP's "deflate" coding)."""
    return Response(
        stream,
        media_type="application/octet-stream",
        headers={"Content-Encoding": "deflate", "Vary": "Accept-Encoding"},
    )

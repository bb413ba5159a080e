"""Metadata of HDF5 objects, types and attributes in the shapes h5grove answers (keys
sorted, as h5web's H5GroveProvider reads them)."""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from fairbeam.viewer.files import Link, Navigator, Node

Metadata = dict[str, Any]


def _sorted(**items: Any) -> Metadata:
    return dict(sorted(items.items()))


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def dtype_text(dtype: np.dtype[Any]) -> str | dict[str, Any]:
    """A numpy dtype as a string, or a mapping for compound types."""
    if dtype.fields is None:
        return dtype.str
    return {name: dtype_text(spec[0]) for name, spec in dtype.fields.items()}


def type_metadata(type_id: Any) -> Metadata:
    """The HDF5 type: class, numpy dtype, size and what its class adds."""
    meta: Metadata = {
        "class": type_id.get_class(),
        "dtype": dtype_text(type_id.dtype),
        "size": type_id.get_size(),
    }
    if isinstance(type_id, h5py.h5t.TypeIntegerID):
        meta.update(order=type_id.get_order(), sign=type_id.get_sign())
    elif isinstance(type_id, h5py.h5t.TypeFloatID | h5py.h5t.TypeBitfieldID):
        meta.update(order=type_id.get_order())
    elif isinstance(type_id, h5py.h5t.TypeStringID):
        meta.update(
            cset=type_id.get_cset(), strpad=type_id.get_strpad(), vlen=type_id.is_variable_str()
        )
    elif isinstance(type_id, h5py.h5t.TypeOpaqueID):
        meta.update(tag=_text(type_id.get_tag()))
    elif isinstance(type_id, h5py.h5t.TypeEnumID):
        count = type_id.get_nmembers()
        meta.update(
            members={
                _text(type_id.get_member_name(i)): type_id.get_member_value(i) for i in range(count)
            },
            base=type_metadata(type_id.get_super()),
        )
    elif isinstance(type_id, h5py.h5t.TypeCompoundID):
        meta.update(
            members=[
                {"name": _text(type_id.get_member_name(i)), **type_metadata(member)}
                for i in range(type_id.get_nmembers())
                for member in [type_id.get_member_type(i)]
            ]
        )
    elif isinstance(type_id, h5py.h5t.TypeArrayID):
        meta.update(dims=list(type_id.get_array_dims()), base=type_metadata(type_id.get_super()))
    elif isinstance(type_id, h5py.h5t.TypeVlenID):
        meta.update(base=type_metadata(type_id.get_super()))
    return meta


def attributes_metadata(node: Node) -> list[Metadata]:
    """Name, shape and type of each attribute, by name (HDF5's name index gives them in
    order, without the high-level attribute manager)."""
    names: list[bytes] = []
    h5py.h5a.iterate(node.id, names.append, index_type=h5py.h5.INDEX_NAME, order=h5py.h5.ITER_INC)
    found = []
    for name in names:
        attr_id = h5py.h5a.open(node.id, name)
        found.append(
            {"name": _text(name), "shape": attr_id.shape, "type": type_metadata(attr_id.get_type())}
        )
    return found


def filters_of(dataset: h5py.Dataset) -> list[Metadata] | None:
    """The dataset's filter pipeline as `{id, name}`, or None without filters."""
    plist = dataset.id.get_create_plist()
    count = plist.get_nfilters()
    if count <= 0:
        return None
    return [
        {"id": spec[0], "name": _text(spec[3])}
        for spec in (plist.get_filter(i) for i in range(count))
    ]


def entity_metadata(navigator: Navigator, name: str, entity: Node | Link, depth: int) -> Metadata:
    """What h5grove's `/meta/` answers for an object; a group lists its members when
    ``depth`` is 1 (each member described without its own members)."""
    if isinstance(entity, h5py.SoftLink):
        return _sorted(name=name, kind="soft_link", target_path=entity.path)
    if isinstance(entity, h5py.ExternalLink):
        return _sorted(
            name=name,
            kind="external_link",
            target_file=entity.filename,
            target_path=entity.path,
        )
    attributes = attributes_metadata(entity)
    if isinstance(entity, h5py.Dataset):
        return _sorted(
            name=name,
            kind="dataset",
            attributes=attributes,
            chunks=entity.chunks,
            filters=filters_of(entity),
            shape=entity.shape,
            type=type_metadata(entity.id.get_type()),
        )
    if isinstance(entity, h5py.Datatype):
        return _sorted(
            name=name, kind="datatype", attributes=attributes, type=type_metadata(entity.id)
        )
    if depth <= 0:
        return _sorted(name=name, kind="group", attributes=attributes)
    children = [
        entity_metadata(
            navigator,
            child,
            navigator.child(entity, child, resolve="only_valid", where=f"{entity.name}/{child}"),
            depth - 1,
        )
        for child in entity.keys()
    ]
    return _sorted(name=name, kind="group", attributes=attributes, children=children)

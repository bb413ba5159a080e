"""Selections as h5grove takes them (`0`, `0,:,:`, `5:10`, `::2`), and whether one is
exactly one chunk of a dataset."""

from __future__ import annotations

from fairbeam.errors import InvalidInput

Member = int | slice
Selection = tuple[Member, ...]


def parse_selection(text: str | None, shape: tuple[int, ...] | None) -> Selection | None:
    """The selection as indexes and slices, checked against ``shape``; None selects all."""
    if text is None or not text.strip():
        return None
    if shape is None:
        raise InvalidInput(f"selection={text!r}: an empty dataset has nothing to select")
    members = tuple(_member(part.strip(), text) for part in text.split(","))
    if len(members) > len(shape):
        raise InvalidInput(
            f"selection={text!r} has {len(members)} members; the dataset has "
            f"{len(shape)} dimension{'s' if len(shape) != 1 else ''} {list(shape)}"
        )
    for axis, (member, size) in enumerate(zip(members, shape, strict=False)):
        if isinstance(member, int) and not -size <= member < size:
            raise InvalidInput(
                f"selection={text!r}: index {member} is outside 0..{size - 1} on axis {axis}"
            )
    return members


def _member(part: str, text: str) -> Member:
    def number(value: str) -> int | None:
        value = value.strip()
        if not value:
            return None
        try:
            return int(value)
        except ValueError:
            raise InvalidInput(
                f"selection={text!r}: {part!r} is not an index or a start:stop:step slice"
            ) from None

    if ":" not in part:
        index = number(part)
        if index is None:
            raise InvalidInput(f"selection={text!r} has an empty member")
        return index
    pieces = part.split(":")
    if len(pieces) > 3:
        raise InvalidInput(f"selection={text!r}: {part!r} has more than start:stop:step")
    start, stop, *rest = (number(piece) for piece in pieces)
    step = rest[0] if rest else None
    if step is not None and step < 1:
        raise InvalidInput(f"selection={text!r}: step {step} must be 1 or more")
    return slice(start, stop, step)


def chunk_at(
    selection: Selection | None, shape: tuple[int, ...], chunks: tuple[int, ...]
) -> tuple[int, ...] | None:
    """The offset of the chunk that ``selection`` covers exactly, whole and alone, or None."""
    members = selection or ()
    offset = []
    for axis, (size, chunk) in enumerate(zip(shape, chunks, strict=True)):
        member = members[axis] if axis < len(members) else slice(None)
        if isinstance(member, int):
            if chunk != 1:
                return None
            offset.append(member % size)
            continue
        start, stop, step = member.indices(size)
        # A chunk at the far edge holds padding beyond the shape: it is not the selection.
        if step != 1 or start % chunk or stop - start != chunk:
            return None
        offset.append(start)
    return tuple(offset)

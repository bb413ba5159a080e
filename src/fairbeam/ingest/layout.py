"""The facility's directory layout: which proposal, beamline, session, sample and
dataset a path belongs to, read from a template such as the ESRF's
`.../visitor/{proposal}/{beamline}/{session}/{kind}/{sample}/{sample}_{dataset}/{sample}_{dataset}.h5`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from fairbeam.errors import InvalidInput

FIELDS = ("proposal", "beamline", "session", "kind", "sample", "dataset")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class PathInfo:
    """What a path says about its data; None where the layout does not tell."""

    proposal: str | None = None
    beamline: str | None = None
    session: str | None = None
    kind: str | None = None  # "raw" or "processed"
    sample: str | None = None
    dataset: str | None = None


def _compile(template: str) -> re.Pattern[str]:
    pattern = ""
    seen: set[str] = set()
    rest = template
    if rest.startswith(".../"):
        pattern, rest = r"(?:.*/)?", rest[4:]
    position = 0
    for match in _PLACEHOLDER.finditer(rest):
        pattern += re.escape(rest[position : match.start()])
        name = match[1]
        if name not in FIELDS:
            raise InvalidInput(
                f"layout placeholder {{{name}}} is not known; use {', '.join(FIELDS)}"
            )
        pattern += f"(?P={name})" if name in seen else f"(?P<{name}>[^/]+?)"
        seen.add(name)
        position = match.end()
    pattern += re.escape(rest[position:])
    return re.compile(pattern)


class Layout:
    """A compiled layout template, matched whole or, failing that, by its leading part."""

    def __init__(
        self, template: str, raw_folder: str = "RAW_DATA", processed_folder: str = "PROCESSED_DATA"
    ) -> None:
        self.template = template
        self.kinds = {raw_folder: "raw", processed_folder: "processed"}
        parts = template.split("/")
        # The whole template first, then ever shorter leading parts, each followed
        # by anything: a processed folder deeper than the raw one still tells its
        # proposal, beamline and session.
        self._patterns = [_compile(template)] + [
            re.compile(_compile("/".join(parts[:cut])).pattern + r"(?:/.*)?")
            for cut in range(len(parts) - 1, 0, -1)
            if _PLACEHOLDER.search("/".join(parts[:cut]))
        ]

    def match(self, path: str | PurePosixPath) -> PathInfo:
        """What the layout tells about ``path`` (a file or a folder)."""
        text = str(path)
        for pattern in self._patterns:
            found = pattern.fullmatch(text)
            if found:
                values = found.groupdict()
                kind = values.get("kind")
                if kind is not None and kind not in self.kinds:
                    continue
                return PathInfo(
                    proposal=values.get("proposal"),
                    beamline=values.get("beamline"),
                    session=values.get("session"),
                    kind=self.kinds.get(kind) if kind else None,
                    sample=values.get("sample"),
                    dataset=values.get("dataset"),
                )
        return PathInfo()

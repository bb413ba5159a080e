"""Content to safe HTML and searchable text: Markdown is rendered, HTML from the editor
and the rendering both pass through a real sanitiser (nh3, ammonia's bindings)."""

from __future__ import annotations

import html as html_lib
import re

import nh3
from markdown_it import MarkdownIt

from fairbeam.logbook.models import ContentFormat

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_TAGS = (set(nh3.ALLOWED_TAGS) | {"input"}) - {"map", "area"}
_ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "span": {"class"},
    "input": {"type", "checked", "disabled"},  # Markdown task lists
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
}
_SCHEMES = {"http", "https", "mailto", "data"}
# Only images travel as data: URIs, and only raster ones (an SVG may hold a script).
_INLINE_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_SPACE = re.compile(r"[ \t]+")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("src", "href") and value.strip().lower().startswith("data:"):
        if tag == "img" and attribute == "src" and _INLINE_IMAGE.match(value.strip()):
            return value
        return None
    if tag == "input" and attribute == "type" and value != "checkbox":
        return None
    return value


def clean_html(fragment: str) -> str:
    """``fragment`` with scripts, event handlers and dangerous URLs removed."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        attribute_filter=_attribute_filter,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render(content: str, content_format: str) -> str:
    """The sanitised HTML of ``content`` written in ``content_format``."""
    if content_format == ContentFormat.text:
        return f"<pre>{html_lib.escape(content)}</pre>"
    if content_format == ContentFormat.markdown:
        return clean_html(_MARKDOWN.render(content))
    return clean_html(content)


def plain_text(safe_html: str) -> str:
    """The words of sanitised HTML, for search and for the PDF."""
    spaced = re.sub(r"<(br|/p|/div|/li|/h[1-6]|/tr|/pre)\b[^>]*>", "\n", safe_html)
    text = html_lib.unescape(nh3.clean(spaced, tags=set()))
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

"""An investigation's logbook as one self-contained HTML file (images inlined as data:
URIs) or as a PDF made with reportlab, images included."""

from __future__ import annotations

import base64
import html as html_lib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import select
from sqlalchemy.orm import Session

from fairbeam.access.policy import Principal, check_read_logbook
from fairbeam.config import Settings
from fairbeam.logbook.attachments import blob_path
from fairbeam.logbook.logbooks import Target, events_out, find_logbook, resolve_target
from fairbeam.logbook.models import LogbookEvent
from fairbeam.logbook.sanitise import plain_text
from fairbeam.logbook.schemas import AttachmentOut, EventOut

PAGE = 500
_ATTACHED = re.compile(r'src="/api/logbook/attachments/(\d+)/content"')
_IMG = re.compile(r'<img[^>]*\ssrc="([^"]+)"')
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}
article{border-top:1px solid #ccc;padding:.5em 0}header{color:#555;font-size:.9em}
.notification{background:#f6f8fa}.error header{color:#b00}img{max-width:100%}
pre{white-space:pre-wrap}.tag{background:#e8eef8;border-radius:3px;padding:0 .3em}"""


@dataclass
class Export:
    """A logbook to export: its title and its events, oldest first, a page at a time."""

    target: Target
    session: Session
    settings: Settings

    @property
    def title(self) -> str:
        """The export's title."""
        inv = self.target.investigation
        if inv is not None:
            return f"Logbook of {inv.code} on {self.target.instrument_name}: {inv.title}"
        return f"Logbook of beamline {self.target.instrument_name}"

    def events(self) -> Iterator[EventOut]:
        """Every visible event of the logbook, in sequence order."""
        logbook_id = find_logbook(self.session, self.target)
        after = 0
        while logbook_id is not None:
            rows = list(
                self.session.scalars(
                    select(LogbookEvent)
                    .where(
                        LogbookEvent.logbook_id == logbook_id,
                        LogbookEvent.sequence > after,
                        LogbookEvent.deleted.is_(False),
                    )
                    .order_by(LogbookEvent.sequence)
                    .limit(PAGE)
                )
            )
            if not rows:
                return
            yield from events_out(self.session, rows)
            after = rows[-1].sequence

    def blob(self, attachment: AttachmentOut) -> bytes | None:
        """The bytes of an attachment, None when they are missing."""
        path = blob_path(self.settings, attachment.checksum)
        return path.read_bytes() if path.is_file() else None


def open_export(
    session: Session,
    settings: Settings,
    principal: Principal,
    investigation: str | None,
    instrument: str | None,
) -> Export:
    """The logbook to export, once the caller may read it."""
    target = resolve_target(session, investigation, instrument)
    check_read_logbook(principal, target.investigation, target.instrument_id, target.what)
    return Export(target, session, settings)


def _data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def _heading(event: EventOut) -> str:
    tags = " ".join(f'<span class="tag">{html_lib.escape(t)}</span>' for t in event.tags)
    when = event.created.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"#{event.sequence} · {when} · {html_lib.escape(event.author.name)} · "
        f"{event.type} · {event.category}" + (f" · {tags}" if tags else "")
    )


def export_html(export: Export) -> str:
    """The logbook as one HTML file that needs nothing else to show."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html_lib.escape(export.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html_lib.escape(export.title)}</h1>",
    ]
    for event in export.events():
        files = {a.id: a for a in event.attachments}

        def inline(match: re.Match[str], files: dict[int, AttachmentOut] = files) -> str:
            found = files.get(int(match.group(1)))
            data = export.blob(found) if found is not None else None
            return f'src="{_data_uri(found.content_type, data)}"' if found and data else 'src=""'

        body = _ATTACHED.sub(inline, event.html)
        parts.append(f'<article class="{event.type} {event.category}"><header>')
        parts.append(f"{_heading(event)}</header>{body}")
        for attachment in event.attachments:
            data = export.blob(attachment)
            name = html_lib.escape(attachment.filename)
            if data is not None and attachment.content_type.startswith("image/"):
                parts.append(
                    f'<figure><img alt="{name}" src="{_data_uri(attachment.content_type, data)}">'
                )
                parts.append(f"<figcaption>{name}</figcaption></figure>")
            else:
                parts.append(
                    f"<p>Attached: {name} ({attachment.size} bytes, {attachment.checksum})</p>"
                )
        parts.append("</article>")
    parts.append("</body></html>")
    return "".join(parts)


def _font() -> str:
    if _FONT.is_file():
        if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(_FONT)))
        return "DejaVuSans"
    return "Helvetica"


def _image(data: bytes, width: float) -> Image | None:
    try:
        reader = ImageReader(io.BytesIO(data))
        w, h = reader.getSize()
    except Exception:  # not an image reportlab can read: left out of the PDF
        return None
    scale = min(1.0, width / float(w))
    return Image(io.BytesIO(data), width=w * scale, height=h * scale)


def _images(export: Export, event: EventOut) -> Iterator[bytes]:
    files = {a.id: a for a in event.attachments}
    shown: set[int] = set()
    for src in _IMG.findall(event.html):
        if src.startswith("data:image/"):
            yield base64.b64decode(src.split(",", 1)[1])
        elif (found := _ATTACHED.search(f'src="{src}"')) and int(found.group(1)) in files:
            shown.add(int(found.group(1)))
            data = export.blob(files[int(found.group(1))])
            if data:
                yield data
    for attachment in event.attachments:
        if attachment.id not in shown and attachment.content_type.startswith("image/"):
            data = export.blob(attachment)
            if data:
                yield data


def export_pdf(export: Export) -> bytes:
    """The logbook as a PDF, images included."""
    font = _font()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName=font, fontSize=9.5)
    head = ParagraphStyle("head", parent=body, textColor="#555555", fontSize=8.5, spaceBefore=8)
    title = ParagraphStyle("title", parent=styles["Title"], fontName=font)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=export.title, leftMargin=2 * cm)
    width = A4[0] - 4 * cm
    story: list[Flowable] = [Paragraph(html_lib.escape(export.title), title)]
    for event in export.events():
        when = event.created.strftime("%Y-%m-%d %H:%M:%S UTC")
        heading = (
            f"#{event.sequence} · {when} · {event.author.name} · {event.type} · {event.category}"
        )
        if event.tags:
            heading += " · " + ", ".join(event.tags)
        story.append(Paragraph(html_lib.escape(heading), head))
        for block in plain_text(event.html).split("\n\n"):
            if block.strip():
                lines = html_lib.escape(block).replace("\n", "<br/>")
                story.append(Paragraph(lines, body))
        for data in _images(export, event):
            image = _image(data, width)
            if image is not None:
                story.extend([image, Spacer(1, 4)])
        for attachment in event.attachments:
            if not attachment.content_type.startswith("image/"):
                note = f"Attached: {attachment.filename} ({attachment.size} bytes)"
                story.append(Paragraph(html_lib.escape(note), body))
    doc.build(story)
    return out.getvalue()

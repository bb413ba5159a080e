"""Sending a response body made of byte strings and slices of files on disk.

When the server offers the ASGI zero-copy extension (`fairbeam serve` does, see
zerocopy.py) a file slice leaves through the kernel's sendfile; otherwise it is read
in large blocks off the event loop and sent as it is read, never whole in memory.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

ZEROCOPY = "http.response.zerocopysend"
# Large reads keep the per-block cost (a thread hop, one ASGI message) small beside the copy.
BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class FileSlice:
    """``count`` bytes of the file at ``path`` from ``offset``."""

    path: Path
    offset: int
    count: int


Part = bytes | FileSlice


class BodyChanged(OSError):
    """A file ended before the bytes the response promised (it changed on disk)."""


def read_block(fd: int, offset: int, count: int) -> bytes:
    """Up to ``count`` bytes at ``offset``; raises BodyChanged when the file is shorter."""
    data = os.pread(fd, count, offset)
    if not data:
        raise BodyChanged(f"file ended at byte {offset}, before the bytes promised")
    return data


async def file_blocks(part: FileSlice) -> AsyncIterator[bytes]:
    """The bytes of a file slice in blocks of at most BLOCK, read off the event loop."""
    fd = os.open(part.path, os.O_RDONLY)
    try:
        offset, left = part.offset, part.count
        while left:
            data = await anyio.to_thread.run_sync(read_block, fd, offset, min(BLOCK, left))
            offset += len(data)
            left -= len(data)
            yield data
    finally:
        os.close(fd)


async def send_parts(scope: Scope, send: Send, parts: AsyncIterator[Part] | Iterable[Part]) -> None:
    """Send every part as the body, through sendfile when the server offers it."""
    zerocopy = ZEROCOPY in scope.get("extensions", {})

    async def each() -> AsyncIterator[Part]:
        if isinstance(parts, AsyncIterator):
            async for part in parts:
                yield part
        else:
            for part in parts:
                yield part

    pending = b""
    async for part in each():
        if isinstance(part, bytes):
            # Small pieces (headers, boundaries) go out with what follows them.
            pending += part
            if len(pending) >= BLOCK:
                await send({"type": "http.response.body", "body": pending, "more_body": True})
                pending = b""
            continue
        if not part.count:
            continue
        if pending:
            await send({"type": "http.response.body", "body": pending, "more_body": True})
            pending = b""
        if zerocopy:
            with part.path.open("rb") as handle:
                message = {"file": handle, "offset": part.offset, "count": part.count}
                await send({"type": ZEROCOPY, **message, "more_body": True})
        else:
            async for data in file_blocks(part):
                await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": pending, "more_body": False})


class PartsResponse(Response):
    """A response whose body is a sequence of parts with a known total length."""

    def __init__(
        self,
        parts: AsyncIterator[Part] | Iterable[Part],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.parts = parts
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        async with anyio.create_task_group() as group:

            async def watch_disconnect() -> None:
                # A client that leaves stops the reading, not only the sending.
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch_disconnect)
            try:
                await send_parts(scope, send, self.parts)
            finally:
                if isinstance(self.parts, AsyncGenerator):
                    await self.parts.aclose()
                group.cancel_scope.cancel()


def head_only(headers: dict[str, str], status_code: int = 200, **extra: Any) -> Response:
    """A body-less response (304, HEAD) that keeps the given headers as they are."""
    response = Response(status_code=status_code, **extra)
    for name, value in headers.items():
        response.headers[name] = value
    return response

"""uvicorn's httptools protocol with the ASGI zero-copy send extension, so file bytes
leave through the kernel's sendfile instead of passing through Python.

`fairbeam serve` runs uvicorn with this protocol on the asyncio loop (whose transports
support `loop.sendfile`); the application falls back to reading blocks without it.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

ZEROCOPY = "http.response.zerocopysend"
# How uvicorn is told to use it: `uvicorn.run(..., http=PROTOCOL, loop=LOOP)`.
PROTOCOL = "fairbeam.transfer.zerocopy:ZeroCopyProtocol"
LOOP = "asyncio"


class ZeroCopyCycle(RequestResponseCycle):
    """One request and its response, able to send a file slice with sendfile."""

    async def send(self, message: Any) -> None:
        if message["type"] != ZEROCOPY:
            await super().send(message)
            return
        if self.disconnected or self.scope["method"] == "HEAD":
            return
        if self.chunked_encoding or not self.response_started or self.response_complete:
            raise RuntimeError("zero-copy send needs a started response with a Content-Length")
        count = int(message["count"])
        if count > self.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        if self.flow.write_paused:
            await self.flow.drain()
        try:
            loop = asyncio.get_running_loop()
            await loop.sendfile(self.transport, message["file"], int(message["offset"]), count)
        except (ConnectionError, OSError):
            # The client went away mid-body: nothing more can be sent on this connection.
            self.disconnected = True
            self.transport.close()
            return
        self.expected_content_length -= count
        more = bool(message.get("more_body", False))
        await super().send({"type": "http.response.body", "body": b"", "more_body": more})


class ZeroCopyProtocol(HttpToolsProtocol):
    """HttpToolsProtocol announcing and serving the zero-copy send extension."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        scope = cast(dict[str, Any], self.scope)
        scope["extensions"] = {**scope.get("extensions", {}), ZEROCOPY: {}}

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # The cycle's task has not run yet, so its send is looked up on the new class.
        if type(self.cycle) is RequestResponseCycle:
            self.cycle.__class__ = ZeroCopyCycle

"""Events inside the server: a feature publishes what happened, others subscribe.

Handlers run after the change is committed, in the publishing process. A failing
handler is logged and never undoes or blocks the change that was published.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("fairbeam.events")

DATASET_REGISTERED = "dataset.registered"


@dataclass(frozen=True)
class DatasetRegistered:
    """A dataset was registered (``created``) or registered again (updated)."""

    dataset_id: int
    investigation_id: int
    instrument_id: int
    location: str
    created: bool
    source: str  # "api" or "harvest"
    actor: str | None = None


Handler = Callable[[Any], None]
BatchHandler = Callable[[list[Any]], None]


class EventBus:
    """Named events and their subscribers."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._batch_handlers: dict[str, list[BatchHandler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> None:
        """Call ``handler(payload)`` for every event ``name`` published from now on."""
        self._handlers[name].append(handler)

    def subscribe_batch(self, name: str, handler: BatchHandler) -> None:
        """Call ``handler(payloads)`` once for each batch of ``name`` published, so a
        subscriber that writes can write a harvest's thousands of events at once."""
        self._batch_handlers[name].append(handler)

    def publish(self, name: str, payload: Any) -> None:
        """Deliver ``payload`` to every subscriber of ``name``."""
        self.publish_batch(name, [payload])

    def publish_batch(self, name: str, payloads: Sequence[Any]) -> None:
        """Deliver each of ``payloads`` to every subscriber, and all of them at once to
        every batch subscriber of ``name``."""
        for handler in list(self._handlers.get(name, ())):
            for payload in payloads:
                self._call(name, handler, payload)
        for batch_handler in list(self._batch_handlers.get(name, ())):
            self._call(name, batch_handler, list(payloads))

    @staticmethod
    def _call(name: str, handler: Callable[[Any], None], payload: Any) -> None:
        try:
            handler(payload)
        except Exception:
            log.exception("subscriber %r of %s failed", handler, name)


def build_event_bus(make_session: Callable[[], Session] | None = None) -> EventBus:
    """The bus with every feature's subscribers, for a server or a command; with a
    session factory, registered datasets are posted to their logbooks."""
    bus = EventBus()
    if make_session is not None:
        # Imported here: the logbook builds on the catalogue, which publishes events.
        from fairbeam.logbook.notify import dataset_registered_handler

        bus.subscribe_batch(DATASET_REGISTERED, dataset_registered_handler(make_session))
    return bus

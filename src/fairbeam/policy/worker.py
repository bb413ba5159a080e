"""The restore worker: a background thread of `fairbeam serve` that runs queued restores
within seconds of their request, so nobody waits for the next daily pass."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fairbeam.config import Settings
from fairbeam.policy.restore import requeue_abandoned, run_queued_restores

log = logging.getLogger("fairbeam.policy")
POLL_SECONDS = 1.0


def start_restore_worker(
    app_or_sessions: Any, settings: Settings, poll: float = POLL_SECONDS
) -> Callable[[], None]:
    """Start the thread (given the app, or a sessionmaker); returns the call that stops it.

    Each process of the server runs one; requests are claimed with a conditional UPDATE,
    so several processes never run the same restore.
    """
    sessions: sessionmaker[Session] = getattr(
        getattr(app_or_sessions, "state", None), "sessionmaker", app_or_sessions
    )
    stop = threading.Event()

    def loop() -> None:
        try:
            requeue_abandoned(sessions)  # a previous server of this host died mid-restore
        except Exception:
            log.exception("restore worker: requeueing abandoned restores failed")
        while not stop.is_set():
            try:
                run_queued_restores(sessions, settings)
            except Exception:  # the database may be away for a moment: try again later
                log.exception("restore worker: a restore round failed")
            stop.wait(poll)

    thread = threading.Thread(target=loop, name="fairbeam-restore-worker", daemon=True)
    thread.start()

    def stop_worker() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_worker

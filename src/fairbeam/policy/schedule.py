"""The pass on a schedule: a background thread of `fairbeam serve` runs a policy pass
every ``policy_interval_hours`` (0: never). Several server processes may each run the
thread: the pass's own claim lets one of them run it and the others skip."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fairbeam.config import Settings
from fairbeam.db.base import utcnow
from fairbeam.policy.service import PassRunning, last_pass, run_pass

log = logging.getLogger("fairbeam.policy")
# With no pass on record, the first waits this long after start, so a server that is
# started for a moment (or restarted in a loop) does not run one each time.
FIRST_DELAY = 300.0


def seconds_until_due(
    sessions: sessionmaker[Session], interval: timedelta, first: datetime
) -> float:
    """Seconds until the next pass is due: an interval after the last one, or at
    ``first`` when there was none."""
    with sessions() as session:
        last = last_pass(session)
        due = last.started + interval if last is not None else first
    return max(0.0, (due - utcnow()).total_seconds())


def start_policy_schedule(
    app_or_sessions: Any, settings: Settings, first_delay: float = FIRST_DELAY
) -> Callable[[], None]:
    """Start the thread (given the app, or a sessionmaker); returns the call that stops it."""
    sessions: sessionmaker[Session] = getattr(
        getattr(app_or_sessions, "state", None), "sessionmaker", app_or_sessions
    )
    stop = threading.Event()
    if settings.policy_interval_hours <= 0:
        return stop.set
    interval = timedelta(hours=settings.policy_interval_hours)
    first = utcnow() + timedelta(seconds=first_delay)

    def loop() -> None:
        while not stop.is_set():
            try:
                wait = seconds_until_due(sessions, interval, first)
            except Exception:  # the database may be away for a moment
                log.exception("policy schedule: could not read the last pass")
                wait = 60.0
            if wait > 0:
                stop.wait(min(wait, 60.0))
                continue
            try:
                done = run_pass(sessions, settings, trigger="schedule")
                log.info("policy pass %s done: %s", done.id, done.summary)
            except PassRunning as exc:
                log.info("policy schedule: %s", exc.detail)
                stop.wait(60.0)
            except Exception:  # recorded as failed by run_pass; the next one is due later
                log.exception("policy schedule: the pass failed")
                stop.wait(60.0)

    thread = threading.Thread(target=loop, name="fairbeam-policy-schedule", daemon=True)
    thread.start()

    def stop_schedule() -> None:
        stop.set()
        thread.join(timeout=30)

    return stop_schedule

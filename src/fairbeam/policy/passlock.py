"""The lock a policy pass holds for its whole life, across processes.

It is released by whoever outlives the pass: PostgreSQL drops a session's advisory lock
when the connection goes, the kernel drops a file lock when the process goes. So a pass
killed at any point never blocks the next one, and two live passes never run at once.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text

# pg_try_advisory_lock key of the policy pass (the bytes of "fbpolicy").
LOCK_KEY = 0x6662706F6C696379


class PassLock:
    """Try to take the policy pass's lock with ``acquire()``; ``release()`` gives it back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        """True when this process now holds the lock; False when another one does."""
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            held = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
            connection.commit()
            if not held:
                connection.close()
                return False
            self._connection = connection
            return True
        handle = _lock_path(self.engine).open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        """Give the lock back (a no-op when it is not held)."""
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _lock_path(engine: Engine) -> Path:
    """A file beside the SQLite catalogue (processes sharing a SQLite file share a host)."""
    database = engine.url.database
    if not database or database == ":memory:":
        # An in-memory catalogue lives in one process; a per-process file is enough.
        return Path(os.environ.get("TMPDIR", "/tmp")) / f"fairbeam-policy-{os.getpid()}.lock"
    return Path(f"{database}.policy-lock")

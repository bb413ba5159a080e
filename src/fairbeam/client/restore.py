"""Restores from the client: ask for archived data to come back online, and wait for it,
so nobody writes that polling loop themselves."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fairbeam.client.errors import RestoreFailed, RestoreTimeout
from fairbeam.client.models import Restore

if TYPE_CHECKING:
    from fairbeam.client.client import Client

FIRST_POLL = 0.25


def wait_for_restore(client: Client, restore: Restore, timeout: float, poll: float) -> Restore:
    """Follow ``restore`` until it is done (the data is online); RestoreFailed when it
    failed, RestoreTimeout after ``timeout`` seconds (the restore goes on)."""
    deadline = time.monotonic() + timeout
    delay = min(FIRST_POLL, poll)
    path = f"/api/restores/{restore.id}"
    while restore.status not in ("done", "failed"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RestoreTimeout(
                f"restore request {restore.id} of dataset {restore.dataset} is still "
                f"{restore.status} after {timeout:g} s; it goes on: wait again with "
                f"client.restore({restore.dataset}, wait=True)",
                url=path,
            )
        time.sleep(min(delay, left))
        delay = min(delay * 2, poll)
        restore = Restore.model_validate(client._get(path))
    if restore.status == "failed":
        raise RestoreFailed(
            f"restore request {restore.id} of dataset {restore.dataset} failed: {restore.error}",
            url=path,
        )
    return restore

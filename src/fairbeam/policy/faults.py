"""Named fault points: a test hook that kills the process at a chosen step of the policy.

With ``FAIRBEAM_FAULT_POINT=archive:after-pack`` the process sends itself SIGKILL when
it reaches that point, as a power cut or an OOM kill would, so that tests can show a
killed archive, restore or deletion loses no byte and the next pass finishes the work.
Unset (always, outside tests) it does nothing.

Points: ``archive:during-pack`` (a bundle of the batch written, the batch not yet
committed as packed), ``archive:after-pack``, ``archive:after-verify``,
``archive:during-removal``, ``restore:during-extract``, ``delete:during-removal``.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "FAIRBEAM_FAULT_POINT"


def fault_point(name: str) -> None:
    """Kill this process at once when FAIRBEAM_FAULT_POINT names ``name``."""
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)

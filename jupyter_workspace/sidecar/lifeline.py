"""Exit when the coordinator is gone, even if it was killed with SIGKILL and could not say so."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def bind_to_parent(parent_pid: int) -> None:
    """Ask the kernel to send us SIGTERM when our parent dies (Linux), and check it now."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if not parent_alive(parent_pid):  # the parent died before prctl took effect
        os._exit(0)


def parent_alive(parent_pid: int) -> bool:
    """The polling fallback for systems without PDEATHSIG: are we still our parent's child?"""
    return os.getppid() == parent_pid

"""Linux process controls the zygote needs (prctl through ctypes: the stdlib has no wrapper)."""

from __future__ import annotations

import ctypes
import os

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}) failed: {os.strerror(errno)}")


def set_parent_death_signal(signum: int) -> None:
    _prctl(PR_SET_PDEATHSIG, signum)


def make_non_dumpable() -> None:
    """Jobs run as the same uid as the zygote; this stops them reading /proc/<zygote>/mem or ptracing it."""
    _prctl(PR_SET_DUMPABLE, 0)


def become_child_subreaper() -> None:
    """Orphaned descendants of a job re-parent to the zygote, so it can find and kill them."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def child_pids() -> list[int]:
    pids: list[int] = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as children:
                pids.extend(int(pid) for pid in children.read().split())
    except OSError:
        pass
    return pids

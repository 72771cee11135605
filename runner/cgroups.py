"""A memory cgroup per sandbox: the aggregate cap that per-process RLIMIT_AS cannot give.

RLIMIT_AS bounds each process, but a job may run `processes` of them (16 by default): 16 x 768 MB would
be 12 GB on a 24 GB machine. Each zygote and everything it forks lives in its own memory cgroup whose
limit bounds the whole sandbox; the kernel's OOM killer then acts inside that cgroup only.

Best effort: cgroup v1 (this project's machines: hybrid hierarchy) or v2 with the memory controller
delegated. Where neither is writable the pool still runs, with the per-process limits alone, and says so.
"""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
_warned = False


class MemoryCgroup:
    def __init__(self, path: Path, limit_file: str) -> None:
        self.path = path
        self.limit_file = limit_file

    @property
    def procs_file(self) -> str:
        return str(self.path / "cgroup.procs")

    @classmethod
    def create(cls, name: str, limit_mb: int) -> MemoryCgroup | None:
        if os.geteuid() != 0:
            return None
        for parent, limit_file in _candidate_parents():
            _remove_stale_siblings(parent)
            path = parent / name
            try:
                path.mkdir(exist_ok=True)
                (path / limit_file).write_text(str(limit_mb * 1024 * 1024))
                if limit_file == "memory.limit_in_bytes":
                    _write_quietly(path / "memory.memsw.limit_in_bytes", str(limit_mb * 1024 * 1024))
                else:
                    _write_quietly(path / "memory.swap.max", "0")
                return cls(path, limit_file)
            except OSError as problem:
                logger.debug("no memory cgroup under %s: %s", parent, problem)
                _remove_quietly(path)
        _warn_once()
        return None

    def usage_peak_mb(self) -> float:
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            try:
                return int((self.path / name).read_text()) / (1024 * 1024)
            except (OSError, ValueError):
                continue
        return 0.0

    def remove(self) -> None:
        _remove_quietly(self.path)


def _candidate_parents() -> list[tuple[Path, str]]:
    """Our own memory cgroup (v1) or our cgroup's parent (v2), where a child cgroup can be made."""
    candidates: list[tuple[Path, str]] = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return candidates
    for line in lines:
        _, controllers, relative = line.split(":", 2)
        if "memory" in controllers.split(","):
            candidates.append((CGROUP_ROOT / "memory" / relative.lstrip("/"), "memory.limit_in_bytes"))
        elif controllers == "" and (CGROUP_ROOT / "cgroup.controllers").exists():
            parent = (CGROUP_ROOT / relative.lstrip("/")).parent
            try:
                if "memory" in (parent / "cgroup.subtree_control").read_text().split():
                    candidates.append((parent, "memory.max"))
            except OSError:
                pass
    return candidates


PREFIX = "dlquiz-runner-"


_numbers = itertools.count()


def cgroup_name() -> str:
    return f"{PREFIX}{os.getpid()}-{next(_numbers)}"


def _remove_stale_siblings(parent: Path) -> None:
    """Cgroups left by supervisors that died without cleaning up (empty ones only: rmdir refuses others)."""
    try:
        entries = [entry for entry in parent.iterdir() if entry.name.startswith(PREFIX)]
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(PREFIX) :].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            _remove_quietly(entry)


def _write_quietly(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError:
        pass  # swap accounting may be off: without swap the memory limit is the whole limit anyway


def _remove_quietly(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        logger.warning(
            "runner: no writable memory cgroup; each sandbox is bounded only per process (RLIMIT_AS x NPROC)"
        )

"""The supervisor's handle on one zygote process: start it, send it a job, read its answer with a deadline,
and kill it when it stops answering."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.cgroups import MemoryCgroup

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 90.0


class ZygoteFailure(RuntimeError):
    """The zygote died, never became ready, or stopped answering."""


@dataclass(frozen=True)
class LaunchSpec:
    """How to start one zygote: argv, environment, and file descriptors it inherits (closed here after the
    start: a launcher opens fresh ones for every start)."""

    argv: list[str]
    env: dict[str, str] | None = None
    pass_fds: tuple[int, ...] = ()
    sandboxed: bool = False
    description: str = ""
    cwd: str | None = None
    memory_cgroup: MemoryCgroup | None = None  # removed when the zygote stops


class ZygoteProcess:
    def __init__(self, launcher: Callable[[], LaunchSpec], name: str) -> None:
        self.launcher = launcher
        self.spec: LaunchSpec | None = None
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_info: dict[str, Any] = {}
        self._buffer = bytearray()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.stop()
        self._buffer.clear()
        self.spec = spec = self.launcher()
        try:
            self.process = subprocess.Popen(
                spec.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=spec.env,
                cwd=spec.cwd,
                pass_fds=spec.pass_fds,
                start_new_session=True,
            )
        finally:
            for fd in spec.pass_fds:
                os.close(fd)
        threading.Thread(
            target=self._log_stderr, args=(self.process,), name=f"{self.name}-stderr", daemon=True
        ).start()
        try:
            self.ready_info = self._read_message(time.monotonic() + START_TIMEOUT_SECONDS)
        except ZygoteFailure:
            self.stop()
            raise
        if not self.ready_info.get("ready"):
            self.stop()
            raise ZygoteFailure(f"{self.name} sent {self.ready_info!r} instead of its ready message")
        logger.debug("%s ready: %s", self.name, self.ready_info)

    def run(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        if not self.alive:
            raise ZygoteFailure(f"{self.name} is not running")
        assert self.process is not None and self.process.stdin is not None
        line = json.dumps(request, allow_nan=True).encode() + b"\n"
        try:
            self.process.stdin.write(line)
            self.process.stdin.flush()
        except OSError as problem:
            raise ZygoteFailure(f"{self.name} stopped reading requests: {problem}") from problem
        return self._read_message(time.monotonic() + timeout)

    def stop(self, grace_seconds: float = 0.0) -> None:
        """Stop the zygote: EOF on its control pipe first (an idle zygote exits at once and cleans up
        after itself), SIGKILL to its process group once `grace_seconds` have passed."""
        process, self.process = self.process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if grace_seconds > 0:
            try:
                process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                pass
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            logger.error("%s (pid %s) did not die after SIGKILL", self.name, process.pid)
        if self.spec is not None and self.spec.memory_cgroup is not None:
            _remove_cgroup(self.spec.memory_cgroup)

    def abandon(self) -> None:
        """In a forked copy of the supervisor: let go of the parent's zygote without touching it."""
        process, self.process = self.process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                if stream is not None:
                    os.close(stream.fileno())
            except (OSError, ValueError):
                pass
        process.returncode = 0  # stops Popen.__del__ from waiting for or warning about a process not ours

    def host_pids(self) -> list[int]:
        """The zygote's launcher process and all its descendants, as the host sees them."""
        if self.process is None:
            return []
        pids, frontier = [], [self.process.pid]
        while frontier:
            pid = frontier.pop()
            pids.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as children:
                        frontier.extend(int(child) for child in children.read().split())
            except OSError:
                continue
        return pids

    def _read_message(self, deadline: float) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ZygoteFailure(f"{self.name} did not answer in time")
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            data = os.read(fd, 1 << 20)
            if not data:
                code = self.process.poll()
                raise ZygoteFailure(f"{self.name} exited (code {code})")
            self._buffer += data
        end = self._buffer.index(b"\n")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        try:
            message = json.loads(line)
        except ValueError as problem:
            raise ZygoteFailure(f"{self.name} sent an unreadable line: {problem}") from problem
        if not isinstance(message, dict):
            raise ZygoteFailure(f"{self.name} sent {type(message).__name__} instead of an object")
        return message

    def _log_stderr(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        try:
            for raw in process.stderr:
                logger.warning("%s: %s", self.name, raw.decode("utf-8", "replace").rstrip())
        except (OSError, ValueError):
            pass
        finally:
            try:
                process.stderr.close()
            except OSError:
                pass


def _remove_cgroup(cgroup: MemoryCgroup) -> None:
    # The zygote dies a moment after bwrap (parent-death signal); the cgroup can be removed once empty.
    for _ in range(200):
        cgroup.remove()
        if not cgroup.path.exists():
            return
        time.sleep(0.005)
    logger.warning("could not remove %s", cgroup.path)

"""The zygote's side of one job: fork the job process, capture its output, enforce wall time and the output
cap, then kill everything the job left behind and turn what happened into one result dict."""

from __future__ import annotations

import errno
import json
import os
import selectors
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .child import run_child
from .jsonable import clean_text
from .osutil import child_pids

RESULT_LIMIT_BYTES = 32 * 1024 * 1024
READ_CHUNK = 65536


@dataclass
class Capture:
    output_limit: int
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    result: bytearray = field(default_factory=bytearray)
    report: dict[str, Any] | None = None  # what the job process reported about itself
    verdict: str | None = None  # set when the zygote itself stopped the job
    message: str = ""

    def add_output(self, which: bytearray, data: bytes) -> None:
        room = self.output_limit - len(self.stdout) - len(self.stderr)
        which += data[: max(room, 0)]
        if len(data) > room and self.verdict is None:
            self.verdict = "output_limit"
            self.message = f"output exceeded the limit of {self.output_limit // 1024} KB"

    def add_result(self, data: bytes) -> None:
        self.result += data
        if len(self.result) > RESULT_LIMIT_BYTES and self.verdict is None:
            self.verdict = "error"
            self.message = f"exports exceed {RESULT_LIMIT_BYTES // (1024 * 1024)} MB"


class JobSupervisor:
    def __init__(self, scratch_dirs: list[str], is_namespace_init: bool) -> None:
        self.scratch_dirs = scratch_dirs
        self.is_namespace_init = is_namespace_init

    def run(
        self, job: dict[str, Any], control_fds: set[int], reply: Callable[[dict[str, Any]], None]
    ) -> None:
        """Run one job and `reply` with its result. The reply goes out as soon as the job has reported,
        before the slow part (its exit teardown, reaping, wiping scratch), which overlaps the caller's
        handling of the answer; the next request is read only after all of it."""
        limits = job["limits"]
        capture = Capture(output_limit=int(limits["output_kb"]) * 1024)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            for fd in (out_r, err_r, res_r, *control_fds):
                os.close(fd)
            run_child(job, out_w, err_w, res_w, keep_fds=set())
        for fd in (out_w, err_w, res_w):
            os.close(fd)
        try:
            self._watch(pid, out_r, err_r, res_r, capture, started + float(limits["wall_seconds"]), limits)
            wall_ms = (time.monotonic() - started) * 1000
            _drain_output(out_r, err_r, capture)
            if capture.report is not None and capture.verdict is None:
                reply(_reported_result(capture, capture.report, limits, wall_ms))
                _kill_group(pid)
                os.waitpid(pid, 0)
            else:
                _kill_group(pid)
                _, status, usage = os.wait4(pid, 0)
                _drain_output(out_r, err_r, capture)
                _drain(res_r, capture.add_result)
                cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000
                reply(_unreported_result(capture, status, limits, wall_ms, cpu_ms))
        finally:
            for fd in (out_r, err_r, res_r):
                os.close(fd)
            self._kill_leftovers()
            self._wipe_scratch()

    def _watch(
        self,
        pid: int,
        out_r: int,
        err_r: int,
        res_r: int,
        capture: Capture,
        deadline: float,
        limits: dict[str, Any],
    ) -> None:
        """Until the job reported (EOF on a complete result), exited, or broke a limit."""
        pidfd = os.pidfd_open(pid)
        selector = selectors.DefaultSelector()
        try:
            selector.register(pidfd, selectors.EVENT_READ, "exit")
            selector.register(out_r, selectors.EVENT_READ, "stdout")
            selector.register(err_r, selectors.EVENT_READ, "stderr")
            selector.register(res_r, selectors.EVENT_READ, "result")
            while capture.verdict is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    capture.verdict = "timeout"
                    capture.message = f"killed after {float(limits['wall_seconds']):g} s wall time"
                    return
                for key, _ in selector.select(remaining):
                    if key.data == "exit":
                        return
                    data = os.read(key.fd, READ_CHUNK)
                    if data:
                        if key.data == "result":
                            capture.add_result(data)
                        else:
                            capture.add_output(
                                capture.stdout if key.data == "stdout" else capture.stderr, data
                            )
                        continue
                    selector.unregister(key.fd)
                    if key.data == "result":
                        capture.report = _parsed_report(capture.result)
                        if capture.report is not None:
                            return
        finally:
            selector.close()
            os.close(pidfd)

    def _kill_leftovers(self) -> None:
        """Nothing a job started may outlive it (a background process could spy on the next job)."""
        for _ in range(100):
            if self.is_namespace_init:
                _signal_quietly(-1, signal.SIGKILL)  # everything in the sandbox but the zygote itself
            for pid in child_pids():
                _kill_group(pid)
            if not _reap_all():
                return
            time.sleep(0.001)

    def _wipe_scratch(self) -> None:
        for directory in self.scratch_dirs:
            try:
                entries = os.listdir(directory)
            except OSError:
                continue
            for name in entries:
                path = os.path.join(directory, name)
                try:
                    if os.path.isdir(path) and not os.path.islink(path):
                        _make_writable(path)
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)
                except OSError:
                    pass


def _make_writable(top: str) -> None:
    os.chmod(top, 0o700)
    for root, dirs, _ in os.walk(top):
        for name in dirs:
            try:
                os.chmod(os.path.join(root, name), 0o700)
            except OSError:
                pass


def _kill_group(pid: int) -> None:
    _signal_quietly(-pid, signal.SIGKILL)
    _signal_quietly(pid, signal.SIGKILL)


def _signal_quietly(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError:
        pass


def _reap_all() -> bool:
    """Reap every exited child; True while some child is still alive."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def _drain(fd: int, sink: Any) -> None:
    os.set_blocking(fd, False)
    while True:
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as problem:
            if problem.errno == errno.EAGAIN:
                return
            raise
        if not data:
            return
        sink(data)


def _drain_output(out_r: int, err_r: int, capture: Capture) -> None:
    _drain(out_r, lambda data: capture.add_output(capture.stdout, data))
    _drain(err_r, lambda data: capture.add_output(capture.stderr, data))


def _parsed_report(raw: bytearray) -> dict[str, Any] | None:
    try:
        report = json.loads(raw) if raw else None
    except ValueError:  # cut short by a kill mid-write, or forged by the job's own code
        return None
    if not isinstance(report, dict) or report.get("status") not in ("ok", "error", "memory"):
        return None
    return report


def _base_result(capture: Capture, wall_ms: float, cpu_ms: float) -> dict[str, Any]:
    return {
        "stdout": clean_text(capture.stdout.decode("utf-8", "replace")),
        "stderr": clean_text(capture.stderr.decode("utf-8", "replace")),
        "wall_ms": round(wall_ms, 3),
        "cpu_ms": round(cpu_ms, 3),
        "exports": {},
        "error": None,
        "message": capture.message,
    }


def _reported_result(
    capture: Capture, report: dict[str, Any], limits: dict[str, Any], wall_ms: float
) -> dict[str, Any]:
    result = _base_result(capture, wall_ms, float(report.get("cpu_ms") or 0.0))
    result["status"] = report["status"]
    result["exports"] = report.get("exports") or {}
    result["error"] = report.get("error")
    if result["status"] == "memory":
        result["message"] = f"ran out of memory (limit {int(limits['memory_mb'])} MB)"
    elif result["status"] == "error" and result["error"]:
        result["message"] = f"{result['error']['type']}: {result['error']['message']}"[:500]
    return result


def _unreported_result(
    capture: Capture, status: int, limits: dict[str, Any], wall_ms: float, cpu_ms: float
) -> dict[str, Any]:
    if capture.verdict is None and not os.WIFSIGNALED(status):
        report = _parsed_report(capture.result)
        if report is not None:  # it reported just as it exited
            return _reported_result(capture, report, limits, wall_ms)
    result = _base_result(capture, wall_ms, cpu_ms)
    if capture.verdict is not None:
        result["status"] = capture.verdict
    elif os.WIFSIGNALED(status):
        result.update(_signal_verdict(os.WTERMSIG(status), limits, cpu_ms))
    else:
        result["status"] = "error"
        result["message"] = (
            "the job ended without reporting a result (did it call os._exit or close its files?)"
        )
    return result


def _signal_verdict(signum: int, limits: dict[str, Any], cpu_ms: float) -> dict[str, str]:
    cpu_limit = max(1, int(-(-float(limits["cpu_seconds"]) // 1)))
    if signum == signal.SIGXCPU or (signum == signal.SIGKILL and cpu_ms >= cpu_limit * 1000):
        return {"status": "timeout", "message": f"stopped after {cpu_limit} s of CPU time"}
    if signum == signal.SIGXFSZ:
        return {
            "status": "error",
            "message": f"a file grew past the limit of {int(limits['file_size_mb'])} MB",
        }
    name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
    hint = " (deep recursion or a crash in native code)" if signum == signal.SIGSEGV else ""
    return {"status": "killed", "message": f"the job was killed by {name}{hint}"}

"""The forked job process: apply limits, run the cells in one fresh namespace, report one JSON result.

Runs in a child of the zygote and never returns: it ends with ``os._exit``. The result written to the
result pipe holds only what the child alone knows (status, exports, error); the zygote adds the captured
output and timings.
"""

from __future__ import annotations

import builtins
import collections
import ctypes
import io
import json
import linecache
import os
import resource
import signal
import sys
import traceback
from typing import Any, NoReturn

from .jsonable import NotConvertible, clean_text, to_jsonable
from .osutil import set_parent_death_signal

CELL_PREFIX = "<cell "
TRACEBACK_FRAMES_KEPT = 20
MB = 1024 * 1024
M_PERTURB = -6  # glibc mallopt parameter


class ExportFailed(Exception):
    pass


def run_child(
    job: dict[str, Any], stdout_fd: int, stderr_fd: int, result_fd: int, keep_fds: set[int]
) -> NoReturn:
    exit_code = 0
    job_pid = os.getpid()
    _stop_overwriting_freed_memory()
    try:
        _become_job_process(stdout_fd, stderr_fd, result_fd, keep_fds)
        _apply_limits(job["limits"])
        result = _run_cells(job)
    except BaseException as unexpected:  # noqa: BLE001 - the child must always report something
        result = _internal_failure(unexpected)
        exit_code = 1
    if os.getpid() != job_pid:
        os._exit(exit_code)  # a process the job forked ran off the end of the cells: only the job reports
    try:
        _flush_std_streams()
        result["cpu_ms"] = _cpu_ms()
        payload = json.dumps(result, allow_nan=True).encode()
        _write_all(result_fd, payload)
        # EOF on the result pipe tells the zygote we are done: it answers before our (slow) exit teardown.
        os.close(result_fd)
    except BaseException:  # noqa: BLE001
        exit_code = 2
    os._exit(exit_code)


def _stop_overwriting_freed_memory() -> None:
    """Only the zygote's freed memory must be overwritten (runner/sandbox.py); a job's own dies with it."""
    try:
        ctypes.CDLL(None).mallopt(M_PERTURB, 0)
    except (OSError, AttributeError):
        pass


def _cpu_ms() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime) * 1000


def _become_job_process(stdout_fd: int, stderr_fd: int, result_fd: int, keep_fds: set[int]) -> None:
    os.setsid()  # own process group: the zygote kills the whole group when the job ends
    set_parent_death_signal(signal.SIGKILL)
    for signum in (signal.SIGINT, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    keep = {0, 1, 2, result_fd} | keep_fds
    for fd in _open_fds():
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace"
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    sys.__stdout__, sys.__stderr__, sys.__stdin__ = sys.stdout, sys.stderr, sys.stdin
    try:
        os.chdir("/tmp")
    except OSError:
        pass


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 256))


def _apply_limits(limits: dict[str, Any]) -> None:
    cpu = max(1, int(-(-float(limits["cpu_seconds"]) // 1)))
    # The soft CPU limit sends SIGXCPU (reported as timeout); the hard one a second later is SIGKILL.
    _set_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    _set_limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * MB)
    _set_limit(resource.RLIMIT_FSIZE, int(limits["file_size_mb"]) * MB)
    _set_limit(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _set_limit(resource.RLIMIT_NPROC, int(limits["processes"]))
    _set_limit(resource.RLIMIT_CORE, 0)


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    current_soft, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _run_cells(job: dict[str, Any]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    namespace.update(job.get("inputs") or {})
    for cell in job["cells"]:
        filename = f"{CELL_PREFIX}{cell['name']}>"
        source = cell["source"]
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            code = compile(source, filename, "exec")
            exec(code, namespace)  # noqa: S102 - this process exists to run this code, inside the sandbox
        except BaseException as failure:  # noqa: BLE001 - SystemExit/KeyboardInterrupt are job errors too
            return _failure_result(failure)
    try:
        exports = _collect_exports(namespace, job.get("exports") or [])
    except ExportFailed as failure:
        return {"status": "error", "error": _error(type(failure).__name__, str(failure), None, None, "")}
    return {"status": "ok", "exports": exports}


def _collect_exports(namespace: dict[str, Any], names: list[str]) -> dict[str, Any]:
    exports: dict[str, Any] = {}
    for name in names:
        if name not in namespace:
            raise ExportFailed(f"export {name!r} was not defined by the cells")
        try:
            exports[name] = to_jsonable(namespace[name])
            json.dumps(exports[name], allow_nan=True)
        except (NotConvertible, ValueError, RecursionError) as problem:
            raise ExportFailed(f"export {name!r} cannot be converted to JSON: {problem}") from None
        except MemoryError:
            raise ExportFailed(f"export {name!r} is too large to convert to JSON") from None
    return exports


def _failure_result(failure: BaseException) -> dict[str, Any]:
    cell, line = _innermost_cell_position(failure)
    status = "memory" if _is_out_of_memory(failure) else "error"
    try:
        message = clean_text(str(failure))
    except BaseException:  # noqa: BLE001 - str() of a user exception may itself fail
        message = "<exception message could not be shown>"
    return {
        "status": status,
        "error": _error(type(failure).__name__, message, cell, line, _job_traceback(failure)),
    }


def _is_out_of_memory(failure: BaseException) -> bool:
    if isinstance(failure, MemoryError):
        return True
    # torch reports a failed allocation as RuntimeError "... DefaultCPUAllocator: can't allocate memory"
    text = str(failure) if isinstance(failure, RuntimeError) else ""
    return "can't allocate memory" in text or "DefaultCPUAllocator" in text


def _innermost_cell_position(failure: BaseException) -> tuple[str | None, int | None]:
    if isinstance(failure, SyntaxError) and (failure.filename or "").startswith(CELL_PREFIX):
        return _cell_name(failure.filename), failure.lineno
    frames = _cell_frames(failure)
    if not frames:
        return None, None
    innermost = frames[-1]
    return _cell_name(innermost.filename), innermost.lineno


def _cell_frames(failure: BaseException) -> list[traceback.FrameSummary]:
    """The job's own frames, outermost first; a runaway recursion keeps only its two ends."""
    head: list[traceback.FrameSummary] = []
    tail: collections.deque[traceback.FrameSummary] = collections.deque(maxlen=TRACEBACK_FRAMES_KEPT)
    skipped = 0
    entry = failure.__traceback__
    while entry is not None:
        code = entry.tb_frame.f_code
        if code.co_filename.startswith(CELL_PREFIX):
            frame = traceback.FrameSummary(code.co_filename, entry.tb_lineno, code.co_name)
            if len(head) < TRACEBACK_FRAMES_KEPT:
                head.append(frame)
            else:
                if len(tail) == tail.maxlen:
                    skipped += 1
                tail.append(frame)
        entry = entry.tb_next
    if skipped:
        head.append(traceback.FrameSummary("...", 0, f"{skipped} more frames"))
    return head + list(tail)


def _cell_name(filename: str) -> str:
    return filename[len(CELL_PREFIX) : -1]


def _job_traceback(failure: BaseException) -> str:
    try:
        frames = _cell_frames(failure)
        lines = ["Traceback (most recent call last):\n"] if frames else []
        lines += traceback.StackSummary.from_list(frames).format()
        lines += traceback.format_exception_only(type(failure), failure)
        return clean_text("".join(lines))
    except BaseException:  # noqa: BLE001
        return f"{type(failure).__name__}\n"


def _error(type_name: str, message: str, cell: str | None, line: int | None, tb: str) -> dict[str, Any]:
    return {"type": type_name, "message": message, "cell": cell, "line": line, "traceback": tb}


def _internal_failure(unexpected: BaseException) -> dict[str, Any]:
    status = "memory" if isinstance(unexpected, MemoryError) else "error"
    return {
        "status": status,
        "error": _error(type(unexpected).__name__, "the job could not run", None, None, ""),
    }


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the job may have closed or replaced its streams
            pass
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except BaseException:  # noqa: BLE001
            pass


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]

"""The zygote: import numpy and torch once, then fork one fresh job process per request.

Protocol: JSON lines. The zygote writes ``{"ready": ...}`` once its imports are done, then answers each job
line read from its control input with exactly one result line. It runs no torch operation before forking
(a child forked after a multi-threaded torch op hangs) and uses no project code: inside the sandbox only
this package, the interpreter and its site-packages exist.
"""

import os

# Thread pools must be 1 before numpy/torch load: address-space limits and fork both depend on it.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from .osutil import become_child_subreaper, make_non_dumpable, set_parent_death_signal  # noqa: E402
from .supervise import JobSupervisor  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="runner.zygote")
    parser.add_argument("--scratch", action="append", default=[], help="directories wiped after every job")
    args = parser.parse_args(argv)
    scratch = args.scratch or [tempfile.mkdtemp(prefix="dlquiz-runner-")]

    if os.getpid() == 1:
        # Our parent is bwrap (single-threaded, so the signal is reliable): if it goes, so do we. Outside
        # the sandbox the parent may be a short-lived supervisor thread; EOF on the control pipe suffices.
        set_parent_death_signal(signal.SIGKILL)
    control_in, control_out = os.dup(0), os.dup(1)
    # Stray prints (from the zygote or a library) must never corrupt the protocol.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)

    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    # Import (never run) what small course snippets use, so no job pays for it: torch.optim pulls in
    # torch._dynamo lazily on first use, measured at 2.3 s per job when each forked child did it itself.
    import torch._dynamo  # noqa: F401
    import torch.distributions  # noqa: F401
    import torch.nn.functional  # noqa: F401
    import torch.optim  # noqa: F401
    import torch.optim.lr_scheduler  # noqa: F401
    import torch.utils.data  # noqa: F401
    # The template engine's prelude renders stems with Jinja2 inside the sandbox: measured 20 ms per job
    # when each child imported it.
    import jinja2  # noqa: F401
    import jinja2.sandbox  # noqa: F401

    # As pid 1 of the sandbox's namespace, signals without a handler are ignored: jobs can't SIGINT us.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    make_non_dumpable()
    become_child_subreaper()
    supervisor = JobSupervisor(scratch_dirs=scratch, is_namespace_init=os.getpid() == 1)
    gc.collect()
    gc.freeze()  # forked children then don't dirty (copy) the pages of every imported object

    _send(control_out, {"ready": True, "pid": os.getpid(), "uid": os.getuid(), "torch": torch.__version__})
    for line in _request_lines(control_in):
        try:
            job = json.loads(line)
        except ValueError as problem:
            _send(control_out, {"status": "error", "message": f"bad request line: {problem}"})
            continue
        del line
        _run_one(supervisor, job, control_in, control_out)
        del job  # freed (and overwritten, runner/sandbox.py) before the next job is forked
    os.close(control_in)
    if not args.scratch:  # our own temporary directory (unsandboxed development mode)
        shutil.rmtree(scratch[0], ignore_errors=True)
    return 0


def _run_one(supervisor: JobSupervisor, job: dict[str, Any], control_in: int, control_out: int) -> None:
    replies: list[dict[str, Any]] = []

    def reply(result: dict[str, Any]) -> None:
        replies.append(result)
        _send(control_out, result)

    try:
        supervisor.run(job, control_fds={control_in, control_out}, reply=reply)
    except Exception as problem:
        if replies:
            raise  # failed while cleaning up after a job: exit, the supervisor starts a clean zygote
        _send(control_out, {"status": "error", "message": f"the sandbox could not run the job: {problem!r}"})


def _request_lines(fd: int) -> Iterator[bytes]:
    """Request lines, without a reader's buffer that would keep the tail of an earlier request: each
    buffer here is freed (and so overwritten) once used."""
    pending = bytearray()
    while True:
        end = pending.find(b"\n")
        if end >= 0:
            line = bytes(pending[:end])
            # A new buffer rather than `del pending[:end + 1]`, which only moves a start offset forward.
            pending = bytearray(pending[end + 1:])
            yield line
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        pending += chunk
        del chunk


def _send(fd: int, message: dict[str, Any]) -> None:
    payload = memoryview(json.dumps(message, allow_nan=True).encode() + b"\n")
    while payload:
        payload = payload[os.write(fd, payload) :]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

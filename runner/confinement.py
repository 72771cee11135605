"""The confinement self-check every sandboxed pool passes before it accepts a job (fail closed).

A probe job, run like any student job, looks for the ways out that matter most: root, the project's files,
the host's loopback services, the supervisor's environment, the sandbox being skipped altogether.
"""

from __future__ import annotations

import socket
from typing import Protocol

from runner.jobs import Cell, Job, JobResult, Limits


class RunsJobs(Protocol):
    def submit(self, job: Job) -> JobResult: ...

PROBE_SOURCE = r"""
import os, socket
findings = []
if os.getuid() == 0 or os.geteuid() == 0:
    findings.append("jobs run as uid 0")
for path in (project_dir, "/etc/passwd", "/root", "/home", "/var"):
    if os.path.exists(path):
        findings.append(f"{path} is visible inside the sandbox")
probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
probe.settimeout(1.0)
try:
    probe.connect(("127.0.0.1", listening_port))
    findings.append(f"the host's 127.0.0.1:{listening_port} is reachable")
except OSError:
    pass
finally:
    probe.close()
try:
    with open("/proc/1/environ", "rb") as environ:
        if secret_marker.encode() in environ.read():
            findings.append("the supervisor's environment is readable in /proc/1/environ")
except OSError:
    pass
if secret_marker in str(dict(os.environ)):
    findings.append("the supervisor's environment reaches jobs")
"""


def confinement_problems(pool: RunsJobs, project_dir: str, secret_marker: str) -> list[str]:
    """Run the probe through `pool`; every finding is a reason to refuse all jobs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        job = Job(
            cells=(Cell("confinement-probe", PROBE_SOURCE),),
            inputs={
                "project_dir": project_dir,
                "listening_port": listener.getsockname()[1],
                "secret_marker": secret_marker,
            },
            exports=("findings",),
            limits=Limits(wall_seconds=20.0),
        )
        result = pool.submit(job)
    finally:
        listener.close()
    if result.status != "ok":
        detail = result.error.message if result.error else result.message
        return [f"the confinement probe did not run ({result.status}: {detail})"]
    return list(result.exports.get("findings", ["the probe reported nothing"]))

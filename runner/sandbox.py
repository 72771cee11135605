"""How a zygote starts inside the bubblewrap sandbox.

Measured facts this rests on (docs in /work/shared/DESIGN.md):
- bwrap started by root leaves the job kernel uid 0, so root first drops to the dedicated `dlquiz-sandbox`
  uid (setpriv) and only then starts bwrap, which builds an unprivileged user namespace.
- The interpreter lives under /root (mode 700), which that uid cannot traverse, and bwrap resolves bind
  sources (even --ro-bind-fd) with the caller's permissions. So, as root and in a private mount namespace
  that disappears with the zygote, the launcher binds the interpreter, the venv's site-packages and the
  zygote package onto a small tmpfs ("stage"); the dropped uid can reach them there. Nothing on the host
  changes: no chmod, no persistent mount.
- No `--die-with-parent`: it ties bwrap to the *thread* that started it, and the pool starts zygotes from
  short-lived threads (measured: the zygote was SIGKILLed when its starter thread ended). The zygote exits
  on EOF of its control pipe instead, and dies with bwrap through its own parent-death signal.
- `bwrap --clearenv` still leaks the parent's environment through /proc/1/environ: start from `env -i`.
- Every job is forked from the zygote, so it inherits the zygote's memory, freed blocks included: the raw
  request and reply JSON of earlier jobs (other students' answers, hidden tests, explanations, expected
  values) could be read back with ctypes (measured: all of it was). So the zygote allocates through glibc
  only (PYTHONMALLOC=malloc, hence no -E: the environment is ours alone, from `env -i` and --setenv) with
  tcache off and every freed block overwritten (glibc.malloc.perturb); each job turns the overwriting off
  for itself (runner/zygote/child.py). Measured cost: 4-8 ms on a 45-60 ms code grading.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from runner.cgroups import MemoryCgroup
from runner.zygote_process import LaunchSpec

SANDBOX_USER = "dlquiz-sandbox"
STAGE_DIR = "/mnt"  # only ever mounted over inside the launcher's private mount namespace
INSIDE_PYTHON = "/opt/python"
INSIDE_CODE = "/opt/dlquiz"
ZYGOTE_PACKAGE = "runner_zygote"
SCRATCH_MB = 64
FIX_HINT = (
    "Fix the machine: run scripts/setup.sh as root (it installs bubblewrap with `apt-get install bubblewrap` "
    f"and creates the `{SANDBOX_USER}` user), or scripts/install_sandbox.sh to check the sandbox alone."
)

# Runs as root inside `unshare --mount`: stage the three read-only trees, then drop to the sandbox uid.
STAGE_SCRIPT = r"""
set -eu
python_home=$1 site_packages=$2 zygote_dir=$3 uid=$4 gid=$5 cgroup_procs=$6
shift 6
if [ -n "$cgroup_procs" ]; then echo $$ > "$cgroup_procs"; fi
/usr/bin/mount -t tmpfs -o size=64k,mode=755 dlquiz-stage /mnt
for pair in "python:$python_home" "site-packages:$site_packages" "runner_zygote:$zygote_dir"; do
  target=/mnt/${pair%%:*}
  /usr/bin/mkdir "$target"
  /usr/bin/mount --bind "${pair#*:}" "$target"
  /usr/bin/mount -o remount,bind,ro "$target"
done
exec /usr/bin/setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all \
  --no-new-privs -- "$@"
"""


class SandboxUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class SandboxPaths:
    python_home: str  # the base interpreter's prefix (a venv has no interpreter of its own)
    site_packages: str  # the venv's site-packages: numpy, torch
    zygote_dir: str  # runner/zygote, the only project code inside the sandbox
    python_version: str  # e.g. "3.11"


def find_paths() -> SandboxPaths:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return SandboxPaths(
        python_home=os.path.realpath(sys.base_prefix),
        site_packages=os.path.realpath(sysconfig.get_paths()["purelib"]),
        zygote_dir=str(Path(__file__).resolve().parent / "zygote"),
        python_version=version,
    )


def sandbox_ids(configured_uid: int) -> tuple[int, int]:
    if configured_uid:
        try:
            return configured_uid, pwd.getpwuid(configured_uid).pw_gid
        except KeyError:
            return configured_uid, configured_uid
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        raise SandboxUnavailable(f"the sandbox user `{SANDBOX_USER}` does not exist. {FIX_HINT}") from None
    return entry.pw_uid, entry.pw_gid


def check_prerequisites(configured_uid: int) -> None:
    """Raise SandboxUnavailable, with the fix, when this machine cannot run the sandbox at all."""
    if not shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin"):
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed. {FIX_HINT}")
    if os.geteuid() == 0:
        for tool in ("setpriv", "unshare", "mount"):
            if not shutil.which(tool, path="/usr/bin:/bin"):
                raise SandboxUnavailable(f"`{tool}` (util-linux) is missing. {FIX_HINT}")
        uid, _ = sandbox_ids(configured_uid)
        if uid == 0:
            raise SandboxUnavailable("RUNNER_SANDBOX_UID must not be 0 (root)")
    paths = find_paths()
    for path in (paths.python_home, paths.site_packages, paths.zygote_dir):
        if not os.path.isdir(path):
            raise SandboxUnavailable(f"{path} is missing; the sandbox binds it read-only")


ZYGOTE_ARGS = ("-s", "-m", ZYGOTE_PACKAGE, "--scratch", "/tmp", "--scratch", "/dev/shm")
# glibc overwrites every freed block with the perturb byte; tcache would keep some freed blocks as they were.
SCRUB_FREED_MEMORY = {"PYTHONMALLOC": "malloc",
                      "GLIBC_TUNABLES": "glibc.malloc.perturb=165:glibc.malloc.tcache_count=0"}


def bwrap_arguments(
    python_dir: str, site_packages_dir: str, zygote_dir: str, version: str, python_args: tuple[str, ...]
) -> list[str]:
    scratch = str(SCRATCH_MB * 1024 * 1024)
    bwrap = shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin") or "/usr/bin/bwrap"
    # fmt: off
    return [
        bwrap,
        "--unshare-all",  # network (loopback only), pid, ipc, uts, cgroup
        "--unshare-user",
        "--disable-userns",  # no nested namespaces for the job to gain capabilities in
        "--new-session",
        "--as-pid-1",  # the zygote itself is pid 1: immune to jobs' signals, kill(-1) reaches all else
        "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
        "--ro-bind", python_dir, INSIDE_PYTHON,
        "--ro-bind", site_packages_dir, f"{INSIDE_PYTHON}/lib/python{version}/site-packages",
        "--ro-bind", zygote_dir, f"{INSIDE_CODE}/{ZYGOTE_PACKAGE}",
        "--proc", "/proc",
        "--dev", "/dev",
        "--remount-ro", "/dev",  # its tmpfs would otherwise carry files from one job to the next
        "--size", scratch, "--perms", "1777", "--tmpfs", "/tmp",
        "--size", scratch, "--perms", "1777", "--tmpfs", "/dev/shm",
        "--remount-ro", "/",
        "--chdir", INSIDE_CODE,
        "--setenv", "LD_LIBRARY_PATH", f"{INSIDE_PYTHON}/lib",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "HOME", "/tmp",
        *(item for name, value in SCRUB_FREED_MEMORY.items() for item in ("--setenv", name, value)),
        f"{INSIDE_PYTHON}/bin/python{version}", *python_args,
    ]
    # fmt: on


def sandbox_launch_spec(
    configured_uid: int,
    python_args: tuple[str, ...] = ZYGOTE_ARGS,
    memory_cgroup: MemoryCgroup | None = None,
) -> LaunchSpec:
    """The zygote's command line; other `python_args` run any other Python command in the same sandbox.
    With `memory_cgroup` (root only), the sandbox and all it forks are charged to, and capped by, it."""
    paths = find_paths()
    if os.geteuid() != 0:
        # An unprivileged supervisor (a developer's account) is already not root: bwrap alone suffices.
        argv = [
            "/usr/bin/env",
            "-i",
            *bwrap_arguments(
                paths.python_home, paths.site_packages, paths.zygote_dir, paths.python_version, python_args
            ),
        ]
        return LaunchSpec(
            argv=argv, env={}, sandboxed=True, description="bubblewrap sandbox (unprivileged caller)"
        )
    uid, gid = sandbox_ids(configured_uid)
    inner = bwrap_arguments(
        f"{STAGE_DIR}/python",
        f"{STAGE_DIR}/site-packages",
        f"{STAGE_DIR}/runner_zygote",
        paths.python_version,
        python_args,
    )
    argv = [
        "/usr/bin/env",
        "-i",
        "/usr/bin/unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        STAGE_SCRIPT,
        "dlquiz-sandbox-stage",
        paths.python_home,
        paths.site_packages,
        paths.zygote_dir,
        str(uid),
        str(gid),
        memory_cgroup.procs_file if memory_cgroup else "",
        *inner,
    ]
    description = f"bubblewrap sandbox as uid {uid} ({SANDBOX_USER})"
    return LaunchSpec(argv=argv, env={}, sandboxed=True, description=description, memory_cgroup=memory_cgroup)

"""Attacks on the REAL bubblewrap sandbox, each followed by proof that the next job runs normally.

These run student code (trusted=False) through runner.api.execute, exactly as grading does. They need
bubblewrap and the dlquiz-sandbox user (scripts/setup.sh); without them every job is refused and every
test here fails: the suite never skips, because a missing sandbox is exactly what it must catch.
"""

from __future__ import annotations

import glob
import json
import socket
import textwrap
import time
from collections.abc import Iterator

import pytest

from runner.api import Cell, Job, JobResult, Limits, execute
from runner.launch import PROJECT_DIR, RunnerSettings
from runner.pool import build_pool, get_pool

pytestmark = pytest.mark.sandbox

FAILURE_STATUSES = {"error", "killed", "timeout", "memory"}


def attack(
    source: str, exports: tuple[str, ...] = (), inputs: dict | None = None, **limits: float
) -> JobResult:
    cells = (Cell("attack", textwrap.dedent(source)),)
    return execute(Job(cells=cells, inputs=inputs or {}, exports=exports, limits=Limits(**limits)))


HEALTH_CHECK = """
    import os, torch
    others = sorted(int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid()))
    leftover_files = sorted(os.listdir('/tmp')) + sorted(os.listdir('/dev/shm'))
    value = float(torch.arange(4.0).sum())
"""


def assert_next_job_runs_normally() -> None:
    """No process and no file of the previous job is left, and torch works."""
    result = attack(HEALTH_CHECK, exports=("others", "leftover_files", "value"))
    assert result.status == "ok", result
    assert result.exports == {"others": [], "leftover_files": [], "value": 6.0}


def zygote_pids() -> list[int]:
    return [slot.zygote.process.pid for slot in get_pool().slots if slot.zygote.process is not None]


@pytest.fixture(autouse=True)
def no_attack_kills_a_zygote() -> Iterator[None]:
    """A zygote restart would hide a crash; every attack must leave the same zygotes running."""
    assert get_pool().plan.sandboxed, get_pool().plan.refusal
    before = zygote_pids()
    yield
    assert zygote_pids() == before
    assert all(slot.zygote.alive for slot in get_pool().slots)


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A stand-in for a web server on the host's loopback."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


def test_student_code_runs_in_the_sandbox_as_an_unprivileged_user_in_its_own_pid_namespace() -> None:
    result = attack(
        """
        import os
        ids = [os.getuid(), os.geteuid(), os.getgid()]
        pid = os.getpid()
        """,
        exports=("ids", "pid"),
    )
    assert result.status == "ok", result
    assert 0 not in result.exports["ids"]
    assert result.exports["pid"] < 100  # a fresh pid namespace, not the host's


def test_an_infinite_loop_stops_at_the_cpu_limit() -> None:
    result = attack("while True:\n    pass", cpu_seconds=1, wall_seconds=5)
    assert result.status == "timeout"
    assert_next_job_runs_normally()


def test_sleeping_past_the_wall_limit_is_a_timeout() -> None:
    started = time.monotonic()
    result = attack("import time\ntime.sleep(60)", wall_seconds=1)
    assert result.status == "timeout"
    assert time.monotonic() - started < 5
    assert_next_job_runs_normally()


def test_a_fork_bomb_is_contained_and_the_next_job_runs() -> None:
    started = time.monotonic()
    result = attack("import os\nwhile True:\n    os.fork()", wall_seconds=3)
    assert result.status in FAILURE_STATUSES
    assert time.monotonic() - started < 8
    assert_next_job_runs_normally()


def test_a_fork_bomb_cannot_exceed_the_process_limit() -> None:
    result = attack(
        """
        import os, time
        count = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(60)
                count += 1
        except OSError:
            pass
        """,
        exports=("count",),
        processes=8,
    )
    assert result.status == "ok", result
    assert result.exports["count"] < 8
    assert_next_job_runs_normally()


def test_a_thread_bomb_is_contained() -> None:
    result = attack(
        """
        import threading, time
        while True:
            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        """,
        wall_seconds=3,
    )
    assert result.status in FAILURE_STATUSES
    assert_next_job_runs_normally()


@pytest.mark.parametrize(
    "source",
    [
        "hoard = []\nwhile True:\n    hoard.append(' ' * 10_000_000)",
        "import numpy as np\nhoard = np.ones((40_000, 40_000))",
        "import torch\nhoard = [torch.ones(50_000_000) for _ in range(100)]",
    ],
    ids=["python-list", "numpy", "torch"],
)
def test_a_memory_bomb_reports_memory(source: str) -> None:
    result = attack(source, memory_mb=512, wall_seconds=10)
    assert result.status == "memory", result
    assert_next_job_runs_normally()


def test_a_gigabyte_of_output_stops_at_the_output_limit_quickly() -> None:
    started = time.monotonic()
    result = attack("import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)")
    assert result.status == "output_limit"
    assert len(result.stdout) <= 256 * 1024
    assert time.monotonic() - started < 5
    assert_next_job_runs_normally()


@pytest.mark.parametrize("directory", ["/tmp", "/dev/shm"])
def test_filling_a_scratch_directory_fails_inside_the_job_and_is_wiped_after(directory: str) -> None:
    result = attack(
        """
        import os
        block = b'0' * (1 << 20)
        for index in range(10_000):
            with open(os.path.join(directory, f'fill{index}'), 'wb') as sink:
                for _ in range(4):
                    sink.write(block)
        """,
        inputs={"directory": directory},
        wall_seconds=10,
    )
    assert result.status == "error"
    assert result.error.type == "OSError"
    assert "No space left" in result.error.message
    assert_next_job_runs_normally()


def test_a_file_larger_than_the_file_size_limit_cannot_be_written() -> None:
    result = attack("with open('/tmp/big', 'wb') as sink:\n    sink.write(b'0' * (20 << 20))", file_size_mb=8)
    assert result.status == "error"
    assert result.error.type == "OSError" and "too large" in result.error.message
    assert_next_job_runs_normally()


def test_the_project_files_database_and_settings_are_invisible() -> None:
    targets = [str(PROJECT_DIR / "manage.py"), str(PROJECT_DIR / "config" / "settings.py"), "/work", "/root"]
    targets += ["/etc/passwd", "/home"]
    targets += glob.glob(str(PROJECT_DIR / "var" / "*.sqlite3")) or [str(PROJECT_DIR / "var" / "db.sqlite3")]
    result = attack(
        """
        import os
        visible = [path for path in targets if os.path.exists(path)]
        try:
            import config.settings
            settings_imported = True
        except ImportError:
            settings_imported = False
        """,
        inputs={"targets": targets},
        exports=("visible", "settings_imported"),
    )
    assert result.status == "ok", result
    assert result.exports == {"visible": [], "settings_imported": False}
    assert_next_job_runs_normally()


def test_the_supervisors_environment_is_unreadable() -> None:
    result = attack(
        """
        import os
        variables = dict(os.environ)
        try:
            environ_of_pid_1 = open('/proc/1/environ').read()
        except OSError as problem:
            environ_of_pid_1 = type(problem).__name__
        """,
        exports=("variables", "environ_of_pid_1"),
    )
    assert result.status == "ok", result
    leaked = json.dumps(result.exports)
    for secret in (
        "DJANGO_SETTINGS_MODULE",
        "DLQUIZ_RUNNER_CANARY",
        "SECRET",
        "DATABASE",
        "PASSWORD",
        "/work",
    ):
        assert secret not in leaked
    assert result.exports["environ_of_pid_1"] == "PermissionError"
    assert_next_job_runs_normally()


def test_loopback_services_and_the_host_network_are_unreachable(listening_port: int) -> None:
    result = attack(
        """
        import os, socket
        reached = []
        for port in ports:
            probe = socket.socket()
            probe.settimeout(1)
            try:
                probe.connect(('127.0.0.1', port))
                reached.append(port)
            except OSError:
                pass
            finally:
                probe.close()
        try:
            socket.create_connection(('1.1.1.1', 80), timeout=1)
            internet = True
        except OSError:
            internet = False
        unix_sockets = [path for path in ('/var/run/postgresql', '/run/redis', '/tmp/.s.PGSQL.5432')
                        if os.path.exists(path)]
        """,
        inputs={"ports": [5432, 6379, 8000, listening_port]},
        exports=("reached", "internet", "unix_sockets"),
    )
    assert result.status == "ok", result
    assert result.exports == {"reached": [], "internet": False, "unix_sockets": []}
    assert_next_job_runs_normally()


def test_subprocess_and_os_system_stay_inside_the_sandbox() -> None:
    result = attack(
        """
        import os, subprocess
        uid = subprocess.run(['id', '-u'], capture_output=True, text=True).stdout.strip()
        status = os.system('cat /work/main/manage.py > /dev/null 2>&1')
        wrote = os.system('touch /usr/escape 2>/dev/null') == 0 or os.system('touch /escape 2>/dev/null') == 0
        """,
        exports=("uid", "status", "wrote"),
    )
    assert result.status == "ok", result
    assert result.exports["uid"] not in ("", "0")
    assert result.exports["status"] != 0
    assert result.exports["wrote"] is False
    assert_next_job_runs_normally()


def test_ctypes_cannot_regain_root_or_ptrace_the_zygote() -> None:
    result = attack(
        """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        setuid = libc.setuid(0)
        PTRACE_ATTACH = 16
        ptrace = libc.ptrace(PTRACE_ATTACH, 1, None, None)
        try:
            open('/proc/1/mem', 'rb').read(1)
            memory = 'read'
        except OSError as problem:
            memory = type(problem).__name__
        """,
        exports=("setuid", "ptrace", "memory"),
    )
    assert result.status == "ok", result
    assert result.exports == {"setuid": -1, "ptrace": -1, "memory": "PermissionError"}
    assert_next_job_runs_normally()


def test_signalling_the_zygote_and_parent_does_nothing() -> None:
    result = attack(
        """
        import os, signal
        for target in {1, os.getppid()}:
            for signum in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGSTOP, signal.SIGSEGV):
                try:
                    os.kill(target, signum)
                except OSError:
                    pass
        """
    )
    assert result.status == "ok", result
    assert_next_job_runs_normally()  # and the autouse fixture checks the zygotes were not restarted


def test_a_background_process_does_not_survive_into_the_next_job() -> None:
    result = attack(
        """
        import os, subprocess, time
        subprocess.Popen(['sh', '-c', 'sleep 300'], start_new_session=True)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(300)
            os._exit(0)
        open('/tmp/note_for_the_next_student', 'w').write('hello')
        """
    )
    assert result.status == "ok", result
    assert_next_job_runs_normally()


def test_deep_recursion_fails_cleanly() -> None:
    result = attack(
        """
        import sys
        sys.setrecursionlimit(10 ** 7)
        def down(n):
            return down(n + 1)
        down(0)
        """,
        cpu_seconds=2,
        wall_seconds=4,
    )
    assert result.status in FAILURE_STATUSES
    if result.status == "killed":
        assert "SIGSEGV" in result.message
    assert_next_job_runs_normally()
    plain = attack("def down(n):\n    return down(n + 1)\ndown(0)")
    assert plain.status == "error" and plain.error.type == "RecursionError"
    assert (plain.error.cell, plain.error.line) == ("attack", 2)
    assert "more frames" in plain.error.traceback and len(plain.error.traceback) < 10_000
    assert_next_job_runs_normally()


def test_a_picklable_object_is_not_returned_only_json_is() -> None:
    result = attack(
        """
        class Gadget:
            def __reduce__(self):
                return (print, ('pwned',))
        gadget = Gadget()
        """,
        exports=("gadget",),
    )
    assert result.status == "error"
    assert "gadget" in result.error.message and "JSON" in result.error.message
    assert result.exports == {}
    assert_next_job_runs_normally()


def test_a_huge_integer_is_refused_as_export_and_as_output() -> None:
    exported = attack("huge = 10 ** 100000", exports=("huge",))
    assert exported.status == "error" and "huge" in exported.error.message
    printed = attack("print(10 ** 100000)")
    assert printed.status == "error" and printed.error.type == "ValueError"
    assert_next_job_runs_normally()


def test_nul_bytes_and_lone_surrogates_in_output_arrive_as_clean_text() -> None:
    result = attack(
        r"""
        import sys, os
        print('a\x00b')
        print('c\udc80d')
        sys.stderr.write('e\ud800f\n')
        os.write(1, b'\xff\xfe raw\n')
        text = 'g\udfffh\x00'
        """,
        exports=("text",),
    )
    assert result.status == "ok", result
    for text in (result.stdout, result.stderr, result.exports["text"]):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates survive
    assert "a\ufffdb\n" in result.stdout
    assert_next_job_runs_normally()


def test_the_job_cannot_write_outside_its_scratch_directories() -> None:
    result = attack(
        """
        import os
        writable = []
        for directory in ('/', '/opt', '/opt/python', '/opt/dlquiz/runner_zygote', '/usr', '/proc/1', '/dev'):
            try:
                open(os.path.join(directory, 'x'), 'w').close()
                writable.append(directory)
            except OSError:
                pass
        """,
        exports=("writable",),
    )
    assert result.status == "ok", result
    assert result.exports["writable"] == []
    assert_next_job_runs_normally()


def test_many_processes_together_cannot_exceed_the_sandboxs_memory_cgroup() -> None:
    pool = build_pool(
        RunnerSettings(
            pool_size=1,
            queue_limit=1,
            sandbox_uid=0,
            allow_unsandboxed_templates=False,
            sandbox_memory_mb=1024,
        )
    )
    try:
        cgroup = pool.slots[0].zygote.spec.memory_cgroup
        assert cgroup is not None, "no memory cgroup: each sandbox is bounded only per process"
        zygote = pool.slots[0].zygote.process.pid
        result = pool.submit(
            Job(
                cells=(
                    Cell(
                        "attack",
                        textwrap.dedent(
                            """
                            import os
                            children = []
                            for _ in range(4):
                                pid = os.fork()
                                if pid == 0:
                                    hoard = b'x' * (500 << 20)  # written, so really resident
                                    os._exit(0)
                                children.append(pid)
                            statuses = [os.waitpid(pid, 0)[1] for pid in children]
                            """
                        ),
                    ),
                ),
                exports=("statuses",),
                limits=Limits(memory_mb=2048, wall_seconds=20),
            )
        )
        assert result.status == "ok", result
        assert 9 in result.exports["statuses"]  # the kernel's OOM killer, confined to this cgroup, stepped in
        assert cgroup.usage_peak_mb() <= 1024
        assert pool.slots[0].zygote.process.pid == zygote
        health = pool.submit(Job(cells=(Cell("health", textwrap.dedent(HEALTH_CHECK)),), exports=("value",)))
        assert health.status == "ok" and health.exports == {"value": 6.0}
    finally:
        pool.close()

"""How long an author waits for `preview_template`: wall time of the whole command, from the shell.

    .venv/bin/python benchmarks/preview_startup.py [--repeat 5] [--notebook bank/lecture-08/conv-output-size.ipynb]

Runs, interleaved so that the machine's load hits each alike: one seed (`--seed 3 --json`), and ten seeds
in one run (`--seeds 0-9 --json`). Pass `--command NAME` to time another command with the same arguments
(e.g. a copy of the old command). Prints the median and the spread, and the load average.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(argv: list[str]) -> float | None:
    """Seconds, or None if the command failed (an old command without --seeds)."""
    start = time.perf_counter()
    completed = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    return elapsed if completed.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--notebook", default="bank/lecture-08/conv-output-size.ipynb")
    parser.add_argument("--command", action="append", default=None)
    args = parser.parse_args()
    commands = args.command or ["preview_template"]
    cases = {f"{command} {extra}": [sys.executable, "manage.py", command, args.notebook, *extra.split()]
             for command in commands for extra in ("--seed 3 --json", "--seeds 0-9 --json")}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, argv in cases.items():
            elapsed = timed(argv)
            if elapsed is not None:
                times[name].append(elapsed)
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, {args.repeat} runs each")
    print("| command | median s | min s | max s |\n|---|---:|---:|---:|")
    for name, values in times.items():
        if not values:
            print(f"| `{name}` | failed | | |")
            continue
        print(f"| `{name}` | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()

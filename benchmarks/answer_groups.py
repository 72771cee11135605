"""Answer groups for 500 realistic short written answers (tests/answer_group_support.py: paraphrases of two
correct and three incorrect explanations of vanishing gradients, hedges, casing, typos, blanks and noise,
seed 15) through exams.answer_groups.suggest_groups: the model's load time, the embedding time, the
clustering time and the total, then how the distance threshold trades purity against the number of groups.

    .venv/bin/python benchmarks/answer_groups.py [--answers 500] [--seed 15] [--no-sweep]

Purity counts the two correct explanations (the product of small sigmoid derivatives, saturation) as one
class: a grader gives them the same items. "Misplaced" answers sit in a group whose majority is another
class. Prints a Markdown section for docs/benchmarks.md. Needs no database.
"""
from __future__ import annotations

import argparse
import collections
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from exams import answer_groups  # noqa: E402
from tests.answer_group_support import realistic_answers  # noqa: E402

COARSE = {"chain-rule-product": "correct", "saturation": "correct"}


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()[:10]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"nproc {os.cpu_count()}, Python {platform.python_version()}, load average {load} at the start\n\n"
            "```\n" + "\n".join(lscpu) + "\n```")


def sweep(texts: list[str], kinds: list[str], thresholds: list[float]) -> list[str]:
    kind_of: dict[str, str] = {}
    weight: collections.Counter[str] = collections.Counter()
    for text, kind in zip(texts, kinds):
        key = answer_groups.normalise(text)
        if key:
            kind_of[key] = COARSE.get(kind, kind)
            weight[key] += 1
    keys = list(kind_of)
    vectors = answer_groups.embed(keys)
    total = sum(weight.values())
    rows = ["| threshold | groups | largest groups | purity | misplaced answers |", "|---|---|---|---|---|"]
    for threshold in thresholds:
        labels = answer_groups.cluster(vectors, threshold)
        groups: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for label, key in zip(labels, keys):
            groups[int(label)][kind_of[key]] += weight[key]
        majority = sum(counts.most_common(1)[0][1] for counts in groups.values())
        sizes = sorted((sum(counts.values()) for counts in groups.values()), reverse=True)[:6]
        rows.append(f"| {threshold:.2f}{' (chosen)' if abs(threshold - answer_groups.DISTANCE_THRESHOLD) < 1e-9 else ''}"
                    f" | {len(groups)} | {', '.join(map(str, sizes))} | {majority / total:.3f} | {total - majority} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--no-sweep", action="store_true")
    args = parser.parse_args()
    print(machine())
    data = realistic_answers(args.answers, seed=args.seed)
    texts = [text for text, _ in data]
    kinds = [kind for _, kind in data]
    started = time.perf_counter()
    answer_groups.load_model()
    load = time.perf_counter() - started
    suggestions = answer_groups.suggest_groups(texts)
    timings = suggestions.timings
    distances = np.array([d for g in suggestions.groups if not g.is_blank and len(g.members) > 1 for d in g.distances])
    exceptions = int((distances > answer_groups.EXCEPTION_DISTANCE).sum())
    print(f"\n{len(texts)} answers, {suggestions.distinct} distinct after normalising, "
          f"{len(suggestions.groups)} groups (threshold {answer_groups.DISTANCE_THRESHOLD}), "
          f"{exceptions} exceptions (distance > {answer_groups.EXCEPTION_DISTANCE})\n")
    print("| step | seconds |\n|---|---|")
    print(f"| model load (first use in the process) | {load:.2f} |")
    print(f"| embedding {suggestions.distinct} distinct answers | {timings['embed']:.2f} |")
    print(f"| clustering | {timings['cluster']:.3f} |")
    print(f"| total (model loaded) | {timings['total']:.2f} |")
    print(f"| total with the model load | {load + timings['total']:.2f} |")
    print("\nMember distances to their group's centre, percentiles 50/90/95/99: "
          + " / ".join(f"{value:.3f}" for value in np.percentile(distances, [50, 90, 95, 99])))
    if not args.no_sweep:
        print()
        print("\n".join(sweep(texts, kinds, [0.30, 0.35, 0.40, 0.45, 0.50, 0.55])))


if __name__ == "__main__":
    main()

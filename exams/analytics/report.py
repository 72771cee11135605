"""The analysis of an assessment (items = question positions) and of a template (across every assessment
of the given courses that drew it), as JSON-able dicts: what the cache stores and the pages and CSVs show."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from exams.analytics import misconceptions as mc
from exams.analytics.data import Answer, TemplateInfo, counted_attempts, load_answers
from exams.analytics.item_statistics import (
    ItemStats,
    item_statistics,
    item_vs_rest,
    parameter_groups,
    test_statistics,
)
from exams.models import Assessment, Attempt

FORMAT = 2  # bump when the stored shape changes: older cached analyses are recomputed
HISTOGRAM_BINS = 10


def _histogram(percents: list[float]) -> list[int]:
    counts = [0] * HISTOGRAM_BINS
    for value in percents:
        counts[min(HISTOGRAM_BINS - 1, max(0, int(value // (100 / HISTOGRAM_BINS))))] += 1
    return counts


def _random_guess(info: TemplateInfo, answers: list[Answer]) -> float:
    if info.kind != "mcq":
        return 0.0
    counts = [len(a.key.get("option_sources") or []) for a in answers]
    counts = [c for c in counts if c]
    return 100.0 * float(np.mean([1.0 / c for c in counts])) if counts else 0.0


def misconception_table(info: TemplateInfo, answers: list[Answer]) -> dict[str, Any]:
    """Share of the students who drew this template that chose (MCQ) or computed (other kinds) each named
    misconception. `offered` counts the students whose variant had that mistake as an option / a value."""
    names: list[str] = []
    offered: Counter[str] = Counter()
    chosen: Counter[str] = Counter()
    correct = blank = fixed = unexplained = 0
    for answer in answers:
        if info.kind == "mcq":
            variant_names = [s.split(":", 1)[1] for s in answer.key.get("option_sources") or []
                             if str(s).startswith("misconception:")]
        else:
            values = answer.key.get("misconception_values")
            variant_names = list(values) if isinstance(values, dict) else []
        for name in variant_names:
            offered[name] += 1
            if name not in names:
                names.append(name)
        if not answer.text.strip():
            blank += 1
            continue
        if answer.score >= 0.999:
            correct += 1
            continue
        name = mc.attribute(info.kind, info.answer_format, answer.key, info.answer_config, answer.text, answer.score)
        if name is not None:
            chosen[name] += 1
        elif info.kind == "mcq" and mc.chosen_source(answer.key, answer.text) == mc.FIXED:
            fixed += 1
        else:
            unexplained += 1
    n = len(answers)
    rows = [{"name": name, "count": chosen[name], "offered": offered[name],
             "share": 100.0 * chosen[name] / n if n else 0.0} for name in names]
    rows.sort(key=lambda row: -row["count"])
    return {"template_id": info.id, "slug": info.slug, "title": info.title, "kind": info.kind, "n": n,
            "correct": correct, "blank": blank, "fixed": fixed, "unexplained": unexplained, "rows": rows,
            "has_named": bool(names)}


MISTAKE_SAMPLE_SEEDS = 3  # variants per version on which each known mistake is graded


def _mistake_patterns(info: TemplateInfo, failing: list[Answer]) -> dict[int, list[dict[str, Any]]]:
    """Per version: the outcome patterns of each known mistake, graded on the variants most failing
    answers drew (a few runner jobs per mistake; the analysis runs in the worker)."""
    by_version: dict[int, Counter[int]] = defaultdict(Counter)
    expected: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for answer in failing:
        if answer.key.get("expected_tests"):
            by_version[answer.version_id][answer.seed] += 1
            expected[(answer.version_id, answer.seed)] = answer.key["expected_tests"]
    found = {}
    for version_id, seeds in by_version.items():
        spec = info.version_specs.get(version_id) or {}
        sample = [(seed, expected[(version_id, seed)]) for seed, _ in seeds.most_common(MISTAKE_SAMPLE_SEEDS)]
        found[version_id] = mc.mistake_patterns(spec, sample)
    return found


def completion_patterns(info: TemplateInfo, answers: list[Answer], grade_mistakes: bool = True) -> dict[str, Any]:
    """Failing code answers grouped by their test-outcome pattern, each matched to a known mistake that
    gives the same pattern (on that version; else on any version)."""
    failing = [a for a in answers if a.score < 0.999 and mc.outcome_pattern(a.feedback_data) is not None]
    known = _mistake_patterns(info, failing) if info.mistakes and grade_mistakes else {}
    everywhere = [m for patterns in known.values() for m in patterns]
    patterns: Counter[tuple[tuple[str, ...], int, int]] = Counter()
    mistakes: dict[tuple[tuple[str, ...], int, int], Counter[str]] = defaultdict(Counter)
    for answer in failing:
        pattern = mc.outcome_pattern(answer.feedback_data)
        patterns[pattern] += 1
        name = mc.mistake_for_pattern(pattern, known.get(answer.version_id, [])) or \
            mc.mistake_for_pattern(pattern, everywhere)
        if name:
            mistakes[pattern][name] += 1
    rows = []
    for pattern, count in patterns.most_common():
        failed, hidden_passed, hidden_total = pattern
        named = mistakes[pattern].most_common(1)
        rows.append({"pattern": mc.describe_pattern(pattern), "visible_failed": list(failed),
                     "hidden_passed": hidden_passed, "hidden_total": hidden_total, "count": count,
                     "share": 100.0 * count / len(answers) if answers else 0.0,
                     "mistake": named[0][0] if named else ""})
    return {"template_id": info.id, "slug": info.slug, "title": info.title, "n": len(answers), "failing": len(failing),
            "patterns": rows, "declares_mistakes": bool(info.mistakes),
            "mistake_patterns": {str(version): found for version, found in known.items()}}


def _subrow(label: str, members: list[int], marks: np.ndarray, rest: np.ndarray, extra: dict[str, Any]) -> dict[str, Any]:
    stats = item_vs_rest(label, marks[members], rest[members])
    return {**stats.as_dict(), **extra}


def _variant_flags(answers: list[Answer]) -> list[dict[str, Any]]:
    marks = np.array([a.score for a in answers])
    return parameter_groups([a.key.get("params") or {} for a in answers], marks)


def assessment_analysis(assessment: Assessment, grade_mistakes: bool = True) -> dict[str, Any]:
    """`grade_mistakes=False` (a page view computing inline): no runner job; known mistakes are named once
    the worker recomputes (the result says `mistakes_pending`)."""
    attempts = Attempt.objects.filter(assessment=assessment)
    answers, templates = load_answers(counted_attempts(attempts), attempts)
    drawn: dict[int, set[int]] = defaultdict(set)
    for answer in answers:
        drawn[answer.attempt_id].add(answer.template_id)
    # Every student drew the same questions (in a shuffled order): an item is a template. Otherwise (random
    # draws) an item is a question position with a sub-row per template drawn there, as Moodle does.
    by_template = len({frozenset(ids) for ids in drawn.values()}) == 1
    by_attempt: dict[int, dict[int, Answer]] = defaultdict(dict)
    for answer in answers:
        by_attempt[answer.attempt_id][answer.template_id if by_template else answer.position] = answer
    if by_template:
        mean_position = defaultdict(list)
        for answer in answers:
            mean_position[answer.template_id].append(answer.position)
        positions = sorted(mean_position, key=lambda t: (float(np.mean(mean_position[t])), templates[t].slug))
    else:
        positions = sorted({a.position for a in answers})
    complete = [attempt for attempt, slots in by_attempt.items() if all(p in slots for p in positions)]
    marks = np.array([[by_attempt[a][p].score for p in positions] for a in complete], dtype=float).reshape(
        len(complete), len(positions))
    at_position: dict[int, list[Answer]] = {p: [by_attempt[a][p] for a in complete] for p in positions}
    labels, guesses = [], []
    for number, p in enumerate(positions, start=1):
        labels.append(f"Q{number}" if by_template else f"Q{p}")
        guess_parts = [(_random_guess(templates[t], [a for a in at_position[p] if a.template_id == t]),
                        sum(1 for a in at_position[p] if a.template_id == t))
                       for t in {a.template_id for a in at_position[p]}]
        total = sum(count for _, count in guess_parts)
        guesses.append(sum(g * c for g, c in guess_parts) / total if total else None)
    item_rows = item_statistics(marks, np.ones(len(positions)), labels, guesses) if len(complete) else []
    totals = marks.sum(axis=1) if len(complete) else np.zeros(0)
    items = []
    for column, (p, stats) in enumerate(zip(positions, item_rows)):
        rest = totals - marks[:, column]
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for row, answer in enumerate(at_position[p]):
            groups[(answer.template_id, answer.version_number)].append(row)
        subrows = []
        if len(groups) > 1:
            for (template_id, number), members in sorted(groups.items(), key=lambda g: (templates[g[0][0]].slug, g[0][1])):
                subrows.append(_subrow(f"{templates[template_id].slug} v{number}", members, marks[:, column], rest,
                                       {"template_id": template_id, "version": number}))
        variant_groups = []
        for template_id in sorted({a.template_id for a in at_position[p]}):
            drawn = [a for a in at_position[p] if a.template_id == template_id]
            for entry in _variant_flags(drawn):
                if entry["depends"]:
                    variant_groups.append({**entry, "slug": templates[template_id].slug})
        row = stats.as_dict()
        if variant_groups and len(complete) >= 10:
            row["flags"].append("difficulty depends on the variant")
        row.update(position=column + 1 if by_template else p, subrows=subrows, variant_groups=variant_groups,
                   templates=[{"id": t, "slug": templates[t].slug, "title": templates[t].title}
                              for t in sorted({a.template_id for a in at_position[p]}, key=lambda t: templates[t].slug)])
        items.append(row)
    per_template: dict[int, list[Answer]] = defaultdict(list)
    for attempt in complete:
        for answer in by_attempt[attempt].values():
            per_template[answer.template_id].append(answer)
    ordered = sorted(per_template, key=lambda t: (float(np.mean([a.position for a in per_template[t]])),
                                                  templates[t].slug))
    return {
        "format": FORMAT, "scope": "assessment", "assessment_id": assessment.pk, "title": assessment.title,
        "items_are": "templates" if by_template else "positions",
        "n": len(complete), "test": test_statistics(marks, np.ones(len(positions))).as_dict(),
        "histogram": _histogram(list(100.0 * totals / len(positions))) if positions else [0] * HISTOGRAM_BINS,
        "items": items,
        "misconceptions": [misconception_table(templates[t], per_template[t]) for t in ordered
                           if templates[t].kind != "completion"],
        "completion": [completion_patterns(templates[t], per_template[t], grade_mistakes) for t in ordered
                       if templates[t].kind == "completion"],
        "mistakes_pending": not grade_mistakes and any(templates[t].mistakes for t in ordered
                                                       if templates[t].kind == "completion"),
    }


def template_analysis(template: Any, courses: Any, grade_mistakes: bool = True) -> dict[str, Any]:
    """One template across every assessment of `courses` that drew it. Discrimination is against the rest
    of each student's attempt, as a fraction of its other questions (assessments differ in length)."""
    attempts = Attempt.objects.filter(assessment__course__in=courses, slots__template=template).distinct()
    answers, templates = load_answers(counted_attempts(attempts), Attempt.objects.filter(
        assessment__course__in=courses, slots__template=template))
    sums: dict[int, float] = defaultdict(float)
    counts: dict[int, int] = defaultdict(int)
    for answer in answers:
        sums[answer.attempt_id] += answer.score
        counts[answer.attempt_id] += 1
    mine = [a for a in answers if a.template_id == template.pk]
    info = templates.get(template.pk) or TemplateInfo(template.pk, template.slug, template.title, template.kind,
                                                      "", {}, [])
    marks = np.array([a.score for a in mine], dtype=float)
    rest = np.array([(sums[a.attempt_id] - a.score) / max(1, counts[a.attempt_id] - 1) for a in mine], dtype=float)
    overall: ItemStats = item_vs_rest(template.slug, marks, rest, 1.0, _random_guess(info, mine))
    titles = dict(Assessment.objects.filter(pk__in={a.assessment_id for a in mine}).values_list("pk", "title"))
    course_codes = dict(Assessment.objects.filter(pk__in=titles).values_list("pk", "course__code"))
    by_version: dict[int, list[int]] = defaultdict(list)
    by_assessment: dict[int, list[int]] = defaultdict(list)
    for row, answer in enumerate(mine):
        by_version[answer.version_number].append(row)
        by_assessment[answer.assessment_id].append(row)
    # Sub-rows only where there is more than one version / assessment (one would repeat the main row).
    versions = [_subrow(f"version {number}", members, marks, rest, {"version": number})
                for number, members in sorted(by_version.items())] if len(by_version) > 1 else []
    assessments = [_subrow(f"{course_codes.get(pk, '')} {titles.get(pk, pk)}".strip(), members, marks, rest,
                           {"assessment_id": pk}) for pk, members in sorted(by_assessment.items())] \
        if len(by_assessment) > 1 else []
    attempt_totals = {a.attempt_id: 100.0 * sums[a.attempt_id] / counts[a.attempt_id] for a in mine}
    right = [attempt_totals[a.attempt_id] for a in mine if a.score >= 0.999]
    wrong = [attempt_totals[a.attempt_id] for a in mine if a.score < 0.999]
    return {
        "format": FORMAT, "scope": "template", "template_id": template.pk, "slug": template.slug,
        "title": template.title, "kind": info.kind, "n": len(mine), "item": overall.as_dict(),
        "versions": versions, "assessments": assessments,
        "drawn_in": [{"assessment_id": pk, "label": f"{course_codes.get(pk, '')} {titles.get(pk, pk)}".strip(),
                      "n": len(members)} for pk, members in sorted(by_assessment.items())], "variant_groups": _variant_flags(mine)[:6],
        "histogram_right": _histogram(right), "histogram_wrong": _histogram(wrong),
        "misconceptions": misconception_table(info, mine) if info.kind != "completion" else None,
        "completion": completion_patterns(info, mine, grade_mistakes) if info.kind == "completion" else None,
        "mistakes_pending": not grade_mistakes and info.kind == "completion" and bool(info.mistakes),
    }

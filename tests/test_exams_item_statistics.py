"""Item statistics of a simulated class (known abilities and difficulties, one item reversed), answering
through the real services, compared with an independent computation: plain Python loops and the
statistics module over the stored responses, written from the formulas in docs/item-analysis.md.
The reversed question (stronger students get it wrong) must come out with a negative discrimination index
and be flagged; the facilities must follow the known difficulties; the misconception shares must be the
choices the simulation made."""
from __future__ import annotations

import math
import statistics

import pytest

from exams.analytics.report import assessment_analysis
from exams.models import Response
from tests.analytics_class import Item, simulate
from tests.exams_personas import classroom, fast_passwords, frozen_clock  # noqa: F401

pytestmark = pytest.mark.sandbox

ITEMS = [Item("ia-easy", "mcq", -1.5), Item("ia-fair", "short", -0.5), Item("ia-middle", "mcq", 0.0),
         Item("ia-harder", "short", 0.5), Item("ia-hard", "mcq", 1.5),
         Item("ia-reversed", "mcq", 0.0, discrimination=-1.7)]
STUDENTS = 90


def pearson(x: list[float], y: list[float]) -> float:
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy)


def covariance(x: list[float], y: list[float]) -> float:
    mx, my = sum(x) / len(x), sum(y) / len(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / (len(x) - 1)


@pytest.fixture
def simulated_class(classroom, frozen_clock):
    simulated = simulate(classroom.course, ITEMS, STUDENTS)
    marks: dict[int, dict[str, float]] = {}
    for response in Response.objects.filter(attempt__assessment=simulated.quiz).select_related("slot__template"):
        marks.setdefault(response.attempt_id, {})[response.slot.template.slug] = response.score
    return simulated, marks, assessment_analysis(simulated.quiz)


def _rows(analysis: dict) -> dict[str, dict]:
    return {item["templates"][0]["slug"]: item for item in analysis["items"]}


def check_item_statistics(simulated_class) -> None:
    _, marks, analysis = simulated_class
    slugs = [item.slug for item in ITEMS]
    table = [[marks[attempt][slug] for slug in slugs] for attempt in sorted(marks)]
    totals = [sum(row) for row in table]
    covariance_with_total = {}
    for column, slug in enumerate(slugs):
        covariance_with_total[slug] = covariance([row[column] for row in table], totals)
    rows = _rows(analysis)
    assert analysis["n"] == STUDENTS
    for column, slug in enumerate(slugs):
        x = [row[column] for row in table]
        rest = [total - mark for total, mark in zip(totals, x)]
        row = rows[slug]
        assert row["facility"] == pytest.approx(100 * statistics.fmean(x))
        assert row["sd"] == pytest.approx(100 * statistics.stdev(x))
        assert row["discrimination_index"] == pytest.approx(100 * pearson(x, rest))
        c_max = covariance(sorted(x), sorted(rest))
        assert row["discriminative_efficiency"] == pytest.approx(100 * covariance(x, rest) / c_max)
        assert row["intended_weight"] == pytest.approx(100 / len(slugs))
        kind = next(item.kind for item in ITEMS if item.slug == slug)
        assert row["random_guess"] == pytest.approx(25.0 if kind == "mcq" else 0.0)
    if all(c >= 0 for c in covariance_with_total.values()):
        roots = {slug: math.sqrt(c) for slug, c in covariance_with_total.items()}
        for slug in slugs:
            assert rows[slug]["effective_weight"] == pytest.approx(100 * roots[slug] / sum(roots.values()))
    else:  # Moodle leaves effective weights undefined when an item varies against the total
        assert all(rows[slug]["effective_weight"] is None for slug in slugs)


def check_test_statistics(simulated_class) -> None:
    _, marks, analysis = simulated_class
    slugs = [item.slug for item in ITEMS]
    percents = [100 * sum(marks[a][s] for s in slugs) / len(slugs) for a in marks]
    n = len(percents)
    mean = statistics.fmean(percents)
    m2 = sum((p - mean) ** 2 for p in percents) / n
    m3 = sum((p - mean) ** 3 for p in percents) / n
    m4 = sum((p - mean) ** 4 for p in percents) / n
    # The adjusted Fisher-Pearson skewness G1 and the sample excess kurtosis G2 (as spreadsheets' SKEW/KURT).
    g1, g2 = m3 / m2 ** 1.5, m4 / m2 ** 2 - 3
    skewness = math.sqrt(n * (n - 1)) / (n - 2) * g1
    kurtosis = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6)
    item_variances = sum(statistics.variance([marks[a][s] for a in marks]) for s in slugs)
    total_variance = statistics.variance([sum(marks[a][s] for s in slugs) for a in marks])
    alpha = len(slugs) / (len(slugs) - 1) * (1 - item_variances / total_variance)
    test = analysis["test"]
    assert test["n"] == STUDENTS and test["items"] == len(slugs)
    assert test["mean"] == pytest.approx(mean)
    assert test["median"] == pytest.approx(statistics.median(percents))
    assert test["sd"] == pytest.approx(statistics.stdev(percents))
    assert test["skewness"] == pytest.approx(skewness)
    assert test["kurtosis"] == pytest.approx(kurtosis)
    assert test["cronbach_alpha"] == pytest.approx(100 * alpha)
    assert test["error_ratio"] == pytest.approx(100 * math.sqrt(1 - alpha))
    assert test["standard_error"] == pytest.approx(math.sqrt(1 - alpha) * statistics.stdev(percents))
    assert sum(analysis["histogram"]) == STUDENTS


def check_reversed_question(simulated_class) -> None:
    _, _, analysis = simulated_class
    rows = _rows(analysis)
    assert rows["ia-reversed"]["discrimination_index"] < 0
    assert "negative discrimination" in rows["ia-reversed"]["flags"]
    for item in ITEMS[:-1]:
        assert rows[item.slug]["discrimination_index"] > 0, item.slug
        assert "negative discrimination" not in rows[item.slug]["flags"]


def check_difficulties(simulated_class) -> None:
    _, _, analysis = simulated_class
    rows = _rows(analysis)
    facilities = [rows[item.slug]["facility"] for item in ITEMS[:-1]]  # difficulties -1.5 ... 1.5
    assert facilities[0] > facilities[2] > facilities[4]
    assert facilities[0] > 70 and facilities[4] < 30


def check_misconception_shares(simulated_class) -> None:
    simulated, _, analysis = simulated_class
    tables = {table["slug"]: table for table in analysis["misconceptions"]}
    for item in ITEMS:
        expected = {name: sum(1 for choice in simulated.chosen[item.slug].values() if choice == name)
                    for name in set(simulated.chosen[item.slug].values()) - {"correct", "unrelated"}}
        table = tables[item.slug]
        found = {row["name"]: row["count"] for row in table["rows"] if row["count"]}
        assert found == expected, item.slug
        assert table["correct"] == sum(1 for c in simulated.chosen[item.slug].values() if c == "correct")
        assert table["unexplained"] == sum(1 for c in simulated.chosen[item.slug].values() if c == "unrelated")
        for row in table["rows"]:
            assert row["share"] == pytest.approx(100 * row["count"] / STUDENTS)


def test_a_simulated_class_gets_the_statistics_an_independent_computation_gives(simulated_class):
    """One class of 90 for every check (the simulation through the real services is the slow part)."""
    check_item_statistics(simulated_class)
    check_test_statistics(simulated_class)
    check_difficulties(simulated_class)
    check_misconception_shares(simulated_class)
    check_reversed_question(simulated_class)

"""Moodle's quiz statistics in plain numpy (docs/item-analysis.md gives every formula and its source).

Input is a complete matrix of marks: one row per student (their counted attempt), one column per item
(question position of an assessment), each in [0, max mark]. Percentages are of the item's (or the test's)
maximum. Variances and covariances divide by S - 1, as Moodle's do.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# When a question needs a look (Moodle highlights the same kind of values; the thresholds are ours).
LOW_DISCRIMINATION = 20.0  # discrimination index below this (percent) is weak
LOW_FACILITY, HIGH_FACILITY = 10.0, 90.0  # almost nobody / almost everybody gets it right
MIN_STUDENTS_FOR_FLAGS = 10
# A parameter splits the class's variants into groups whose facilities differ by this many points or more.
# ... and the difference between the easiest and the hardest group is beyond chance (two-proportion z).
VARIANT_SPREAD = 25.0
VARIANT_Z = 3.0
MIN_GROUP = 5


@dataclass
class ItemStats:
    label: str
    n: int
    facility: float | None  # F, percent
    sd: float | None  # percent of the maximum mark
    random_guess: float | None = None  # percent
    intended_weight: float | None = None  # percent
    effective_weight: float | None = None  # percent; None when the covariance with the total is negative
    discrimination_index: float | None = None  # 100 r(x_p, T - x_p)
    discriminative_efficiency: float | None = None  # 100 C(x_p, X_p) / C_max(x_p, X_p)
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TestStats:
    n: int
    items: int
    mean: float | None  # percent of the maximum total
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None  # excess kurtosis
    cronbach_alpha: float | None  # coefficient of internal consistency, percent
    error_ratio: float | None  # percent
    standard_error: float | None  # percent of the maximum total

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _var(x: np.ndarray) -> float:
    return float(np.var(x, ddof=1)) if len(x) > 1 else float("nan")


def _cov(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2:
        return float("nan")
    return float(np.sum((x - x.mean()) * (y - y.mean())) / (len(x) - 1))


def correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r; None when either side does not vary (everybody got the same mark)."""
    if len(x) < 2:
        return None
    sx, sy = math.sqrt(_var(x)), math.sqrt(_var(y))
    if sx == 0 or sy == 0:
        return None
    return _finite(_cov(x, y) / (sx * sy))


def discrimination(x: np.ndarray, rest: np.ndarray) -> tuple[float | None, float | None]:
    """(discrimination index, discriminative efficiency), both percent, of item marks x against the rest of
    the test. C_max pairs the sorted marks with the sorted rest-of-test marks: the largest covariance these
    two distributions allow."""
    r = correlation(x, rest)
    if r is None:
        return None, None
    c_max = _cov(np.sort(x), np.sort(rest))
    efficiency = 100.0 * _cov(x, rest) / c_max if c_max > 0 else None
    return 100.0 * r, _finite(efficiency) if efficiency is not None else None


def flags_for(n: int, facility: float | None, index: float | None) -> list[str]:
    if n < MIN_STUDENTS_FOR_FLAGS:
        return []
    flags = []
    if index is not None and index < 0:
        flags.append("negative discrimination")
    elif index is not None and index < LOW_DISCRIMINATION:
        flags.append("low discrimination")
    if facility is not None and facility < LOW_FACILITY:
        flags.append("very hard")
    elif facility is not None and facility > HIGH_FACILITY:
        flags.append("very easy")
    return flags


def item_vs_rest(label: str, x: np.ndarray, rest: np.ndarray, max_mark: float = 1.0,
                 random_guess: float | None = None) -> ItemStats:
    """Statistics of one item (or one sub-row: a version, a variant group) from its marks and the same
    students' rest-of-test marks."""
    n = len(x)
    if n == 0:
        return ItemStats(label, 0, None, None, random_guess)
    facility = 100.0 * float(np.mean(x)) / max_mark
    sd = 100.0 * math.sqrt(_var(x)) / max_mark if n > 1 else None
    index, efficiency = discrimination(x, rest)
    return ItemStats(label, n, facility, _finite(sd) if sd is not None else None, random_guess,
                     discrimination_index=index, discriminative_efficiency=efficiency,
                     flags=flags_for(n, facility, index))


def item_statistics(marks: np.ndarray, max_marks: np.ndarray, labels: list[str],
                    random_guess: list[float | None]) -> list[ItemStats]:
    """Per item of a complete marks matrix (students x items)."""
    marks = np.asarray(marks, dtype=float)
    max_marks = np.asarray(max_marks, dtype=float)
    total = marks.sum(axis=1)
    total_max = float(max_marks.sum())
    covariances = [_cov(marks[:, p], total) for p in range(marks.shape[1])]
    roots = [math.sqrt(c) if math.isfinite(c) and c >= 0 else None for c in covariances]
    root_sum = sum(r for r in roots if r is not None)
    any_negative = any(r is None for r in roots)
    stats = []
    for p in range(marks.shape[1]):
        item = item_vs_rest(labels[p], marks[:, p], total - marks[:, p], float(max_marks[p]), random_guess[p])
        item.intended_weight = 100.0 * float(max_marks[p]) / total_max if total_max else None
        if roots[p] is not None and root_sum > 0 and not any_negative:
            item.effective_weight = 100.0 * roots[p] / root_sum
        stats.append(item)
    return stats


def test_statistics(marks: np.ndarray, max_marks: np.ndarray) -> TestStats:
    marks = np.asarray(marks, dtype=float)
    n, items = marks.shape if marks.ndim == 2 else (0, 0)
    total_max = float(np.asarray(max_marks, dtype=float).sum())
    if n == 0 or total_max == 0:
        return TestStats(n, items, *([None] * 8))
    total = 100.0 * marks.sum(axis=1) / total_max
    mean = float(total.mean())
    median = float(np.median(total))
    if n < 2:
        return TestStats(n, items, mean, median, *([None] * 6))
    deviations = total - mean
    m2, m3, m4 = (float(np.mean(deviations ** k)) for k in (2, 3, 4))
    k2 = n * m2 / (n - 1)
    sd = math.sqrt(k2)
    skewness = kurtosis = None
    if n > 2 and k2 > 0:
        k3 = n * n * m3 / ((n - 1) * (n - 2))
        skewness = k3 / k2 ** 1.5
    if n > 3 and k2 > 0:
        k4 = n * n * ((n + 1) * m4 - 3 * (n - 1) * m2 * m2) / ((n - 1) * (n - 2) * (n - 3))
        kurtosis = k4 / (k2 * k2)
    alpha = error_ratio = standard_error = None
    total_variance = _var(marks.sum(axis=1))
    if items > 1 and total_variance > 0:
        item_variances = sum(_var(marks[:, p]) for p in range(items))
        alpha = 100.0 * items / (items - 1) * (1 - item_variances / total_variance)
        if alpha <= 100:
            error_ratio = 100.0 * math.sqrt(max(0.0, 1 - alpha / 100.0))
            standard_error = error_ratio / 100.0 * sd
    return TestStats(n, items, mean, median, sd, _finite(skewness) if skewness is not None else None,
                     _finite(kurtosis) if kurtosis is not None else None, alpha, error_ratio, standard_error)


def parameter_groups(params: list[dict[str, Any]], marks: np.ndarray) -> list[dict[str, Any]]:
    """Does the difficulty depend on the variant? For each numeric parameter, the facility of each group of
    variants (one group per value when there are at most 5, else thirds by value), largest spread first."""
    marks = np.asarray(marks, dtype=float)
    names: set[str] = set()
    for entry in params:
        names.update(k for k, v in entry.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
    found = []
    for name in sorted(names):
        values = [entry.get(name) for entry in params]
        known = [i for i, v in enumerate(values)
                 if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        distinct = sorted({values[i] for i in known})
        if len(distinct) < 2 or len(known) < 2 * MIN_GROUP:
            continue
        if len(distinct) <= 5:
            bins = [(v, v) for v in distinct]
        else:
            cuts = np.quantile([values[i] for i in known], [0, 1 / 3, 2 / 3, 1])
            bins = [(float(cuts[0]), float(cuts[1])), (float(cuts[1]), float(cuts[2])), (float(cuts[2]), float(cuts[3]))]
        groups = []
        for index, (low, high) in enumerate(bins):
            last = index == len(bins) - 1
            members = [i for i in known if (low <= values[i] <= high if low == high or last
                                            else low <= values[i] < high)]
            if not members:
                continue
            label = f"{name} = {_num(low)}" if low == high else f"{_num(low)} ≤ {name} {'≤' if last else '<'} {_num(high)}"
            groups.append({"label": label, "n": len(members), "facility": 100.0 * float(marks[members].mean())})
        sized = [g for g in groups if g["n"] >= MIN_GROUP]
        spread, z = 0.0, 0.0
        if len(sized) >= 2:
            easiest = max(sized, key=lambda g: g["facility"])
            hardest = min(sized, key=lambda g: g["facility"])
            spread = easiest["facility"] - hardest["facility"]
            z = _two_proportion_z(easiest, hardest)
        found.append({"parameter": name, "groups": groups, "spread": spread, "z": z,
                      "depends": spread >= VARIANT_SPREAD and z >= VARIANT_Z})
    found.sort(key=lambda entry: -entry["spread"])
    return found


def _two_proportion_z(a: dict[str, Any], b: dict[str, Any]) -> float:
    """z of the difference between two groups' mean marks (marks in [0, 1], pooled binomial variance)."""
    pooled = (a["facility"] * a["n"] + b["facility"] * b["n"]) / (100.0 * (a["n"] + b["n"]))
    variance = pooled * (1 - pooled) * (1 / a["n"] + 1 / b["n"])
    return (a["facility"] - b["facility"]) / 100.0 / math.sqrt(variance) if variance > 0 else 0.0


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"

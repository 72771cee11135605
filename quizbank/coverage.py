"""How well the bank covers the CSCI 4701 syllabus (seed 002): per quiz range and per lecture of the outline."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from quizbank.spec import TemplateSpec

# Syllabus 002: the nine quizzes' lecture ranges, and the lectures only the exams cover.
QUIZ_RANGES: dict[str, tuple[int, ...]] = {
    "Quiz 1": (1, 2, 3), "Quiz 2": (5, 6), "Quiz 3": (7, 8), "Quiz 4": (10, 11), "Quiz 5": (14,),
    "Quiz 6": (18, 19), "Quiz 7": (20, 21), "Quiz 8": (22, 23), "Quiz 9": (25, 26, 27),
}
EXAM_ONLY_LECTURES = (4, 9, 12, 13, 15, 24, 28, 29)
# Every lecture of the outline (16 and 17 are the midterm and its review).
OUTLINE_LECTURES = tuple(n for n in range(1, 30) if n not in (16, 17))
# Enough per range that two students of a class rarely share a quiz (10 questions: 4 mcq + 3 short + 3 code).
QUIZ_QUOTA = {"mcq": 8, "short": 6, "code": 6}
LECTURE_QUOTA = 6


@dataclass(frozen=True)
class CoverageRow:
    name: str
    lectures: tuple[int, ...]
    counts: dict[str, int]
    required: dict[str, int]

    @property
    def met(self) -> bool:
        return all(self.counts.get(qtype, 0) >= need for qtype, need in self.required.items())


def coverage(specs: list[TemplateSpec]) -> list[CoverageRow]:
    rows = []
    for name, lectures in QUIZ_RANGES.items():
        counts = Counter(s.qtype for s in specs if set(s.lectures) & set(lectures))
        rows.append(CoverageRow(name, lectures, dict(counts), dict(QUIZ_QUOTA)))
    for lecture in OUTLINE_LECTURES:
        total = sum(1 for s in specs if lecture in s.lectures)
        rows.append(CoverageRow(f"Lecture {lecture}", (lecture,), {"any": total}, {"any": LECTURE_QUOTA}))
    return rows

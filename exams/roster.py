"""Enrolment: one at a time, or a roster CSV (student id, name, email) imported all-or-nothing."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from exams.models import Course, Membership

HEADER_ALIASES = {
    "student_id": {"student_id", "student id", "id", "studentid", "student number", "student_number"},
    "name": {"name", "full name", "full_name", "student name"},
    "email": {"email", "e-mail", "email address", "mail"},
}


@dataclass(frozen=True)
class RosterProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class RosterError(Exception):
    def __init__(self, problems: list[RosterProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass
class RosterResult:
    created: int = 0
    updated: int = 0
    memberships: list[Membership] = field(default_factory=list)


def enroll(course: Course, user: Any, role: str = Membership.STUDENT, student_id: str = "") -> Membership:
    membership, _ = Membership.objects.update_or_create(course=course, user=user,
                                                        defaults={"role": role, "student_id": student_id})
    return membership


def _text(data: str | bytes | IO) -> str:
    if hasattr(data, "read"):
        data = data.read()
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    return data.lstrip("\ufeff")


def _split_name(name: str) -> tuple[str, str]:
    parts = name.strip().split(None, 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (name.strip(), "")


def _parse(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[RosterProblem]]:
    rows = list(csv.reader(io.StringIO(text)))
    problems: list[RosterProblem] = []
    order = ["student_id", "name", "email"]
    start = 0
    if rows and rows[0]:
        lowered = [cell.strip().lower() for cell in rows[0]]
        mapped = [next((key for key, names in HEADER_ALIASES.items() if cell in names), None) for cell in lowered]
        if any(mapped):
            missing = [key for key in order if key not in mapped]
            if missing:
                return [], [RosterProblem(1, f"the header lacks column(s): {', '.join(missing)}")]
            order = mapped
            start = 1
    parsed = []
    for index, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        values = {key: row[i].strip() for i, key in enumerate(order) if key and i < len(row)}
        missing = [key.replace("_", " ") for key in ("student_id", "name", "email") if not values.get(key)]
        if missing:
            problems.append(RosterProblem(index, f"missing {', '.join(missing)}"))
            continue
        try:
            validate_email(values["email"])
        except ValidationError:
            problems.append(RosterProblem(index, f"{values['email']!r} is not an email address"))
            continue
        parsed.append((index, values))
    return parsed, problems


def import_roster(course: Course, data: str | bytes | IO, *, role: str = Membership.STUDENT) -> RosterResult:
    """Validate every row first; if any is bad raise RosterError listing them all, having imported nothing."""
    parsed, problems = _parse(_text(data))
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for line, values in parsed:
        for seen, key in ((seen_ids, "student_id"), (seen_emails, "email")):
            value = values[key].lower()
            if value in seen:
                problems.append(RosterProblem(line, f"{key.replace('_', ' ')} {values[key]!r} repeats line {seen[value]}"))
            seen.setdefault(value, line)
    User = get_user_model()
    for line, values in parsed:
        owner = (Membership.objects.filter(course=course, student_id=values["student_id"])
                 .exclude(user__email__iexact=values["email"]).select_related("user").first())
        if owner is not None:
            problems.append(RosterProblem(line, f"student id {values['student_id']!r} already belongs to {owner.user.email}"))
        username_owner = User.objects.filter(username=values["student_id"]).exclude(email__iexact=values["email"]).first()
        if username_owner is not None:
            problems.append(RosterProblem(line, f"the username {values['student_id']!r} is taken by another account"))
    if problems:
        raise RosterError(sorted(problems, key=lambda p: p.line))
    result = RosterResult()
    with transaction.atomic():
        for _, values in parsed:
            first, last = _split_name(values["name"])
            user = User.objects.filter(email__iexact=values["email"]).first()
            if user is None:
                user = User(username=values["student_id"], email=values["email"], first_name=first, last_name=last)
                user.set_unusable_password()
                user.save()
                result.created += 1
            else:
                user.first_name, user.last_name = first, last
                user.save(update_fields=["first_name", "last_name"])
                result.updated += 1
            result.memberships.append(enroll(course, user, role, values["student_id"]))
    return result

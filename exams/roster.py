"""Enrolment: one at a time, or a roster CSV (student id, name, email) imported all-or-nothing, previewed first
(plan_roster) and applied exactly as previewed (apply_roster). A course's roster only changes that course."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from exams import audit
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
    plan: RosterPlan | None = None


# What an import does with one row; the preview shows exactly these and the confirmation applies exactly these.
CREATE, ENROL, UPDATE, UNCHANGED, SKIP = "create", "enrol", "update", "unchanged", "skip"
ACTION_LABELS = {CREATE: "create account", ENROL: "enrol existing account", UPDATE: "update",
                 UNCHANGED: "no change", SKIP: "skipped"}


@dataclass(frozen=True)
class PlannedChange:
    line: int
    student_id: str
    name: str
    email: str
    action: str
    user_id: int | None = None
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.action]

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "student_id": self.student_id, "email": self.email, "action": self.action,
                "user": self.user_id, "before": self.before, "after": self.after, "notes": list(self.notes)}


@dataclass(frozen=True)
class RosterPlan:
    course_id: int
    role: str
    changes: list[PlannedChange]

    def count(self, action: str) -> int:
        return sum(change.action == action for change in self.changes)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in ACTION_LABELS}

    @property
    def digest(self) -> str:
        """Fingerprint of the planned changes: the confirmation refuses to apply a plan that differs from it."""
        payload = json.dumps([self.course_id, self.role, [c.as_json() for c in self.changes]], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


class RosterChanged(Exception):
    """The roster or the accounts changed between the preview and the confirmation; nothing was applied."""

    def __init__(self, plan: RosterPlan):
        self.plan = plan
        super().__init__("the planned changes differ from the preview")


def enroll(course: Course, user: Any, role: str = Membership.STUDENT, student_id: str = "", *,
           change_role: bool = False) -> Membership:
    """Add `user` to `course`. An existing member keeps their role (a TA enrolled again as a student stays a
    TA) unless `change_role`; a given student id replaces theirs."""
    membership, created = Membership.objects.get_or_create(course=course, user=user,
                                                           defaults={"role": role, "student_id": student_id})
    if created:
        return membership
    fields = []
    if change_role and membership.role != role:
        membership.role = role
        fields.append("role")
    if student_id and membership.student_id != student_id:
        membership.student_id = student_id
        fields.append("student_id")
    if fields:
        membership.save(update_fields=fields)
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


def _protected_because(user: Any, course: Course) -> str:
    """Why the roster of `course` may not rename this account ('' if it may): it is site staff, or it is also
    someone in another course (whose instructor, not this one, answers for it)."""
    if user.is_staff or user.is_superuser:
        return "it is a site staff account"
    elsewhere = Membership.objects.filter(user=user).exclude(course=course)
    if elsewhere.filter(role__in=Membership.STAFF_ROLES).exists():
        return "it is staff of another course"
    if elsewhere.exists():
        return "it also belongs to another course"
    return ""


def _plan_row(course: Course, line: int, values: dict[str, str], role: str, user: Any,
              membership: Membership | None) -> PlannedChange:
    row = {"line": line, "student_id": values["student_id"], "name": values["name"], "email": values["email"]}
    if user is None:
        return PlannedChange(**row, action=CREATE, after={"username": values["student_id"], "name": values["name"],
                                                          "email": values["email"], "role": role,
                                                          "student_id": values["student_id"]})
    first, last = _split_name(values["name"])
    current_name = f"{user.first_name} {user.last_name}".strip()
    renamed = (user.first_name, user.last_name) != (first, last)
    if membership is not None and membership.role in Membership.STAFF_ROLES:
        return PlannedChange(**row, action=SKIP, user_id=user.pk, notes=(
            f"{membership.get_role_display()} of this course: the roster does not change staff",))
    if membership is None:
        # The account's current name is not shown: a preview must not tell an instructor who owns an email.
        notes = ("name not changed: the roster only renames this course's own students",) if renamed else ()
        return PlannedChange(**row, action=ENROL, user_id=user.pk, after={"role": role,
                                                                           "student_id": values["student_id"]},
                             notes=notes)
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    notes: tuple[str, ...] = ()
    if membership.student_id != values["student_id"]:
        before["student_id"], after["student_id"] = membership.student_id, values["student_id"]
    if renamed:
        protected = _protected_because(user, course)
        if protected:
            notes = (f"name kept as {current_name!r}: {protected}",)
        else:
            before["name"], after["name"] = current_name, values["name"]
    return PlannedChange(**row, action=UPDATE if after else UNCHANGED, user_id=user.pk, before=before, after=after,
                         notes=notes)


def plan_roster(course: Course, data: str | bytes | IO, *, role: str = Membership.STUDENT) -> RosterPlan:
    """What importing `data` would do, row by row, changing nothing. Raises RosterError listing every bad row.

    Scoped to the course: accounts are found by email; an existing account is enrolled (never re-emailed, and
    renamed only if it is a student of this course alone and nobody's staff); a member keeps their role, so the
    course's own instructors and TAs are skipped, never demoted."""
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
    changes = []
    for line, values in parsed:
        user = User.objects.filter(email__iexact=values["email"]).order_by("pk").first()
        membership = Membership.objects.filter(course=course, user=user).first() if user is not None else None
        changes.append(_plan_row(course, line, values, role, user, membership))
    return RosterPlan(course.pk, role, changes)


def apply_roster(course: Course, data: str | bytes | IO, *, by: Any = None, role: str = Membership.STUDENT,
                 expected_digest: str | None = None) -> RosterResult:
    """Plan again and apply, all rows or none, recording one audit event. With `expected_digest` (the preview's
    RosterPlan.digest) raise RosterChanged, applying nothing, unless the plan is exactly the one previewed."""
    User = get_user_model()
    result = RosterResult()
    with transaction.atomic():
        Course.objects.select_for_update(no_key=True).filter(pk=course.pk).first()  # one import of a course at a time
        plan = plan_roster(course, data, role=role)
        if expected_digest is not None and plan.digest != expected_digest:
            raise RosterChanged(plan)
        for change in plan.changes:
            first, last = _split_name(change.name)
            if change.action == CREATE:
                user = User(username=change.student_id, email=change.email, first_name=first, last_name=last)
                user.set_unusable_password()
                user.save()
                result.created += 1
                result.memberships.append(Membership.objects.create(course=course, user=user, role=role,
                                                                    student_id=change.student_id))
                continue
            if change.action == SKIP:
                continue
            user = User.objects.get(pk=change.user_id)
            if "name" in change.after:
                user.first_name, user.last_name = first, last
                user.save(update_fields=["first_name", "last_name"])
            result.updated += 1
            result.memberships.append(enroll(course, user, role, change.student_id))
        audit.record(actor=by, action=audit.ROSTER, course=course,
                     after={"counts": plan.counts, "accounts": [change.as_json() for change in plan.changes]})
    result.plan = plan
    return result


def import_roster(course: Course, data: str | bytes | IO, *, role: str = Membership.STUDENT,
                  by: Any = None) -> RosterResult:
    """Plan and apply in one step (the management command). Raises RosterError, having imported nothing."""
    return apply_roster(course, data, by=by, role=role)

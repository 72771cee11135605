from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exams.models import Course, Membership
from exams.roster import SKIP, RosterError, import_roster, plan_roster


class Command(BaseCommand):
    help = "Enrol students from a roster CSV (student id, name, email). Nothing is imported if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("course")
        parser.add_argument("file")
        parser.add_argument("--role", default=Membership.STUDENT, choices=[r for r, _ in Membership.ROLE_CHOICES])
        parser.add_argument("--dry-run", action="store_true", help="List every planned change; change nothing.")

    def handle(self, *args, course: str, file: str, role: str, dry_run: bool = False, **options):
        try:
            course_obj = Course.objects.get(code=course)
        except Course.DoesNotExist as exc:
            raise CommandError(f"no course with code {course!r}") from exc
        try:
            if dry_run:
                plan = plan_roster(course_obj, Path(file).read_bytes(), role=role)
            else:
                result = import_roster(course_obj, Path(file).read_bytes(), role=role)
                plan = result.plan
        except RosterError as error:
            raise CommandError("nothing imported:\n" + "\n".join(str(p) for p in error.problems)) from error
        for change in plan.changes:
            if dry_run or change.action == SKIP or change.notes:
                details = "; ".join(change.notes)
                self.stdout.write(f"line {change.line}: {change.label} {change.email}" + (f" ({details})" if details else ""))
        if dry_run:
            self.stdout.write("dry run: nothing changed")
        else:
            self.stdout.write(f"{len(result.memberships)} enrolled ({result.created} new accounts, {result.updated} "
                              f"existing, {plan.count(SKIP)} skipped)")

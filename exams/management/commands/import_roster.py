from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exams.models import Course, Membership
from exams.roster import RosterError, import_roster


class Command(BaseCommand):
    help = "Enrol students from a roster CSV (student id, name, email). Nothing is imported if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("course")
        parser.add_argument("file")
        parser.add_argument("--role", default=Membership.STUDENT, choices=[r for r, _ in Membership.ROLE_CHOICES])

    def handle(self, *args, course: str, file: str, role: str, **options):
        try:
            course_obj = Course.objects.get(code=course)
        except Course.DoesNotExist as exc:
            raise CommandError(f"no course with code {course!r}") from exc
        try:
            result = import_roster(course_obj, Path(file).read_bytes(), role=role)
        except RosterError as error:
            raise CommandError("nothing imported:\n" + "\n".join(str(p) for p in error.problems)) from error
        self.stdout.write(f"{len(result.memberships)} enrolled ({result.created} new accounts, {result.updated} existing)")

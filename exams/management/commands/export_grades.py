from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from exams.exports import gradebook_csv, responses_csv
from exams.models import Course


class Command(BaseCommand):
    help = "Write a course's gradebook (or one assessment's detailed responses) as CSV (UTF-8 with BOM)."

    def add_arguments(self, parser):
        parser.add_argument("course", help="course code, e.g. CSCI4701")
        parser.add_argument("--out", default="-", help="file to write (default: standard output)")
        parser.add_argument("--responses", metavar="ASSESSMENT", help="export this assessment's responses instead")

    def handle(self, *args, course: str, out: str, responses: str | None, **options):
        try:
            course_obj = Course.objects.get(code=course)
        except Course.DoesNotExist as exc:
            raise CommandError(f"no course with code {course!r}") from exc
        if responses:
            assessment = course_obj.assessments.filter(title=responses).first()
            if assessment is None:
                raise CommandError(f"{course} has no assessment titled {responses!r}")
            chunks = responses_csv(assessment)
        else:
            chunks = gradebook_csv(course_obj)
        if out == "-":
            for chunk in chunks:
                sys.stdout.write(chunk)
            return
        rows = 0
        with open(out, "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
                rows += 1
        self.stdout.write(f"wrote {rows - 1} rows to {out}")

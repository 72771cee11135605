from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from exams.demo import simulate_class
from exams.models import Course


class Command(BaseCommand):
    help = "N simulated students take every published assessment through the same services the web uses."

    def add_arguments(self, parser):
        parser.add_argument("course")
        parser.add_argument("--students", type=int, default=30)
        parser.add_argument("--seed", type=int, default=4701)
        parser.add_argument("--queue-code", action="store_true",
                            help="leave code completion to the Celery workers instead of grading it inline")

    def handle(self, *args, course: str, students: int, seed: int, queue_code: bool, **options):
        try:
            course_obj = Course.objects.get(code=course)
        except Course.DoesNotExist as exc:
            raise CommandError(f"no course with code {course!r} (run load_demo first?)") from exc

        def progress(done: int, total: int) -> None:
            if done == total or done % 10 == 0:
                self.stdout.write(f"  {done}/{total} students")

        report = simulate_class(course_obj, students, seed=seed, grade_code_inline=not queue_code, progress=progress)
        self.stdout.write(f"{report.students} students, {report.attempts} attempts submitted, {report.skipped} skipped, "
                          f"{report.code_graded} code answers graded")
        for line in report.refused[:20]:
            self.stdout.write(f"  refused: {line}")

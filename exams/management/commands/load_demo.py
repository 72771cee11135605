from __future__ import annotations

from django.core.management.base import BaseCommand

from exams.demo import COURSE_CODE, load_demo


class Command(BaseCommand):
    help = "Create the syllabus's course CSCI4701 with people, quizzes, exams and categories (safe to run twice)."

    def handle(self, *args, **options):
        report = load_demo()
        self.stdout.write(f"Course {COURSE_CODE} is ready. Demo logins (username / password):")
        for username, password, role in report.people:
            self.stdout.write(f"  {role:<10} {username} / {password}")
        self.stdout.write("Published: " + (", ".join(report.published) or "none"))
        for title, problem in report.not_published:
            self.stdout.write(f"Not published (draft) - {title}: {problem}")
        if report.not_published:
            self.stdout.write("Add templates to the bank and publish these from the admin once it can assemble them.")

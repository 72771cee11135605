import json

from django.core.management.base import BaseCommand

from quizbank.models import Template


class Command(BaseCommand):
    help = "List templates with their type, kind, lectures and tags."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, json: bool, **options):
        rows = [
            {"slug": t.slug, "title": t.title, "type": t.qtype, "kind": t.kind, "lectures": t.lectures, "tags": t.tags,
             "version": t.current_version.number if t.current_version else None, "active": t.is_active}
            for t in Template.objects.select_related("current_version").order_by("slug")
        ]
        if json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            lectures = ",".join(str(x) for x in row["lectures"])
            self.stdout.write(f"{row['slug']:40} {row['type']:6} {row['kind']:10} L{lectures:8} {' '.join(row['tags'])}")


def _dumps(rows) -> str:
    return json.dumps(rows)

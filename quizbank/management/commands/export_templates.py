from pathlib import Path

from django.core.management.base import BaseCommand

from quizbank.management.commands._resolve import resolve_specs
from quizbank.notebooks import export_directory


class Command(BaseCommand):
    help = "Write templates (all active ones, or the given slugs) as notebooks under DIR/lecture-NN/SLUG.ipynb."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("slugs", nargs="*")

    def handle(self, directory: Path, slugs: list[str], **options):
        written = export_directory(resolve_specs(slugs), directory)
        self.stdout.write(f"wrote {len(written)} notebook(s) under {directory}")

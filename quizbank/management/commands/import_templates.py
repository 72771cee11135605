from pathlib import Path

from django.core.management.base import CommandError

from quizbank.management.commands._resolve import TemplateCommand
from quizbank.notebooks import import_directory


class Command(TemplateCommand):
    help = "Import every template notebook under DIR (recursively), all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--no-run", action="store_true",
                            help="only check the files; do not generate seed 0 of each template to validate it")

    def run(self, directory: Path, no_run: bool, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        report = import_directory(directory, run_seed=None if no_run else 0)
        if not report.ok:
            for line in report.errors:
                self.stderr.write(line)
            raise CommandError(f"{len(report.errors)} problem(s); nothing was imported")
        self.stdout.write(f"imported {len(report.imported)} template(s) with new versions, "
                          f"{len(report.unchanged)} unchanged")

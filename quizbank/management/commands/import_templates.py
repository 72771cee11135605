from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from quizbank.management.commands._resolve import TemplateCommand
from quizbank.notebooks import import_directory


class Command(TemplateCommand):
    help = ("Import every template notebook under DIR (recursively), all or nothing: each must pass the self-test "
            "on every checked seed.")

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--seeds", type=int, default=None,
                            help=f"seeds each template must pass (default QUIZBANK_CHECK_SEEDS, "
                                 f"{getattr(settings, 'QUIZBANK_CHECK_SEEDS', 20)})")
        parser.add_argument("--no-run", action="store_true",
                            help="only check the files; run no template code (for trusted, already tested banks)")

    def run(self, directory: Path, seeds: int | None, no_run: bool, **options):
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        if seeds is not None and seeds < 0:
            raise CommandError("--seeds must be 0 or more")
        report = import_directory(directory, seeds=0 if no_run else seeds)
        for line in report.warnings:
            self.stdout.write(line)
        if not report.ok:
            for line in report.errors:
                self.stderr.write(line)
            raise CommandError(f"{len(report.errors)} problem(s); nothing was imported")
        self.stdout.write(f"imported {len(report.imported)} template(s) with new versions, "
                          f"{len(report.unchanged)} unchanged"
                          + (f"; {len(report.warnings)} weak-question warning(s)" if report.warnings else "")
                          + (f"; retired (no longer drawn): {', '.join(report.retired)}" if report.retired else ""))

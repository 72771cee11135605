from django.core.management.base import CommandError

from quizbank.management.commands._resolve import TemplateCommand, resolve_specs
from quizbank.selftest import DEFAULT_SEEDS, selftest


class Command(TemplateCommand):
    help = "Run templates (slugs, notebooks, folders; default: all active) over many seeds; exit 1 on any failure."

    def add_arguments(self, parser):
        parser.add_argument("templates", nargs="*")
        parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS)

    def run(self, templates: list[str], seeds: int, **options):
        if seeds < 1:
            raise CommandError("--seeds must be at least 1")
        specs = resolve_specs(templates)
        failures = variants = 0
        failed_templates = 0
        for spec in specs:
            report = selftest(spec, seeds)
            variants += report.variants_ok
            failures += len(report.failures)
            failed_templates += not report.ok
            self.stdout.write(report.summary())
            for failure in report.failures:
                self.stdout.write(f"    {failure.describe()}")
        self.stdout.write(f"{len(specs)} templates, {variants} variants, {failures} failures")
        if failures:
            raise CommandError(f"{failed_templates} template(s) failed the self-test", returncode=1)

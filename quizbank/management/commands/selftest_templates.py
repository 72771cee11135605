import json
from collections import Counter
from pathlib import Path

from django.core.management.base import CommandError

from quizbank.management.commands._resolve import TemplateCommand, resolve_specs
from quizbank.notebooks import NotebookError, find_notebooks, read_notebook
from quizbank.selftest import DEFAULT_SEEDS, selftest
from quizbank.spec import TemplateSpec


class Command(TemplateCommand):
    help = ("Run templates (slugs, notebooks, folders; default: all active) over many seeds; print every failure "
            "and every weak-question warning; exit 1 on any failure (warnings alone exit 0).")
    requires_system_checks = []  # an author's tool: the project-wide checks cost startup time

    def add_arguments(self, parser):
        parser.add_argument("templates", nargs="*")
        parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS)
        parser.add_argument("--json", action="store_true", help="print one JSON object with every report")

    def run(self, templates: list[str], seeds: int, json: bool, **options):
        if seeds < 1:
            raise CommandError("--seeds must be at least 1")
        specs, unreadable = _collect(templates)
        failures = variants = warnings = explained = 0
        failed_templates = len(unreadable)
        reports = []
        warning_kinds: Counter[str] = Counter()
        for path, error in unreadable:  # every broken notebook is reported; the others still run
            failures += len(error.problems)
            if not json:
                self.stdout.write(f"{path}: unreadable; {len(error.problems)} failure(s)")
                for problem in error.problems:
                    self.stdout.write(f"    static: {problem}")
        for spec in specs:
            report = selftest(spec, seeds)
            reports.append(report)
            variants += report.variants_ok
            failures += len(report.failures)
            warnings += len(report.warnings)
            explained += len(report.explained)
            warning_kinds.update(w.category for w in report.warnings)
            failed_templates += not report.ok
            if json:
                continue
            self.stdout.write(report.summary())
            for failure in report.failures:
                self.stdout.write(f"    {failure.describe()}")
            for warning in report.warnings:
                self.stdout.write(f"    warning {warning.describe()}")
            for warning, why in report.explained:
                self.stdout.write(f"    explained {warning.category}: {why}")
        if json:
            self.stdout.write(_dumps({
                "reports": [r.to_json() for r in reports],
                "unreadable": [{"path": str(p), "problems": [str(x) for x in e.problems]} for p, e in unreadable],
                "templates": len(specs) + len(unreadable), "variants": variants, "failures": failures,
                "warnings": warnings, "explained": explained, "warnings_by_kind": dict(warning_kinds)}))
        else:
            if warning_kinds:
                self.stdout.write("warnings by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(warning_kinds.items())))
            self.stdout.write(f"{len(specs) + len(unreadable)} templates, {variants} variants, {failures} failures"
                              + (f", {warnings} warnings" if warnings else "")
                              + (f", {explained} explained warnings" if explained else ""))
        if failures:
            raise CommandError(f"{failed_templates} template(s) failed the self-test", returncode=1)


def _collect(names: list[str]) -> tuple[list[TemplateSpec], list[tuple[Path, NotebookError]]]:
    """Templates to test, and the notebooks that could not be read (reported, never a stop)."""
    specs: list[TemplateSpec] = []
    unreadable: list[tuple[Path, NotebookError]] = []
    others: list[str] = []
    for name in names:
        path = Path(name)
        if path.is_dir() or (path.suffix == ".ipynb" and path.exists()):
            paths = find_notebooks(path) if path.is_dir() else [path]
            if not paths:
                raise CommandError(f"{name}: no notebooks found")
            for notebook_path in paths:
                try:
                    specs.append(read_notebook(notebook_path))
                except NotebookError as error:
                    unreadable.append((notebook_path, error))
        else:
            others.append(name)
    if others or not names:
        specs += resolve_specs(others)
    return specs, unreadable


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)

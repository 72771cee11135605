"""Shared by the template commands: a template named by slug (database) or by notebook path/folder."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizbank.models import Template
from quizbank.notebooks import NotebookError, find_notebooks, read_notebook
from quizbank.spec import TemplateSpec


def resolve_specs(names: list[str]) -> list[TemplateSpec]:
    """Slugs, notebook files and folders of notebooks; no names means every active template."""
    if not names:
        return [t.current_version.to_spec() for t in
                Template.objects.filter(is_active=True, current_version__isnull=False).select_related("current_version")]
    specs: list[TemplateSpec] = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" or path.is_dir():
            paths = find_notebooks(path) if path.is_dir() else [path]
            if not paths:
                raise CommandError(f"{name}: no notebooks found")
            for notebook_path in paths:
                if not notebook_path.exists():
                    raise CommandError(f"{notebook_path}: no such file")
                try:
                    specs.append(read_notebook(notebook_path))
                except NotebookError as error:
                    raise CommandError(str(error)) from error
            continue
        template = Template.objects.filter(slug=name).select_related("current_version").first()
        if template is None or template.current_version is None:
            raise CommandError(f"no template with slug {name!r} (import notebooks first, or pass a notebook path)")
        specs.append(template.current_version.to_spec())
    return specs


class TemplateCommand(BaseCommand):
    """A command that runs template code: a missing sandbox is a clear error, not a traceback.
    Subclasses implement `run(...)` with the arguments `handle` would take."""

    def handle(self, *args, **options):
        from quizbank.engine import RunnerUnavailable

        try:
            return self.run(*args, **options)
        except RunnerUnavailable as error:
            raise CommandError(f"the runner cannot run template code: {error}") from error

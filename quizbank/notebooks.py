"""Templates as Jupyter notebooks (nbformat v4): one notebook per template.

The template's metadata lives in `notebook.metadata["quizbank"]`; each part is a cell tagged with the
part's name (`parameters`, `stem`, `solution`, ...). Two cells are generated on export and ignored on
import: a title cell and a `jupyter-setup` cell that seeds the generators, so an instructor can open the
notebook in Jupyter and run parameters -> solution to see a variant. Untagged cells are the author's
scratch work and are ignored too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction

if TYPE_CHECKING:
    import nbformat

from quizbank.spec import Problem, TemplateError, TemplateSpec, check_static

FORMAT_VERSION = 1
# (spec field, cell tag, cell type) in the order cells appear in an exported notebook.
PARTS: tuple[tuple[str, str, str], ...] = (
    ("parameters", "parameters", "code"),
    ("stem", "stem", "markdown"),
    ("program", "program", "code"),
    ("solution", "solution", "code"),
    ("misconceptions", "misconceptions", "code"),
    ("scaffold", "scaffold", "code"),
    ("reference", "reference", "code"),
    ("tests", "tests", "code"),
    ("public_tests", "public-tests", "code"),
    ("explanation", "explanation", "markdown"),
    ("model_answer", "model-answer", "markdown"),
)
# Code-completion cells that may repeat: typical wrong fragments (metadata.quizbank: name, max_score) and
# other correct fragments.
MISTAKE_TAG, ALTERNATIVE_TAG = "mistake", "alternative"
GENERATED_TAGS = {"about", "jupyter-setup"}
METADATA_FIELDS = ("slug", "title", "kind", "type", "lectures", "tags", "answer", "limits", "notes")

JUPYTER_SETUP = """# Generated: the engine runs the same seeding before the template's cells. Change `seed` to see
# another variant. (Jinja2 parts such as a shown program are rendered by the engine, not here.)
seed = 0
import math, random
import numpy as np
import torch
random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
rng = random.Random(seed)
np_rng = np.random.default_rng(seed)"""


class NotebookError(Exception):
    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{self.path}: " + "; ".join(str(p) for p in problems))


def spec_to_notebook(spec: TemplateSpec) -> nbformat.NotebookNode:
    import nbformat  # imported when writing only: with its schema validator it costs ~0.3 s of every command

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    data = spec.to_dict()
    notebook.metadata["quizbank"] = {
        "format": FORMAT_VERSION,
        "slug": spec.slug,
        "title": spec.title,
        "kind": spec.kind,
        "type": spec.qtype,
        "lectures": data["lectures"],
        "tags": data["tags"],
        "answer": spec.answer,
        "limits": spec.limits,
        "notes": spec.notes,
    }
    lectures = ", ".join(str(x) for x in spec.lectures)
    about = (f"# {spec.title}\n\n`{spec.slug}` · kind **{spec.kind}** · type **{spec.qtype}** · lecture(s) {lectures}\n\n"
             "Cells are tagged with the template part they hold (View → Cell Toolbar → Tags).")
    cells = [_cell("markdown", about, "about"), _cell("code", JUPYTER_SETUP, "jupyter-setup")]
    for field_name, tag, cell_type in PARTS:
        source = getattr(spec, field_name)
        if source:
            cells.append(_cell(cell_type, source, tag))
    for index, mistake in enumerate(spec.mistakes, start=1):
        cell = _cell("code", str(mistake.get("code", "")), MISTAKE_TAG, cell_id=f"mistake-{index}")
        cell.metadata["quizbank"] = {key: value for key, value in mistake.items() if key != "code"}
        cells.append(cell)
    for index, code in enumerate(spec.alternatives, start=1):
        cells.append(_cell("code", code, ALTERNATIVE_TAG, cell_id=f"alternative-{index}"))
    notebook.cells = cells
    return notebook


def _cell(cell_type: str, source: str, tag: str, cell_id: str | None = None) -> nbformat.NotebookNode:
    import nbformat

    maker = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    cell = maker(source)
    cell.metadata["tags"] = [tag]
    cell["id"] = cell_id or tag  # stable ids: exporting twice gives the same bytes, so git diffs show edits only
    return cell


def notebook_to_spec(notebook: nbformat.NotebookNode, path: Path | str = "<notebook>") -> TemplateSpec:
    """Read a template from a notebook. Raises NotebookError naming every problem found."""
    problems: list[Problem] = []
    meta = notebook.get("metadata", {}).get("quizbank")
    if not isinstance(meta, dict):
        raise NotebookError(path, [Problem("metadata", "the notebook has no metadata.quizbank block")])
    if meta.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        problems.append(Problem("metadata", f"format {meta.get('format')!r} is not supported (expected {FORMAT_VERSION})"))
    unknown = sorted(set(meta) - set(METADATA_FIELDS) - {"format"})
    if unknown:
        problems.append(Problem("metadata", f"unknown metadata field(s): {', '.join(unknown)}"))
    for required in ("slug", "title", "kind", "type"):
        if not isinstance(meta.get(required), str) or not meta.get(required):
            problems.append(Problem("metadata", f"metadata.quizbank.{required} is missing or not text"))
    for list_field in ("lectures", "tags"):
        if list_field in meta and not isinstance(meta[list_field], list):
            problems.append(Problem("metadata", f"metadata.quizbank.{list_field} must be a list"))
    if "lectures" in meta and isinstance(meta["lectures"], list) and not all(
        isinstance(x, int) and not isinstance(x, bool) for x in meta["lectures"]
    ):
        problems.append(Problem("metadata", "metadata.quizbank.lectures must be a list of lecture numbers"))
    for dict_field in ("answer", "limits"):
        if dict_field in meta and not isinstance(meta[dict_field], dict):
            problems.append(Problem("metadata", f"metadata.quizbank.{dict_field} must be an object"))

    parts: dict[str, str] = {}
    mistakes: list[dict[str, Any]] = []
    alternatives: list[str] = []
    by_tag = {tag: (field_name, cell_type) for field_name, tag, cell_type in PARTS}
    repeatable = {MISTAKE_TAG, ALTERNATIVE_TAG}
    for index, cell in enumerate(notebook.get("cells", []), start=1):
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t not in GENERATED_TAGS]
        known = [t for t in tags if t in by_tag or t in repeatable]
        if len(known) == 1 and known[0] in repeatable:
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            if cell.get("cell_type") != "code":
                problems.append(Problem(f"cell {index}", f"a {known[0]} cell must be a code cell"))
            elif known[0] == ALTERNATIVE_TAG:
                alternatives.append(source)
            else:
                meta_block = cell.get("metadata", {}).get("quizbank", {})
                if not isinstance(meta_block, dict):
                    problems.append(Problem(f"cell {index}", "a mistake cell's metadata.quizbank must be an object "
                                            "{name, max_score}"))
                else:
                    mistakes.append({**meta_block, "code": source})
            continue
        if not known:
            continue
        if len(known) > 1:
            problems.append(Problem(f"cell {index}", f"has several part tags ({', '.join(known)}); use one"))
            continue
        field_name, cell_type = by_tag[known[0]]
        if cell.get("cell_type") != cell_type:
            problems.append(Problem(f"cell {index}", f"the {known[0]} part must be a {cell_type} cell"))
            continue
        if field_name in parts:
            problems.append(Problem(f"cell {index}", f"a second cell tagged {known[0]}; a part is one cell"))
            continue
        source = cell.get("source", "")
        parts[field_name] = "".join(source) if isinstance(source, list) else source
    if problems:
        raise NotebookError(path, problems)
    data: dict[str, Any] = {
        "slug": meta["slug"], "title": meta["title"], "kind": meta["kind"], "qtype": meta["type"],
        "lectures": meta.get("lectures", []), "tags": meta.get("tags", []), "answer": meta.get("answer", {}),
        "limits": meta.get("limits", {}), "notes": meta.get("notes", ""), **parts,
        "mistakes": mistakes, "alternatives": alternatives,
    }
    try:
        spec = TemplateSpec.from_dict(data)
    except TemplateError as error:
        raise NotebookError(path, error.problems) from error
    static = check_static(spec)
    if static:
        raise NotebookError(path, static)
    return spec


def read_notebook(path: Path) -> TemplateSpec:
    """Plain JSON: every field the template needs is checked by `notebook_to_spec` (nbformat's own reader
    and schema validation are not needed to read ours, and were a large share of a command's start)."""
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except (OSError, ValueError) as exc:
        raise NotebookError(path, [Problem("file", f"not a readable notebook: {exc}")]) from exc
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(notebook.get("cells"), list):
        found = notebook.get("nbformat") if isinstance(notebook, dict) else type(notebook).__name__
        raise NotebookError(path, [Problem("file", f"not a version 4 Jupyter notebook (nbformat {found!r})")])
    return notebook_to_spec(notebook, path)


def write_notebook(spec: TemplateSpec, path: Path) -> None:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(spec_to_notebook(spec), str(path))


def notebook_relative_path(spec: TemplateSpec) -> Path:
    lecture = min(spec.lectures) if spec.lectures else 0
    return Path(f"lecture-{lecture:02d}") / f"{spec.slug}.ipynb"


def find_notebooks(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)  # slugs with a new version
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "path: [part, line N] problem" lines
    warnings: list[str] = field(default_factory=list)  # weak-question warnings: reported, not fatal
    retired: list[str] = field(default_factory=list)  # slugs the bank's retired.json takes out of new draws

    @property
    def ok(self) -> bool:
        return not self.errors


def import_directory(directory: Path, *, seeds: int | None = None, run_seed: int | None = 0,
                     user: Any = None) -> ImportReport:
    """Import every notebook under `directory`, all or nothing: if any notebook is broken (unreadable,
    invalid, or failing the self-test on any of `seeds` seeds - default settings.QUIZBANK_CHECK_SEEDS;
    `run_seed=None` or `seeds=0` skips running code), nothing is imported."""
    from django.conf import settings

    from quizbank.selftest import check_before_use
    from quizbank.services import save_spec

    report = ImportReport()
    paths = find_notebooks(directory)
    specs: list[tuple[Path, TemplateSpec]] = []
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            spec = read_notebook(path)
        except NotebookError as error:
            report.errors.extend(f"{path}: {problem}" for problem in error.problems)
            continue
        if spec.slug in seen:
            report.errors.append(f"{path}: slug {spec.slug!r} is also used by {seen[spec.slug]}")
            continue
        seen[spec.slug] = path
        specs.append((path, spec))
    if seeds is None:
        seeds = int(getattr(settings, "QUIZBANK_CHECK_SEEDS", 20))
    if run_seed is not None and seeds > 0:
        for path, spec in specs:
            if _already_checked(spec):
                continue  # this very content was checked when it was imported or saved as ready
            checked = check_before_use(spec, seeds)
            report.errors.extend(f"{path}: {failure.describe()}" for failure in checked.failures)
            report.warnings.extend(f"{path}: warning {warning.describe()}" for warning in checked.warnings)
    if report.errors:
        return report
    retired = read_retired(directory)
    revived = sorted(set(retired) & set(seen))
    if revived:
        report.errors.extend(f"{seen[slug]}: {slug!r} is listed in retired.json; remove one of the two" for slug in revived)
        return report
    with transaction.atomic():
        for path, spec in specs:
            template_before = _current_hash(spec.slug)
            save_spec(spec, user=user, source_path=_display_path(path, directory), ready=True)
            (report.unchanged if template_before == spec.content_hash() else report.imported).append(spec.slug)
        report.retired = _retire(retired)
    return report


RETIRED_FILE = "retired.json"


def read_retired(directory: Path) -> dict[str, str]:
    """The bank's retired templates, {slug: why}. Their notebooks are gone; a database that imported them
    keeps their versions (attempts point at them) but draws them no more."""
    path = Path(directory) / RETIRED_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {str(slug): str(why) for slug, why in data.items()}


def _retire(retired: dict[str, str]) -> list[str]:
    from quizbank.models import Template

    slugs = sorted(Template.objects.filter(slug__in=list(retired), is_active=True).values_list("slug", flat=True))
    Template.objects.filter(slug__in=slugs).update(is_active=False)
    return slugs


def _already_checked(spec: TemplateSpec) -> bool:
    from quizbank.models import Template

    return Template.objects.filter(slug=spec.slug, status=Template.READY,
                                   current_version__content_hash=spec.content_hash()).exists()


def _current_hash(slug: str) -> str | None:
    from quizbank.models import Template

    template = Template.objects.select_related("current_version").filter(slug=slug).first()
    return template.current_version.content_hash if template and template.current_version else None


def _display_path(path: Path, directory: Path) -> str:
    try:
        return str(path.resolve().relative_to(directory.resolve().parent))
    except ValueError:
        return str(path)


def export_directory(specs: list[TemplateSpec], directory: Path) -> list[Path]:
    written = []
    for spec in specs:
        target = directory / notebook_relative_path(spec)
        write_notebook(spec, target)
        written.append(target)
    return written

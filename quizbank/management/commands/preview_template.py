import json
import os
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from quizbank.engine import GeneratedVariant
from quizbank.management.commands._resolve import TemplateCommand, resolve_specs
from quizbank.spec import TemplateError, TemplateSpec

MAX_SEEDS = 500


def parse_seeds(text: str) -> list[int]:
    """'3', '0-9', '1,4,10-12' -> seeds in the order given, without repeats."""
    seeds: list[int] = []
    for piece in text.replace(" ", "").split(","):
        low, dash, high = piece.partition("-") if not piece.startswith("-") else (piece, "", "")
        try:
            seeds.extend(range(int(low), int(high) + 1) if dash else [int(low)])
        except ValueError as error:
            raise CommandError(f"--seeds: {piece!r} is not a seed or a range like 0-9") from error
    seeds = list(dict.fromkeys(seeds))
    if not seeds or len(seeds) > MAX_SEEDS:
        raise CommandError(f"--seeds: give 1 to {MAX_SEEDS} seeds")
    return seeds


class Command(TemplateCommand):
    help = ("Generate variants of a template (slug or notebook path) and print them: one seed (--seed) or "
            "many in one run (--seeds 0-9), sharing one start of the runner.")
    requires_system_checks = []  # an author's inner loop: the project-wide checks (URLs, admin) cost startup time

    def add_arguments(self, parser):
        parser.add_argument("template", help="a template slug or a notebook file")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--seeds", default=None, help="several seeds: 0-9, or 1,4,10-12 (overrides --seed)")
        parser.add_argument("--json", action="store_true",
                            help="print JSON: one object for --seed, a list for --seeds; errors are JSON too")

    def handle(self, *args, **options):
        try:
            return super().handle(*args, **options)
        except CommandError as error:
            if options.get("json") and not getattr(error, "reported", False):
                self.stdout.write(_json_dumps({"error": {"message": str(error), "problems": []}}))
            raise

    def run(self, template: str, seed: int, seeds: str | None, json: bool, **options):
        seed_list = parse_seeds(seeds) if seeds else [seed]
        _start_runner_early(len(seed_list))
        specs = resolve_specs([template])
        if len(specs) != 1:
            raise CommandError("name one template")
        spec = specs[0]
        results = _generate_all(spec, seed_list)
        entries = [_entry(spec, s, r) for s, r in zip(seed_list, results)]
        failed = [e for e in entries if "error" in e]
        if json:
            self.stdout.write(_json_dumps(entries if seeds else entries[0]))
        else:
            for entry in entries:
                self._write_text(spec, entry)
        if failed:
            error = CommandError("; ".join(e["error"]["message"] for e in failed[:3])
                                 + (f" (and {len(failed) - 3} more seeds)" if len(failed) > 3 else ""), returncode=1)
            error.reported = True  # the JSON already carries it
            raise error

    def _write_text(self, spec: TemplateSpec, data: dict[str, Any]) -> None:
        if "error" in data:
            self.stdout.write(f"{spec.slug} seed {data['seed']}: BROKEN\n" +
                              "\n".join(f"  {p['where']}: {p['message']}" for p in data["error"]["problems"]) + "\n")
            return
        self.stdout.write(f"{spec.slug} ({spec.kind}/{spec.qtype}) seed {data['seed']}\n\n{data['stem']}\n")
        if data["program"]:
            self.stdout.write(data["program"] + "\n")
        for index, option in enumerate(data["option_details"] or []):
            marker = "*" if option["correct"] else " "
            source = f"   [{option['misconception']}]" if option["misconception"] else ""
            self.stdout.write(f" {marker} {chr(65 + index)}. {option['text']}{source}")
        self.stdout.write(f"\nanswer: {data['answer']}\n\n{data['explanation']}\n")


def _start_runner_early(seed_count: int) -> None:
    """Start the sandboxes while the notebook is read, and only as many as the seeds can use: a one-seed
    preview waits for one torch import, not one per core competing on a busy machine."""
    from runner.pool import get_pool

    if not getattr(settings, "RUNNER_POOL_SIZE", 0):
        settings.RUNNER_POOL_SIZE = max(1, min(seed_count, os.cpu_count() or 1))
    threading.Thread(target=_quietly(get_pool), daemon=True).start()


def _quietly(function):
    def run() -> None:
        try:
            function()
        except Exception:  # noqa: BLE001 - the command's own first job reports the same failure, located
            pass
    return run


def _generate_all(spec: TemplateSpec, seeds: list[int]) -> list[GeneratedVariant | TemplateError]:
    from quizbank import services

    results = services.preview(spec, seeds, parallel=True)
    if len(results) == 1 and len(seeds) > 1:  # static problems: the same for every seed
        results = results * len(seeds)
    return results


def _entry(spec: TemplateSpec, seed: int, result: GeneratedVariant | TemplateError) -> dict[str, Any]:
    if isinstance(result, TemplateError):
        return {"slug": spec.slug, "seed": seed, "error": {
            "message": result.describe() if result.seed is not None else f"{spec.slug} (seed {seed}): {result.describe()}",
            "problems": [{"part": p.part, "line": p.line, "message": p.message, "where": str(p).split("] ", 1)[0] + "]"}
                         for p in result.problems]}}
    variant = result
    options = [o["text"] for o in variant.public["options"]] if "options" in variant.public else None
    data: dict[str, Any] = {
        "slug": spec.slug,
        "kind": spec.kind,
        "type": spec.qtype,
        "seed": seed,
        "stem": variant.public["stem_md"],
        "program": variant.public.get("program") or None,
        "options": options,
        # which mistake produced each option: "correct", a misconception's name, or a fixed distractor
        "option_details": [
            {"text": text, "correct": index == variant.key.get("correct_index"),
             "misconception": source.removeprefix("misconception:") if source.startswith("misconception:") else None,
             "source": source.split(":", 1)[0]}
            for index, (text, source) in enumerate(zip(options, variant.key["option_sources"]))
        ] if options is not None else None,
        "answer": variant.key["answer"],
        "answer_index": variant.key.get("correct_index"),
        "explanation": variant.key["explanation_md"],
        "params": variant.key["params"],
        "wall_ms": round(variant.wall_ms, 1),
    }
    if spec.kind == "completion":
        data["scaffold"] = variant.public["scaffold"]
        data["expected_tests"] = variant.key["expected_tests"]
    return data


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=True)


import json

from django.core.management.base import CommandError

from quizbank.engine import generate
from quizbank.management.commands._resolve import TemplateCommand, resolve_specs
from quizbank.spec import TemplateError


class Command(TemplateCommand):
    help = "Generate one variant of a template (slug or notebook path) and print it."

    def add_arguments(self, parser):
        parser.add_argument("template", help="a template slug or a notebook file")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def run(self, template: str, seed: int, json: bool, **options):
        specs = resolve_specs([template])
        if len(specs) != 1:
            raise CommandError("name one template")
        spec = specs[0]
        try:
            variant = generate(spec, seed)
        except TemplateError as error:
            raise CommandError(str(error)) from error
        data = {
            "slug": spec.slug,
            "kind": spec.kind,
            "type": spec.qtype,
            "seed": seed,
            "stem": variant.public["stem_md"],
            "program": variant.public.get("program") or None,
            "options": [o["text"] for o in variant.public["options"]] if "options" in variant.public else None,
            "answer": variant.key["answer"],
            "answer_index": variant.key.get("correct_index"),
            "explanation": variant.key["explanation_md"],
            "params": variant.key["params"],
        }
        if spec.kind == "completion":
            data["scaffold"] = variant.public["scaffold"]
            data["expected_tests"] = variant.key["expected_tests"]
        if json:
            self.stdout.write(_json_dumps(data))
            return
        self.stdout.write(f"{spec.slug} ({spec.kind}/{spec.qtype}) seed {seed}\n\n{data['stem']}\n")
        if data["program"]:
            self.stdout.write(data["program"] + "\n")
        for index, option in enumerate(data["options"] or []):
            marker = "*" if index == data["answer_index"] else " "
            self.stdout.write(f" {marker} {chr(65 + index)}. {option}")
        self.stdout.write(f"\nanswer: {data['answer']}\n\n{data['explanation']}")


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=True)

"""What a page shows in place of a question whose variant cannot be had (a template broken for this seed), or
is not generated yet (a worker is making it: the page waits for it)."""
from __future__ import annotations

from typing import Any

UNAVAILABLE_TEXT = "This question could not be generated. Tell your instructor; it will be regraded."


def unavailable_question(qtype: str) -> dict[str, Any]:
    return {"kind": "unavailable", "qtype": qtype, "answer_format": "text", "title": "Question unavailable",
            "stem_md": UNAVAILABLE_TEXT, "stem_html": f"<p>{UNAVAILABLE_TEXT}</p>",
            "program": "", "program_html": "", "unavailable": True}


PREPARING_TEXT = "This question is being prepared. It appears here in a moment; your other answers are saved as usual."


def preparing_question(qtype: str) -> dict[str, Any]:
    return {"kind": "preparing", "qtype": qtype, "answer_format": "preparing", "title": "Question being prepared",
            "stem_md": PREPARING_TEXT, "stem_html": f"<p>{PREPARING_TEXT}</p>",
            "program": "", "program_html": "", "preparing": True}

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
# On a results page (the attempt is submitted: nothing more is saved).
PREPARING_REVIEW_TEXT = "This question is being prepared; it appears here in a moment."


def preparing_question(qtype: str, *, submitted: bool = False) -> dict[str, Any]:
    text = PREPARING_REVIEW_TEXT if submitted else PREPARING_TEXT
    return {"kind": "preparing", "qtype": qtype, "answer_format": "preparing", "title": "Question being prepared",
            "stem_md": text, "stem_html": f"<p>{text}</p>",
            "program": "", "program_html": "", "preparing": True}

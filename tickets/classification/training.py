"""Training data and the training services.

From this helpdesk: resolved (solved or closed) tickets whose category a
person chose. How that is known, from the history every ticket has:

- The newest `ticket.category_changed` event of a ticket says who set its
  current category. With an actor, a person did: a triage, a correction, any
  change on the ticket page or through the API. Without one, intake did (the
  classifier or a keyword rule): the machine's own guess, which is left out,
  so the classifier never learns from its unchecked predictions.
- No such event: the category came with the ticket, chosen explicitly by
  whoever opened it (an agent on the customer's behalf, an API client, the
  mailbox a manager set up); intake keeps such a choice and records nothing.
  Tickets that link others (a major incident, which the helpdesk opens itself
  with a generated text) are left out.
- A category intake chose and nobody changed does not count as confirmed:
  nothing records that anybody looked at it (a bulk solve, a reply that
  solves), so "right" cannot be told from "not noticed". When a person does
  change it, that is a correction, and corrections (a person's category that
  differs from the one intake chose) weigh HELPDESK_CLASSIFIER_CORRECTION_WEIGHT
  (default 2) times an ordinary example: they are the classifier's mistakes.

The label is the category's current name, the priority the ticket ended with
is the priority label.

Bounded: the newest tickets first, at most HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS
rows (default 30,000) spread evenly over the categories (a category with
fewer takes what it has), looking at no more than SCAN_FACTOR times that many
resolved tickets. So a retraining costs the same at 100,000 tickets and at ten
million (bench/README.md, "Classifier").

Held out: tickets whose id is a multiple of HELD_OUT_EVERY (a fixed fifth)
are never trained on by any version; each new version and the active one are
both measured on the same held-out tickets, and the new one is activated only
if it is not worse (classifier_train).

From a CSV: columns `text` and `label` (`category` is accepted for `label`,
so public data sets such as BANKING77 load as they are), optionally
`priority`. Malformed rows are reported (line and reason) and skipped.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from tickets.classification import store
from tickets.classification.model import (
    MAX_TEXT_CHARS,
    Dataset,
    Metrics,
    TrainingError,
    scores,
    train,
)
from tickets.models import Category, ClassifierModel, Priority, Status, Ticket, TicketEvent

logger = logging.getLogger(__name__)

TICKETS_SOURCE = "resolved tickets"

# Tickets whose id is a multiple of this are the held-out fifth.
HELD_OUT_EVERY = 5
# At most this many resolved tickets are looked at per training row wanted:
# the bound on the walk when some categories are rare or few categories were
# set by people.
SCAN_FACTOR = 10
# Tickets looked at per round trip (four queries each).
_BATCH = 5_000


def ticket_text(subject: str, description: str) -> str:
    """The text a ticket is classified on; intake builds the same."""
    return f"{subject}\n{description}"


def is_held_out(ticket_id: int) -> bool:
    return ticket_id % HELD_OUT_EVERY == 0


# --- data from tickets ---------------------------------------------------------------


@dataclass
class TicketData:
    """Training rows (with their weights) and the held-out rows."""

    data: Dataset
    held_out: Dataset
    # Identifies the exact rows, labels and weights, so the periodic job does
    # not train the same model twice.
    fingerprint: str
    scanned: int = 0
    corrections: int = 0


@dataclass(frozen=True)
class _Origin:
    by_person: bool
    correction: bool


def category_origin(events: list[tuple[int | None, str]]) -> _Origin:
    """Who set a ticket's current category, from its `ticket.category_changed`
    events (actor id, new value), oldest first; see the module docstring."""
    if not events:
        return _Origin(by_person=True, correction=False)  # given at intake
    actor, value = events[-1]
    if actor is None:
        return _Origin(by_person=False, correction=False)  # intake's guess
    machine = [new for who, new in events if who is None]
    return _Origin(by_person=True, correction=bool(machine) and machine[-1] != value)


def ticket_training_data(*, max_rows: int | None = None) -> TicketData:
    """The newest resolved tickets with a category a person chose, at most
    `max_rows` (default HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS) spread evenly
    over the categories, split into training rows and held-out rows."""
    if max_rows is None:
        max_rows = settings.HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS
    correction_weight = float(settings.HELPDESK_CLASSIFIER_CORRECTION_WEIGHT)
    categories = Category.objects.count()
    per_category = max(1, max_rows // max(1, categories))
    # Held-out rows count against the same quota, in their natural share.
    held_quota = max(1, round(per_category / HELD_OUT_EVERY))
    quotas = {False: max(1, per_category - held_quota), True: held_quota}
    taken: dict[bool, Counter[int]] = {False: Counter(), True: Counter()}
    scan_limit = SCAN_FACTOR * max_rows
    resolved = Ticket.objects.filter(
        status__in=[Status.SOLVED, Status.CLOSED],
        category__isnull=False,
        # A merged duplicate repeats its target's text; once is enough.
        merged_into__isnull=True,
    ).order_by("-id")

    kept: dict[int, float] = {}  # ticket id -> weight
    scanned = corrections = 0
    before: int | None = None
    while scanned < scan_limit:
        page = resolved if before is None else resolved.filter(id__lt=before)
        batch = list(page.values_list("id", "category_id")[: min(_BATCH, scan_limit - scanned)])
        if not batch:
            break
        scanned += len(batch)
        before = batch[-1][0]
        wanted = [
            (pk, category)
            for pk, category in batch
            if taken[is_held_out(pk)][category] < quotas[is_held_out(pk)]
        ]
        if wanted:
            corrections += _take(wanted, taken, quotas, kept, correction_weight)
        if all(
            sum(1 for n in taken[held].values() if n >= quotas[held]) >= categories
            for held in (False, True)
        ):
            break  # every category has its share
    return _ticket_rows(kept, scanned=scanned, corrections=corrections)


def _take(
    wanted: list[tuple[int, int]],
    taken: dict[bool, Counter[int]],
    quotas: dict[bool, int],
    kept: dict[int, float],
    correction_weight: float,
) -> int:
    """Keep the tickets of `wanted` whose category a person chose, while their
    category's quota lasts; return how many of them are corrections."""
    ids = [pk for pk, _category in wanted]
    history: dict[int, list[tuple[int | None, str]]] = {pk: [] for pk in ids}
    for pk, actor, value in (
        TicketEvent.objects.filter(ticket_id__in=ids, action="ticket.category_changed")
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "actor_id", "new_value")
    ):
        history[pk].append((actor, value))
    parents = set(Ticket.objects.filter(parent_id__in=ids).values_list("parent_id", flat=True))
    corrections = 0
    for pk, category in wanted:
        held = is_held_out(pk)
        if taken[held][category] >= quotas[held] or pk in parents:
            continue
        origin = category_origin(history[pk])
        if not origin.by_person:
            continue
        taken[held][category] += 1
        kept[pk] = correction_weight if origin.correction else 1.0
        corrections += origin.correction
    return corrections


def _ticket_rows(kept: dict[int, float], *, scanned: int, corrections: int) -> TicketData:
    digest = hashlib.sha256()
    train_rows = Dataset(texts=[], labels=[], priorities=[], weights=[])
    held_rows = Dataset(texts=[], labels=[], priorities=[], weights=[])
    ids = sorted(kept, reverse=True)
    for start in range(0, len(ids), _BATCH):
        rows = (
            Ticket.objects.filter(id__in=ids[start : start + _BATCH])
            .order_by("-id")
            .values_list("id", "subject", "description", "category__name", "priority")
        )
        for pk, subject, description, category, priority in rows:
            target = held_rows if is_held_out(pk) else train_rows
            target.texts.append(ticket_text(subject, description)[:MAX_TEXT_CHARS])
            target.labels.append(category)
            target.priorities.append(priority)  # type: ignore[union-attr]  # set above
            target.weights.append(kept[pk])  # type: ignore[union-attr]  # set above
            digest.update(f"{pk}\x1f{category}\x1f{priority}\x1f{kept[pk]}\x1e".encode())
    return TicketData(
        data=train_rows,
        held_out=held_rows,
        fingerprint=digest.hexdigest()[:16],
        scanned=scanned,
        corrections=corrections,
    )


# --- data from a CSV -------------------------------------------------------------------

# Undecodable bytes, kept by errors="surrogateescape" as lone surrogates.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
# How many skipped rows an error message names.
_NAMED = 5


@dataclass
class CsvData:
    data: Dataset
    # (line, reason) of every row that was not used.
    skipped: list[tuple[int, str]] = field(default_factory=list)


@contextmanager
def _any_field_size() -> Iterator[None]:
    """Let the csv module read fields of any length (a long e-mail thread is
    one field; the default limit is 131,072 characters). sys.maxsize does not
    fit the C long of some platforms (Windows), hence the loop; the old limit
    is restored afterwards."""
    limit = sys.maxsize
    while True:
        try:
            previous = csv.field_size_limit(limit)
            break
        except OverflowError:
            limit //= 2
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def read_csv(path: str | Path) -> CsvData:
    """A CSV with a header: text, label (or category), and optionally priority.
    Rows that cannot be used (malformed quoting, a different number of fields
    than the header, an empty text or label, an unknown priority, bytes that
    are not UTF-8) are skipped and listed in `skipped` with their line."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise TrainingError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    texts: list[str] = []
    labels: list[str] = []
    priorities: list[str] = []
    skipped: list[tuple[int, str]] = []
    with handle, _any_field_size():
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
        except (csv.Error, OSError) as exc:
            raise TrainingError(f"{path.name}: cannot read the header line ({exc}).") from exc
        if header is None or _NOT_UTF8.search(",".join(header)):
            found = "nothing" if header is None else "text that is not UTF-8"
            raise TrainingError(
                f"{path.name} needs a header with the columns text and label (found: {found})."
            )
        columns = {name.strip().lower(): i for i, name in enumerate(header)}
        label_at = columns.get("label", columns.get("category"))
        if "text" not in columns or label_at is None:
            raise TrainingError(
                f"{path.name} needs a header with the columns text and label "
                f"(found: {', '.join(columns) or 'nothing'})."
            )
        text_at, priority_at = columns["text"], columns.get("priority")
        while True:
            line = reader.line_num + 1  # where the next row starts
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                skipped.append((line, f"malformed CSV ({exc})"))
                continue
            except OSError as exc:
                raise TrainingError(f"{path.name}, line {line}: cannot read ({exc}).") from exc
            if not row:
                continue  # a blank line
            if len(row) != len(header):
                skipped.append((line, f"{len(row)} fields where the header has {len(header)}"))
                continue
            if any(_NOT_UTF8.search(value) for value in row):
                skipped.append((line, "not UTF-8 text"))
                continue
            text, label = row[text_at].strip(), row[label_at].strip()
            if not text or not label:
                skipped.append((line, "empty text" if not text else "empty label"))
                continue
            if priority_at is not None:
                priority = row[priority_at].strip().lower()
                if priority not in Priority.values:
                    skipped.append(
                        (
                            line,
                            f"unknown priority {priority!r} (use {', '.join(Priority.values)})",
                        )
                    )
                    continue
                priorities.append(priority)
            # The model reads the first MAX_TEXT_CHARS characters only.
            texts.append(text[:MAX_TEXT_CHARS])
            labels.append(label)
    if not texts:
        named = "; ".join(f"line {n}: {why}" for n, why in skipped[:_NAMED])
        more = f" (and {len(skipped) - _NAMED} more)" if len(skipped) > _NAMED else ""
        raise TrainingError(
            f"{path.name} has no usable rows with both a text and a label"
            + (f": {named}{more}." if named else ".")
        )
    data = Dataset(texts=texts, labels=labels, priorities=priorities or None)
    return CsvData(data=data, skipped=skipped)


def load_csv(path: str | Path) -> Dataset:
    """The usable rows of a CSV (read_csv), without the report."""
    return read_csv(path).data


# --- services ----------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The active version measured on the new version's held-out examples."""

    version: int
    accuracy: float
    macro_f1: float


@dataclass
class TrainingResult:
    row: ClassifierModel
    metrics: Metrics
    activated: bool
    seconds: float
    baseline: Baseline | None = None


def _canonical_labels() -> dict[str, str]:
    """Category names and slugs (lower case) -> the category's name: a model
    trained on a CSV may speak slugs, one trained on tickets names; intake
    accepts both (steps.category_for_label), so the comparison does too."""
    canonical: dict[str, str] = {}
    for name, slug in Category.objects.values_list("name", "slug"):
        canonical.setdefault(slug.lower(), name)
        canonical[name.lower()] = name
    return canonical


def measure_active(data: Dataset) -> Baseline | None:
    """The active version's accuracy and macro-F1 on `data`, or None when no
    version is active or its artifact cannot be read (then there is nothing to
    keep)."""
    active = ClassifierModel.objects.filter(is_active=True).first()
    if active is None:
        return None
    try:
        model = store.read_version(active)
    except store.ArtifactError:
        logger.exception("Cannot load the active classifier v%s to compare", active.version)
        return None
    canonical = _canonical_labels()

    def canon(label: str) -> str:
        return canonical.get(label.lower(), label)

    predicted = [canon(p.label) for p in model.category.predict(data.texts)]
    accuracy, macro_f1 = scores([canon(label) for label in data.labels], predicted)
    return Baseline(version=active.version, accuracy=accuracy, macro_f1=macro_f1)


def classifier_train(
    *,
    data: Dataset,
    source: str,
    eval_data: Dataset | None = None,
    eval_name: str = "evaluation CSV",
    activate: bool | None = True,
) -> TrainingResult:
    """Train, measure, and store the next version.

    The active version (if any) is measured on the same examples as the new
    one, and both figures are stored on the new row. `activate=None`
    activates the new version only when its macro-F1 is not worse than the
    active one's on those examples by more than HELPDESK_CLASSIFIER_MAX_F1_DROP
    (default 0.02): the periodic job and `train_classifier` use it, so that a
    bad batch of labels cannot replace a good model. True and False decide
    regardless."""
    started = time.perf_counter()
    model, metrics = train(data, eval_data=eval_data, eval_name=eval_name)
    measured_on = metrics.measured_on
    baseline = measure_active(measured_on) if measured_on is not None else None
    if activate is None:
        allowed_drop = settings.HELPDESK_CLASSIFIER_MAX_F1_DROP
        activate = baseline is None or metrics.macro_f1 >= baseline.macro_f1 - allowed_drop
    row = store.classifier_save(
        model=model,
        metrics=metrics,
        source=source,
        activate=activate,
        baseline_version=baseline.version if baseline else None,
        baseline_accuracy=baseline.accuracy if baseline else None,
        baseline_macro_f1=baseline.macro_f1 if baseline else None,
    )
    return TrainingResult(
        row=row,
        metrics=metrics,
        activated=activate,
        seconds=time.perf_counter() - started,
        baseline=baseline,
    )


def classifier_train_on_tickets(
    tickets: TicketData, *, source: str = TICKETS_SOURCE, activate: bool | None = None
) -> TrainingResult:
    """Train on the tickets' training rows, measure on their held-out rows."""
    if not len(tickets.data):
        raise TrainingError("There are no resolved tickets with a category a person chose yet.")
    if not len(tickets.held_out):
        raise TrainingError(
            f"None of the {len(tickets.data)} tickets a person categorised is held out "
            f"(every ticket whose number is a multiple of {HELD_OUT_EVERY}): "
            "nothing to measure a new version on yet."
        )
    return classifier_train(
        data=tickets.data,
        source=source,
        eval_data=tickets.held_out,
        eval_name="held-out tickets",
        activate=activate,
    )


def classifier_retrain_from_tickets() -> dict:
    """The periodic job: train on resolved tickets when there are enough and
    they changed since the last version trained on them. Safe to run twice."""
    minimum = settings.HELPDESK_CLASSIFIER_MIN_TRAINING_TICKETS
    tickets = ticket_training_data()
    found = len(tickets.data) + len(tickets.held_out)
    if found < minimum:
        return {
            "status": "skipped",
            "reason": f"{found} resolved tickets categorised by a person (< {minimum})",
        }
    source = f"{TICKETS_SOURCE} (data {tickets.fingerprint})"
    if ClassifierModel.objects.filter(source=source).exists():
        return {"status": "skipped", "reason": "no new resolved tickets since the last training"}
    try:
        result = classifier_train_on_tickets(tickets, source=source, activate=None)
    except TrainingError as exc:
        return {"status": "skipped", "reason": str(exc)}
    baseline = result.baseline
    logger.info(
        "Classifier v%s trained on %s tickets (%s corrections) in %.0f s: macro-F1 %.3f%s, %s",
        result.row.version,
        result.metrics.train_samples,
        tickets.corrections,
        result.seconds,
        result.metrics.macro_f1,
        f" (active v{baseline.version}: {baseline.macro_f1:.3f})" if baseline else "",
        "activated" if result.activated else "kept inactive (worse than the active one)",
    )
    return {
        "status": "trained",
        "version": result.row.version,
        "activated": result.activated,
        "macro_f1": result.metrics.macro_f1,
        "baseline_macro_f1": baseline.macro_f1 if baseline else None,
    }

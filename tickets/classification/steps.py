"""The intake step that classifies a new ticket (settings.HELPDESK_INTAKE_STEPS).

Category: the active model's prediction when its confidence reaches
HELPDESK_CLASSIFIER_MIN_CONFIDENCE (default 0.6); otherwise a manager's
keyword rule; otherwise the ticket waits in triage for a person, because a
wrong category sends it to the wrong team, which costs more than a short wait.
Priority: the model's priority prediction (or the matching rule's priority),
then urgency cues raise it. What the submitter chose explicitly is kept: the
model never replaces an explicit category or priority; urgency cues may still
raise an explicit priority (a mailbox's default "normal" must not hide an
outage), never lower it.

Every decision is recorded as the system's (Intake.change) with a note that
says why and how sure, so the ticket's history shows it and an agent can
override it; overrides become training data (tickets.classification.training).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

from tickets.classification import store
from tickets.classification.model import TicketPrediction
from tickets.classification.rules import match_keyword_rule
from tickets.classification.sentiment import sentiment_score
from tickets.classification.urgency import Urgency, assess_urgency
from tickets.models import Category, KeywordRule, Organization, SupportTier

if TYPE_CHECKING:
    from tickets.intake import Intake


def min_confidence() -> float:
    return settings.HELPDESK_CLASSIFIER_MIN_CONFIDENCE


def category_for_label(label: str) -> Category | None:
    """Models trained on tickets use category names; a CSV may use names or
    slugs. A label with no category here (renamed, deleted) cannot be used."""
    return (
        Category.objects.filter(Q(name__iexact=label) | Q(slug__iexact=label))
        .order_by("pk")
        .first()
    )


@dataclass
class Decision:
    """What classification decided for one text, and why (also what
    `manage.py classify` prints)."""

    sentiment: float
    version: int | None = None
    prediction: TicketPrediction | None = None
    rule: KeywordRule | None = None
    category: Category | None = None
    category_confidence: float | None = None
    category_note: str = ""
    triage_note: str = ""
    priority: str | None = None
    priority_note: str = ""
    urgency: Urgency | None = None


def _fmt(confidence: float) -> str:
    return f"{confidence:.2f}"


def decide(
    text: str,
    *,
    organization: Organization | None = None,
    explicit_category: Category | None = None,
    explicit_priority: str | None = None,
    current_priority: str = "normal",
) -> Decision:
    loaded = store.active_model()
    decision = Decision(sentiment=sentiment_score(text))
    if loaded is not None:
        decision.version = loaded.version
        decision.prediction = loaded.predict(text)
    threshold = min_confidence()
    prediction = decision.prediction

    # --- category
    if explicit_category is None:
        unsure = ""
        # Only a loaded model makes a prediction: testing `loaded` narrows its type.
        if prediction is not None and loaded is not None:
            category = category_for_label(prediction.category.label)
            shown = f"{prediction.category.label} ({_fmt(prediction.category.confidence)})"
            decision.category_confidence = prediction.category.confidence
            if category is None:
                unsure = f"classifier v{loaded.version} predicted {shown}, which is no category"
            elif prediction.category.confidence < threshold:
                unsure = f"classifier v{loaded.version} unsure: {shown} is below {_fmt(threshold)}"
            else:
                decision.category = category
                decision.category_note = f"Classifier v{loaded.version}: {category.name} " + (
                    f"({_fmt(prediction.category.confidence)})"
                )
        if decision.category is None:
            decision.rule = match_keyword_rule(text)
            if decision.rule is not None:
                decision.category = decision.rule.category
                # The model's number is about its own (rejected) guess.
                decision.category_confidence = None
                decision.category_note = (
                    f"Keyword rule \u201c{decision.rule.phrase}\u201d \u2192 "
                    f"{decision.rule.category.name}" + (f"; {unsure}" if unsure else "")
                )
            else:
                reason = unsure or "no trained classifier"
                decision.triage_note = f"Needs triage: {reason}; no keyword rule matched"

    # --- priority
    base, notes = explicit_priority or current_priority, []
    if explicit_priority is None:
        if (
            prediction is not None
            and loaded is not None
            and prediction.priority is not None
            and prediction.priority.confidence >= threshold
        ):
            base = prediction.priority.label
            notes.append(
                f"Classifier v{loaded.version}: priority {base} "
                f"({_fmt(prediction.priority.confidence)})"
            )
        elif decision.rule is not None and decision.rule.priority:
            base = decision.rule.priority
            notes.append(f"Keyword rule \u201c{decision.rule.phrase}\u201d \u2192 priority {base}")
    decision.urgency = assess_urgency(
        text,
        current=base,
        vip=organization is not None and organization.support_tier == SupportTier.VIP,
        sentiment=decision.sentiment,
    )
    if decision.urgency.raised:
        notes.append(decision.urgency.note)
    # An explicit priority only changes when the cues raised it above itself.
    final = decision.urgency.priority
    if final != current_priority:
        decision.priority = final
        decision.priority_note = "; ".join(notes)
    return decision


def classify_step(intakes: Sequence[Intake]) -> None:
    """Intake step: category, priority, sentiment and confidence for new tickets."""
    for intake in intakes:
        ticket = intake.ticket
        decision = decide(
            intake.text,
            organization=ticket.organization,
            explicit_category=intake.explicit_category,
            explicit_priority=intake.explicit_priority,
            current_priority=ticket.priority,
        )
        intake.classification = decision
        # Scores, not decisions: no history event of their own (the notes of
        # the decisions below carry the confidence).
        intake.set(
            sentiment=decision.sentiment,
            category_confidence=decision.category_confidence,
            needs_triage=bool(decision.triage_note),
        )
        if decision.category is not None:
            intake.change("category", decision.category, note=decision.category_note)
        if decision.priority is not None:
            intake.change("priority", decision.priority, note=decision.priority_note)
        if decision.category is None and decision.triage_note:
            intake.record(
                "ticket.triage_needed",
                field="needs_triage",
                old=False,
                new=True,
                note=decision.triage_note,
            )

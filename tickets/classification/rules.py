"""Keyword rules managers define ("password", "locked out" -> Login): they
categorise tickets while no trained model is sure enough (a new install, a new
category the model has not learnt yet)."""

from __future__ import annotations

import re

from tickets.models import KeywordRule


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def rule_matches(phrase: str, text: str) -> bool:
    """Whole words only, ignoring case and runs of whitespace: "log in" matches
    "Can't LOG\\nIN" but not "blog index"."""
    phrase = _normalise(phrase)
    if not phrase:
        return False
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", _normalise(text)) is not None


def match_keyword_rule(text: str) -> KeywordRule | None:
    """The active rule whose phrase occurs in the text; when several do, the
    longest phrase (the most specific: "locked out of billing" over "locked
    out"), then the oldest rule."""
    best: KeywordRule | None = None
    for rule in KeywordRule.objects.filter(is_active=True).select_related("category"):
        if not rule_matches(rule.phrase, text):
            continue
        if best is None or (len(_normalise(rule.phrase)), -rule.pk) > (
            len(_normalise(best.phrase)),
            -best.pk,
        ):
            best = rule
    return best

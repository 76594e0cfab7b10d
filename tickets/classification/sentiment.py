"""The customer's tone, from -1 (very negative) to 1 (very positive).

VADER (vaderSentiment, MIT licence) is a lexicon of ~7,500 words rated by
people, with rules for negation, intensifiers ("very"), capitals and "!!!".
It was built for short informal English text, which is what tickets are; the
lexicon ships inside the package, so nothing is downloaded at run time. Its
`compound` score is the normalised sum, already in [-1, 1].
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

# VADER scores sentence by sentence; past the first few paragraphs a long
# e-mail (quoted history, signatures) says little about the tone and costs time.
MAX_TEXT_CHARS = 4000


@cache
def _analyzer():
    # Imported and built once per process: reading the lexicon takes ~15 ms.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment_score(text: str) -> float:
    return round(_analyzer().polarity_scores((text or "")[:MAX_TEXT_CHARS])["compound"], 3)


def is_angry(score: float | None) -> bool:
    """The one definition of an angry customer (HELPDESK_ANGRY_SENTIMENT,
    default -0.6): reached by angry messages ("terrible", "unacceptable",
    "furious") but not by neutral problem reports ("I lost my card" -0.3, "my
    password is wrong" -0.5). Urgency raises an angry customer's priority;
    an angry VIP is a customer escalation."""
    return score is not None and score <= settings.HELPDESK_ANGRY_SENTIMENT

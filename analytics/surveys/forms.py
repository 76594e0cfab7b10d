"""The survey forms: the same CSAT form behind the e-mail link and on the
portal, and the NPS form."""

from __future__ import annotations

from django import forms

from analytics.surveys.sending import RATING_WORDS
from analytics.surveys.services import COMMENT_MAX

EFFORT_CHOICES = [
    ("", "Choose…"),
    *[
        (n, f"{n}{' – very hard' if n == 1 else ' – very easy' if n == 7 else ''}")
        for n in range(1, 8)
    ],
]


class CSATForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How would you rate the help you got?",
        choices=[(n, f"{n} – {RATING_WORDS[n]}") for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    effort = forms.TypedChoiceField(
        label="How easy was it to get help?",
        choices=EFFORT_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="1 is very hard, 7 very easy. Optional.",
    )
    comment = forms.CharField(
        label="Anything you would like to tell us?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=COMMENT_MAX,
        required=False,
    )


class NPSForm(forms.Form):
    score = forms.TypedChoiceField(
        label="How likely are you to recommend us to a friend or colleague?",
        choices=[(n, str(n)) for n in range(0, 11)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text="0 is not at all likely, 10 extremely likely.",
    )
    comment = forms.CharField(
        label="What is the main reason for your score?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=COMMENT_MAX,
        required=False,
    )

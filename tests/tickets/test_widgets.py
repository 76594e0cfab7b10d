"""The Python-rendered widgets must produce Django's own markup."""

import re

import pytest
from django import forms

from tickets import widgets as fast


def _same(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


CHOICES = [("", "Any"), ("a", "Alpha & <b>"), ("b", 'Quote "b"'), ("c", "Gamma")]
GROUPED = [("Letters", [("a", "A"), ("b", "B")]), ("x", "X")]


@pytest.mark.parametrize(
    ("fast_widget", "django_widget", "value"),
    [
        (fast.Select(choices=CHOICES), forms.Select(choices=CHOICES), "b"),
        (fast.Select(choices=CHOICES), forms.Select(choices=CHOICES), None),
        (fast.Select(choices=GROUPED), forms.Select(choices=GROUPED), "a"),
        (fast.SelectMultiple(choices=CHOICES), forms.SelectMultiple(choices=CHOICES), ["a", "c"]),
        (fast.TextInput(attrs={"maxlength": 5}), forms.TextInput(attrs={"maxlength": 5}), '<"x">'),
        (fast.TextInput(), forms.TextInput(), None),
        (fast.NumberInput(), forms.NumberInput(), 7),
        (
            fast.DateInput(attrs={"required": True, "disabled": False}),
            forms.DateInput(attrs={"type": "date", "required": True, "disabled": False}),
            "2026-11-22",
        ),
    ],
)
def test_python_widgets_render_djangos_markup(fast_widget, django_widget, value):
    attrs = {"id": "id_f"}
    assert _same(fast_widget.render("f", value, attrs)) == _same(
        django_widget.render("f", value, attrs)
    )


def test_values_and_labels_are_escaped():
    html = fast.Select(choices=[('"><script>', "<script>x</script>")]).render("f", None)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_an_sla_countdown_is_soon_within_the_breaching_soon_window(time_machine):
    """One definition of "soon": the Breaching soon queue's window colours the
    countdowns too (it was an hour for the colour, four for the queue)."""
    from datetime import UTC, datetime, timedelta

    from tickets.queues import DUE_SOON_WINDOW
    from tickets.templatetags.humanize_counts import sla_due

    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    inside = sla_due(now + DUE_SOON_WINDOW - timedelta(minutes=1))
    outside = sla_due(now + DUE_SOON_WINDOW + timedelta(minutes=1))
    assert "sla-soon" in inside and "sla-ok" in outside
    assert f'data-soon="{int(DUE_SOON_WINDOW.total_seconds())}"' in inside

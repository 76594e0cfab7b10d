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
        (fast.HiddenInput(), forms.HiddenInput(), "123456"),
        (fast.CheckboxInput(), forms.CheckboxInput(), True),
        (fast.CheckboxInput(), forms.CheckboxInput(), False),
        (fast.Textarea(attrs={"rows": 5}), forms.Textarea(attrs={"rows": 5}), "a <b> & c"),
        (fast.Textarea(), forms.Textarea(), None),
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


# The markup the field tag replaced (templates/_field.html, rendered through an
# include): the tag must produce the same, whitespace aside.
_FIELD_TEMPLATE = """<div class="field{% if field.errors %} has-error{% endif %}">
  {% if field.field.widget.input_type == "checkbox" %}
    <label>{{ field }} {{ field.label }}</label>
  {% else %}
    <label for="{{ field.id_for_label }}">{{ field.label }}</label>
    {{ field }}
  {% endif %}
  {% for e in field.errors %}<p class="field-error" role="alert">{{ e }}</p>{% endfor %}
  {% if field.help_text %}<p class="help">{{ field.help_text }}</p>{% endif %}
</div>"""


def test_the_field_tag_renders_what_the_field_include_did():
    import re

    from django import forms
    from django.template import Context, Template

    from tickets.templatetags.form_fields import field

    class Sample(forms.Form):
        name = forms.CharField(help_text="Your <full> name")
        kind = forms.ChoiceField(choices=[("a", "A & B"), ("b", "B")])
        agree = forms.BooleanField(label="I agree")

    reference = Template(_FIELD_TEMPLATE)

    def squeeze(html):
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()

    for form in (Sample(), Sample(data={"kind": "zzz"})):
        form.is_valid()
        for bound in form:
            expected = reference.render(Context({"field": bound}))
            assert squeeze(field(bound)) == squeeze(expected), bound.name

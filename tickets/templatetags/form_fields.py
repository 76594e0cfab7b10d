"""{% field form.x %}: a form field with its label, errors and help, built in
Python. The same markup as templates/_field.html gave through an include,
which cost the ticket page (two dozen fields) several milliseconds of template
work on every view."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def field(bound: BoundField) -> SafeString:
    errors = format_html_join(
        "", '<p class="field-error" role="alert">{}</p>', ((e,) for e in bound.errors)
    )
    help_text = format_html('<p class="help">{}</p>', bound.help_text) if bound.help_text else ""
    if getattr(bound.field.widget, "input_type", None) == "checkbox":
        control = format_html("<label>{} {}</label>", bound.as_widget(), bound.label)
    else:
        control = format_html(
            '<label for="{}">{}</label>{}', bound.id_for_label, bound.label, bound.as_widget()
        )
    return format_html(
        '<div class="field{}">{}{}{}</div>',
        " has-error" if bound.errors else "",
        control,
        errors,
        help_text,
    )

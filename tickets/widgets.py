"""Form widgets that build their HTML in Python.

Django renders every widget, and every <option> of a select, through the
template engine: about 0.1 ms an option. The queue page shows its 14-field
filter form on every view, which made the form cost as much as the rest of the
page. These widgets produce the same markup as Django's own templates
(django/forms/widgets/{input,select,select_option,attrs}.html) directly.
"""

from typing import TYPE_CHECKING

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


def _safe_join(parts) -> SafeString:
    # Every part is the output of format_html / _attrs, escaped already.
    return mark_safe("".join(parts))  # noqa: S308


def _attrs(attrs: dict) -> SafeString:
    """The attrs.html template: `True` is a bare attribute, `False` omitted."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(format_html(" {}", name))
        elif value is not False and value is not None:
            parts.append(format_html(' {}="{}"', name, str(value)))
    return _safe_join(parts)


if TYPE_CHECKING:
    # The mixin is only ever combined with a Django widget, whose get_context
    # it calls; at runtime it stays a plain class.
    _WidgetBase = forms.Widget
else:
    _WidgetBase = object


class _PythonRendered(_WidgetBase):
    if TYPE_CHECKING:
        # Each concrete widget defines its markup.
        def html(self, w: dict) -> SafeString: ...

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        return self.html(self.get_context(name, value, attrs)["widget"])


class TextInput(_PythonRendered, forms.TextInput):
    def html(self, w: dict) -> SafeString:
        value = "" if w["value"] is None else format_html(' value="{}"', str(w["value"]))
        return format_html(
            '<input type="{}" name="{}"{}{}>', w["type"], w["name"], value, _attrs(w["attrs"])
        )


class NumberInput(TextInput):
    input_type = "number"


class HiddenInput(_PythonRendered, forms.HiddenInput):
    html = TextInput.html


class CheckboxInput(_PythonRendered, forms.CheckboxInput):
    # Django's checkbox puts `checked` into the attributes and has no value
    # for a plain boolean: the input markup as it is.
    html = TextInput.html


class Textarea(_PythonRendered, forms.Textarea):
    def html(self, w: dict) -> SafeString:
        # django/forms/widgets/textarea.html: a newline after the opening tag.
        value = format_html("{}", w["value"]) if w["value"] else ""
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>', w["name"], _attrs(w["attrs"]), value
        )


class DateInput(_PythonRendered, forms.DateInput):
    input_type = "date"
    html = TextInput.html


class _SelectHTML(_PythonRendered):
    def html(self, w: dict) -> SafeString:
        groups = []
        for group_name, group, _index in w["optgroups"]:
            options = _safe_join(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    str(o["value"]),
                    _attrs(o["attrs"]),
                    o["label"],
                )
                for o in group
            )
            if group_name:
                options = format_html('<optgroup label="{}">{}</optgroup>', group_name, options)
            groups.append(options)
        return format_html(
            '<select name="{}"{}>{}</select>', w["name"], _attrs(w["attrs"]), _safe_join(groups)
        )


class Select(_SelectHTML, forms.Select):
    pass


class SelectMultiple(_SelectHTML, forms.SelectMultiple):
    pass

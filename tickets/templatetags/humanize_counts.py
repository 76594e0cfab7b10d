from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def bounded(count: int, bound: int) -> str:
    """Show a bounded count: "1,000+" once it passes the bound."""
    if count > bound:
        return f"{bound:,}+"
    return f"{count:,}"


def _age(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


@register.filter
def ago(value: datetime | None) -> str:
    """A `<time>` element reading "3 h ago", with the exact local time as its
    title. Lists show one per row, so this is plain arithmetic instead of the
    `timesince` and `date` filters (about a tenth of their cost)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M %Z"),
        _age((timezone.now() - value).total_seconds()),
    )

from django import template

register = template.Library()


@register.filter
def bounded(count: int, bound: int) -> str:
    """Show a bounded count: "1,000+" once it passes the bound."""
    if count > bound:
        return f"{bound:,}+"
    return f"{count:,}"

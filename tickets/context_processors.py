from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """What the base layout's navigation shows, from the user's permissions."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {
        "nav": {
            "works_tickets": user.has_perm("tickets.work_tickets"),
            "sees_dashboards": user.has_perm("tickets.view_dashboards"),
            # The knowledge base's editor (staff) or its help centre (the rest).
            "edits_articles": user.has_perm("knowledge_base.edit_articles"),
            "admin": user.is_staff,
            "is_customer": user.role == "customer",
        }
    }

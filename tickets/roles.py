"""Roles are Django groups holding permissions; the code checks permissions.

`User.role` says which group a person belongs to (and drives navigation);
`user_set_role` in services keeps the two in step. Changing what a role may do
is editing ROLE_PERMISSIONS (or the group in the admin), never an `if role ==`.
"""

from django.contrib.auth.models import Group, Permission

from tickets.models import Role, role_group_name

# permission codenames are "<app_label>.<codename>"
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CUSTOMER: [],
    Role.AGENT: [
        "tickets.work_tickets",
        "tickets.view_ticket",
        "tickets.change_ticket",
        "tickets.add_ticket",
        # Agents write knowledge-base articles; a manager publishes them.
        "knowledge_base.edit_articles",
    ],
    Role.MANAGER: [
        "tickets.work_tickets",
        "tickets.view_all_tickets",
        "tickets.view_dashboards",
        "tickets.view_ticket",
        "tickets.change_ticket",
        "tickets.add_ticket",
        "tickets.view_organization",
        "tickets.view_user",
        "tickets.view_team",
        "tickets.change_team",
        "tickets.view_category",
        "tickets.change_category",
        "tickets.view_ticketevent",
        # Managers keep the agents' shift roster the staffing plan counts.
        *(f"tickets.{action}_agentshift" for action in ("view", "add", "change", "delete")),
        # The outbox, where failed mail shows (and is sent again).
        "tickets.view_outboundemail",
        # Managers run the SLAs: policies, business calendars (with their
        # opening hours and closed days) and escalation rules, in the admin.
        *(
            f"escalation.{action}_{model}"
            for model in (
                "slapolicy",
                "businesscalendar",
                "openingslot",
                "closeddate",
                "escalationrule",
            )
            for action in ("view", "add", "change", "delete")
        ),
        "escalation.view_escalation",
        # Managers review and publish articles, and keep the help centre's
        # categories and sections (also in the admin).
        "knowledge_base.edit_articles",
        "knowledge_base.approve_articles",
        *(
            f"knowledge_base.{action}_{model}"
            for model in ("category", "section", "article", "tag")
            for action in ("view", "add", "change", "delete")
        ),
        "knowledge_base.view_articlefeedback",
        "knowledge_base.view_searchterm",
    ],
    # Admins are superusers; the group exists so the role is visible in the admin.
    Role.ADMIN: [],
}


def sync_role_groups(**kwargs) -> None:
    """Create or update one group per role with exactly its permissions.
    Connected to post_migrate, so a fresh database has them after `migrate`."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:
                # Permissions of an app are created by its own post_migrate; the
                # next migrate run completes the set.
                continue
            perms.append(perm)
        group.permissions.set(perms)

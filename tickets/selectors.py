"""Reads that enforce access. Every ticket query in views, the API and exports
starts from `tickets_visible_to`; nothing else decides who sees what."""

from typing import cast

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from tickets.models import Role, Ticket, User, parse_ticket_key
from tickets.reference import attach_named_relations


def logged_in_user(request: HttpRequest) -> User:
    """The user of a request to a view behind @login_required."""
    # login_required lets only a logged-in user through, so request.user is a
    # User (django-stubs types it User | AnonymousUser).
    return cast(User, request.user)


def user_team_ids(user: User) -> list[int]:
    """The ids of the user's teams, read once per user object (a request's
    user is loaded afresh each request, so this never outlives one)."""
    if not hasattr(user, "_team_ids_cache"):
        user._team_ids_cache = list(user.teams.values_list("id", flat=True))
    return user._team_ids_cache


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    """The tickets `user` may see.

    - inactive or anonymous: none
    - `tickets.view_all_tickets` (managers, admins): every ticket
    - `tickets.work_tickets` (agents): their teams' tickets, tickets assigned to
      them, and untriaged tickets that have no team yet
    - customers: tickets they requested and, with `sees_organization_tickets`,
      every ticket of their organisation
    """
    qs = Ticket.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.has_perm("tickets.view_all_tickets"):
        return qs
    if user.has_perm("tickets.work_tickets"):
        team_ids = user_team_ids(user)
        return qs.filter(Q(team_id__in=team_ids) | Q(assignee_id=user.pk) | Q(team__isnull=True))
    if user.role == Role.CUSTOMER:
        if user.sees_organization_tickets and user.organization_id:
            return qs.filter(Q(organization_id=user.organization_id) | Q(requester_id=user.pk))
        return qs.filter(requester_id=user.pk)
    return qs.none()


def ticket_get_for_user(user: User, key: str) -> Ticket:
    """One ticket by its human key, or 404 — the same 404 whether the ticket does
    not exist or belongs to somebody else, so keys cannot be probed."""
    pk = parse_ticket_key(key)
    if pk is None:
        raise Http404("No such ticket")
    # Team, category and assignee names come from the cached lists (see
    # reference.attach_named_relations: joining them costs more to plan than
    # to run); any other field of theirs is loaded when first read.
    ticket = (
        tickets_visible_to(user).select_related("requester", "organization").filter(pk=pk).first()
    )
    if ticket is None:
        raise Http404("No such ticket")
    attach_named_relations([ticket])
    return ticket


def messages_visible_to(user: User, ticket: Ticket) -> QuerySet:
    """The conversation of a ticket the user can already see; customers never
    see internal notes."""
    qs = ticket.messages.select_related("author").prefetch_related("attachments")
    if not user.has_perm("tickets.work_tickets"):
        qs = qs.filter(is_internal=False)
    return qs

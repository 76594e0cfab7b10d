"""Who may see which dashboard figures.

Managers and admins (`tickets.view_dashboards`) see every ticket and every
agent. An agent (`tickets.work_tickets`) sees the totals of their own teams
and their own per-agent row, never a colleague's. Anyone else gets a 404, as
if the dashboard did not exist. The figures module applies this scope to every
read, so no template or serializer has to remember it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from tickets.models import Team, User


@dataclass(frozen=True)
class Viewer:
    """The person the figures are read for."""

    user_id: int
    sees_everyone: bool
    # The teams whose totals the viewer may see (every team for a manager).
    teams: tuple[Team, ...]

    @property
    def team_ids(self) -> tuple[int, ...]:
        return tuple(team.pk for team in self.teams)


def dashboard_viewer(user: User) -> Viewer:
    """The viewer for `user`; a customer, an inactive or anonymous user gets a
    404. One query (the teams)."""
    if not user.is_authenticated or not user.is_active:
        raise Http404("No such page")
    if user.has_perm("tickets.view_dashboards"):
        return Viewer(user.pk, sees_everyone=True, teams=tuple(Team.objects.order_by("name")))
    if user.has_perm("tickets.work_tickets"):
        return Viewer(user.pk, sees_everyone=False, teams=tuple(user.teams.order_by("name")))
    raise Http404("No such page")

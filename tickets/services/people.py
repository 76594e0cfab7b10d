"""People and customer accounts: users with their role, an organisation's
support tier."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from tickets.errors import DomainError
from tickets.lifecycle import OrganizationTierChanged, announce
from tickets.models import (
    Organization,
    Role,
    Skill,
    SupportTier,
    Team,
    User,
    role_flags,
    role_group_name,
)
from tickets.services.base import validate


def user_create(
    *,
    email: str,
    password: str | None = None,
    full_name: str = "",
    role: str = Role.CUSTOMER,
    organization: Organization | None = None,
    sees_organization_tickets: bool = False,
    tier: int | None = None,
    capacity: int = 0,
    skills: Iterable[Skill] = (),
    teams: Iterable[Team] = (),
    is_available: bool = True,
) -> User:
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    email = User.objects.normalize_email(email or "").strip().lower()
    user = User(
        email=email,
        full_name=(full_name or email.split("@")[0]).strip(),
        role=role,
        organization=organization,
        sees_organization_tickets=sees_organization_tickets,
        tier=tier,
        capacity=capacity,
        is_available=is_available,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    validate(user)
    with transaction.atomic():
        user.save()
        user_set_role(user=user, role=role)
        if skills:
            user.skills.set(skills)
        if teams:
            user.teams.set(teams)
    return user


def user_set_role(*, user: User, role: str) -> User:
    """Put the user in exactly the group of `role`, with the Django flags
    that follow from it (tickets.models.role_flags)."""
    if role not in Role.values:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    with transaction.atomic():
        role_groups = Group.objects.filter(name__startswith="role:")
        user.groups.remove(*role_groups)
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        user.groups.add(group)
        user.role = role
        for flag, value in role_flags(role).items():
            setattr(user, flag, value)
        user.save(update_fields=["role", "is_superuser", "is_staff"])
    # has_perm caches per instance; the role just changed.
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attr, None)
    return user


@transaction.atomic
def organization_set_tier(
    *, organization: Organization, support_tier: str, actor: User | None
) -> Organization:
    """Move a customer account to another support tier. Its open tickets'
    SLA clocks follow through the lifecycle hooks (the tier selects the
    policy)."""
    if support_tier not in SupportTier.values:
        raise DomainError(f"Unknown support tier {support_tier!r}.", field="support_tier")
    fresh = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    old = fresh.support_tier
    if old == support_tier:
        return fresh
    fresh.support_tier = support_tier
    fresh.save(update_fields=["support_tier"])
    organization.support_tier = support_tier
    announce(
        OrganizationTierChanged(
            organization=fresh, actor=actor, at=timezone.now(), old=old, new=support_tier
        )
    )
    return fresh

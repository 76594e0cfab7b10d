"""Cached permission sets never outlive a change of role or rights."""

from django.contrib.auth.models import Group, Permission

from tickets import services
from tickets.models import Role, User


def fresh(user):
    # A new instance, as the next request would load it.
    return User.objects.get(pk=user.pk)


def test_permissions_are_cached_across_requests(agent, django_assert_num_queries):
    assert fresh(agent).has_perm("tickets.work_tickets")  # fills the cache
    with django_assert_num_queries(1):  # loading the user; no permission queries
        assert fresh(agent).has_perm("tickets.work_tickets")


def test_a_role_change_takes_effect_at_once(agent):
    assert not fresh(agent).has_perm("tickets.view_all_tickets")
    services.user_set_role(user=fresh(agent), role=Role.MANAGER)
    assert fresh(agent).has_perm("tickets.view_all_tickets")
    services.user_set_role(user=fresh(agent), role=Role.AGENT)
    assert not fresh(agent).has_perm("tickets.view_all_tickets")


def test_group_and_user_permission_edits_take_effect_at_once(agent, customer):
    perm = Permission.objects.get(codename="view_dashboards")
    assert not fresh(customer).has_perm("tickets.view_dashboards")
    customer.user_permissions.add(perm)
    assert fresh(customer).has_perm("tickets.view_dashboards")
    customer.user_permissions.remove(perm)
    assert not fresh(customer).has_perm("tickets.view_dashboards")

    group = Group.objects.get(name__startswith="role:", user=agent)
    assert not fresh(agent).has_perm("tickets.view_dashboards")
    group.permissions.add(perm)
    assert fresh(agent).has_perm("tickets.view_dashboards")


def test_deactivation_and_superuser_removal_take_effect_at_once(manager):
    User.objects.filter(pk=manager.pk).update(capacity=0)
    services.user_set_role(user=fresh(manager), role=Role.ADMIN)
    assert fresh(manager).has_perm("tickets.delete_ticket")  # superuser: everything
    services.user_set_role(user=fresh(manager), role=Role.MANAGER)
    assert not fresh(manager).has_perm("tickets.delete_ticket")
    assert fresh(manager).has_perm("tickets.view_all_tickets")
    User.objects.filter(pk=manager.pk).update(is_active=False)
    assert not fresh(manager).has_perm("tickets.view_all_tickets")

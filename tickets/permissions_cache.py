"""An authentication backend whose permission sets live in the cache.

Django's ModelBackend reads a user's permissions with two queries (their own,
their groups') on the first `has_perm` of every request. Roles here are groups
that change a few times a year, and every page asks, so the set is cached per
user. Any change that could alter a permission set (group membership, a user's
or a group's permissions, a user, group or permission row) bumps one version
number, which every cached set is checked against; `is_active` is still read
from the user row of the request, so deactivating someone takes effect at once.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "perms:version"
CACHE_SECONDS = 600


def _user_key(user_id: int) -> str:
    return f"perms:user:{user_id}"


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            key = _user_key(user_obj.pk)
            found = cache.get_many([key, VERSION_KEY])
            version = found.get(VERSION_KEY, 0)
            cached = found.get(key)
            if cached is not None and cached[0] == version:
                user_obj._perm_cache = cached[1]
            else:
                perms = super().get_all_permissions(user_obj)
                cache.set(key, (version, perms), CACHE_SECONDS)
        return user_obj._perm_cache


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet
        cache.set(VERSION_KEY, 1, None)


def forget_permissions(**_signal_kwargs) -> None:
    """Invalidate every cached permission set, now and again once the current
    transaction commits (so a request in between cannot cache the old set)."""
    _bump()
    transaction.on_commit(_bump)


def forget_permissions_unless_login(update_fields=None, **_signal_kwargs) -> None:
    # A user row change can matter (is_superuser); logging in saves last_login only.
    if update_fields is None or set(update_fields) != {"last_login"}:
        forget_permissions()

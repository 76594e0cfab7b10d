from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Role groups need the permissions that post_migrate creates, so they
        # are synced after every app's migrate (tickets/roles.py): roles also
        # hold other apps' permissions (the SLA admin), created after ours.
        from django.db.models.signals import post_migrate

        from tickets.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, dispatch_uid="tickets.sync_role_groups")
        self._connect_reference_cache()
        self._connect_permissions_cache()

    def _connect_permissions_cache(self) -> None:
        from django.contrib.auth.models import Group, Permission
        from django.db.models import Model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from tickets.models import User
        from tickets.permissions_cache import forget_permissions, forget_permissions_unless_login

        for through in (
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(
                forget_permissions, sender=through, dispatch_uid=f"perms.{through.__name__}"
            )
        post_save.connect(
            forget_permissions_unless_login, sender=User, dispatch_uid="perms.save.User"
        )
        model: type[Model]
        for model in (Group, Permission):
            post_save.connect(
                forget_permissions, sender=model, dispatch_uid=f"perms.save.{model.__name__}"
            )
        for model in (User, Group, Permission):
            post_delete.connect(
                forget_permissions, sender=model, dispatch_uid=f"perms.delete.{model.__name__}"
            )

    def _connect_reference_cache(self) -> None:
        # The cached category / team / agent lists (tickets/reference.py)
        # follow every edit of those rows.
        from django.db.models.signals import post_delete, post_save

        from tickets.models import Category, Team, User
        from tickets.reference import forget_reference, forget_reference_unless_login

        for model in (Category, Team, User):
            uid = f"tickets.reference.{model.__name__}"
            post_save.connect(
                forget_reference_unless_login, sender=model, dispatch_uid=f"{uid}.save"
            )
            post_delete.connect(forget_reference, sender=model, dispatch_uid=f"{uid}.delete")

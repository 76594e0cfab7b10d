from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Role groups need the permissions that post_migrate creates, so they
        # are synced right after every migrate (tickets/roles.py).
        from django.db.models.signals import post_migrate

        from tickets.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="tickets.sync_role_groups")
        self._connect_reference_cache()

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

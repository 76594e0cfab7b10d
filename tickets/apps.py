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

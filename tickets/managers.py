from django.contrib.auth.base_user import BaseUserManager


class UserManager(BaseUserManager):
    """Users are created through tickets.services.user_create; these two entry
    points exist for Django's createsuperuser and the admin."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        from tickets.services import user_create

        return user_create(email=email, password=password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        from tickets.models import Role
        from tickets.services import user_create

        fields.setdefault("full_name", email.split("@")[0])
        return user_create(email=email, password=password, role=Role.ADMIN, **fields)

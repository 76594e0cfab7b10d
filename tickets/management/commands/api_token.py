"""python manage.py api_token EMAIL [--rotate]

Prints the user's REST API token (created on first use). --rotate replaces it:
the old token stops working at once. Only the key goes to stdout, so scripts
can capture it: TOKEN=$(python manage.py api_token carol@acme.example)
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from tickets.models import User


class Command(BaseCommand):
    help = "Print a user's REST API token (creating it if needed); --rotate replaces it."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The user's e-mail address.")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the user's token with a new one; the old one stops working.",
        )

    def handle(self, *args, email: str, rotate: bool, **options):
        # Addresses are stored lower-case (services.user_create).
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No user has the e-mail address {email}.")
        if not user.is_active:
            # TokenAuthentication refuses inactive users; a token would not work.
            raise CommandError(f"{user.email}'s account is disabled.")
        with transaction.atomic():
            if rotate:
                Token.objects.filter(user=user).delete()
            token, created = Token.objects.get_or_create(user=user)
        if rotate:
            self.stderr.write(f"New token for {user.email}; the previous one no longer works.")
        elif created:
            self.stderr.write(f"Created a token for {user.email}.")
        self.stdout.write(token.key)

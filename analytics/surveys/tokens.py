"""The signed survey links: the token names the invite (which ticket round or
which NPS period) and when it was signed, so nobody can answer for another
ticket by changing a number, and the link stops working after
HELPDESK_CSAT_LINK_DAYS. The rating itself is in the path, not signed: the
customer may choose any rating anyway."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

CSAT_SALT = "analytics.surveys.csat"
NPS_SALT = "analytics.surveys.nps"


class SurveyLinkError(Exception):
    """A survey link that cannot be used; `message` is shown to the visitor."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


def link_lifetime() -> timedelta:
    return timedelta(days=settings.HELPDESK_CSAT_LINK_DAYS)


def make_token(invite_id: int, *, salt: str) -> str:
    return signing.dumps(invite_id, salt=salt)


def read_token(token: str, *, salt: str) -> int:
    """The invite id of a genuine, unexpired token."""
    try:
        value = signing.loads(token, salt=salt, max_age=link_lifetime())
    except signing.SignatureExpired as error:
        raise SurveyLinkError(
            "This survey link has expired. Thank you for wanting to tell us.", expired=True
        ) from error
    except signing.BadSignature as error:
        raise SurveyLinkError(
            "This survey link is not valid. Please use the link from the e-mail as it is."
        ) from error
    if not isinstance(value, int) or isinstance(value, bool):
        raise SurveyLinkError("This survey link is not valid.")
    return value

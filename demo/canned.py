"""Canned responses the demo teams start with (tickets/canned.py explains the
placeholders). Two link the help centre's articles (demo/help_centre.py):
`[article:SLUG]` becomes the article's full address when they are created."""

import re

from django.conf import settings
from django.urls import reverse

from tickets.models import CannedResponse, Team

_ARTICLE_LINK = re.compile(r"\[article:([\w-]+)\]")

# (team slug, title, body)
CANNED: tuple[tuple[str, str, str], ...] = (
    (
        "frontline",
        "Password reset steps",
        "Hi {requester_first_name},\n\nThanks for reaching out about {ticket_key}. Please use "
        '"Forgot your password?" on the log-in page; the link in the e-mail is valid for '
        "three hours. The steps, and what to do when the e-mail does not arrive: "
        "[article:reset-your-password]\n\nStill stuck after that? Reply here and we will "
        "look at it together.\n\nBest,\n{agent_first_name}",
    ),
    (
        "frontline",
        "Account verification checklist",
        "Hi {requester_first_name},\n\nTo verify your account we need: the e-mail address you "
        "signed up with, the name of your organisation ({organization}) and the last four "
        "digits of the card on file. Reply to this message with them and we will finish the "
        "verification. How to confirm your e-mail address yourself, step by step: "
        "[article:confirming-your-email-address]\n\n{agent_first_name}",
    ),
    (
        "billing-data",
        "Invoice copy",
        "Hi {requester_first_name},\n\nYou can download every invoice from Settings → Billing → "
        "Invoices. I have also attached the one you asked about in {ticket_key}.\n\n"
        "{agent_first_name}",
    ),
    (
        "billing-data",
        "Import file format",
        "Hi {requester_first_name},\n\nImports accept UTF-8 CSV with a header row. Dates must "
        "be YYYY-MM-DD and amounts use a dot as decimal separator. Could you send us the first "
        "rows of the file that fails?\n\n{agent_first_name}",
    ),
    (
        "technical",
        "Escalated to engineering",
        "Hi {requester_first_name},\n\nI have passed {ticket_key} to our engineering team with "
        "everything you sent. We will update you as soon as they have a finding.\n\n"
        "{agent_first_name}",
    ),
    (
        "technical",
        "Need logs",
        "Hi {requester_first_name},\n\nTo dig into this we need the browser console log and "
        "the time (with time zone) when the problem last happened. Thanks!\n\n"
        "{agent_first_name}",
    ),
)


def _with_article_links(body: str) -> str:
    site = settings.HELPDESK_SITE_URL.rstrip("/")
    return _ARTICLE_LINK.sub(
        lambda m: site + reverse("kb:article", kwargs={"slug": m.group(1)}), body
    )


def create_canned_responses() -> None:
    teams = {team.slug: team for team in Team.objects.filter(slug__in={c[0] for c in CANNED})}
    for slug, title, body in CANNED:
        if slug in teams:
            CannedResponse.objects.update_or_create(
                team=teams[slug], title=title, defaults={"body": _with_article_links(body)}
            )

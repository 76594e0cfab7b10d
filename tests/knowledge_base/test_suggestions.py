"""The knowledge base as the portal's suggestion provider: what each reader
is suggested, the deflection a suggestion records, and the articles a
submitted request keeps (tickets.models.ShownArticle)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from knowledge_base import services
from knowledge_base.models import Visibility
from knowledge_base.suggestions import article_id_of, article_ref, provider
from tickets.models import Deflection, ShownArticle, Ticket

PROVIDER = "knowledge_base.suggestions.provider"


@pytest.fixture
def articles(make_article):
    return {
        Visibility.PUBLIC: make_article(
            "Reset your password",
            "Open the sign-in page and choose **Forgot password**. A reset link arrives by e-mail.",
        ),
        Visibility.CUSTOMERS: make_article(
            "Password rules for customer accounts",
            "A password needs twelve characters.",
            visibility=Visibility.CUSTOMERS,
        ),
        Visibility.INTERNAL: make_article(
            "Unlocking a password after the lockout (staff)",
            "Run the unlock tool from the admin; secret-internal-step.",
            visibility=Visibility.INTERNAL,
        ),
    }


def titles(found):
    return {s.title for s in found}


def test_each_reader_is_suggested_only_what_they_may_read(articles, customer, agent):
    text = "I forgot my password and cannot sign in"
    public, for_customers, internal = (
        articles[Visibility.PUBLIC],
        articles[Visibility.CUSTOMERS],
        articles[Visibility.INTERNAL],
    )
    assert titles(provider(text, AnonymousUser())) == {public.title}
    assert titles(provider(text, customer)) == {public.title, for_customers.title}
    assert titles(provider(text, agent)) == {public.title, for_customers.title, internal.title}


def test_a_suggestion_names_links_and_quotes_its_article(articles, customer):
    public = articles[Visibility.PUBLIC]
    [found] = [s for s in provider("forgot password", customer) if s.title == public.title]
    assert found.ref == article_ref(public.pk) == f"kb-{public.pk}"
    assert article_id_of(found.ref) == public.pk
    assert found.url == reverse("kb:article", args=[public.slug])
    assert found.url == f"/help/articles/{public.slug}/"
    # Plain text: no highlighting, no Markdown, no entities.
    assert "password" in found.snippet.lower()
    assert "<" not in found.snippet and "**" not in found.snippet and "&" not in found.snippet


def test_drafts_and_archived_articles_are_never_suggested(make_article, manager, customer):
    make_article("Password draft", "About the password.", publish=False)
    archived = make_article("Old password page", "About the password.")
    services.article_archive(article=archived, actor=manager)
    assert provider("password", customer) == []


def test_ref_of_another_provider_is_not_an_article():
    assert article_id_of("faq-3") is None and article_id_of("kb-") is None
    assert article_id_of("kb-3x") is None


# --- through the portal ------------------------------------------------------------------


def suggestions_fragment(client, subject, description="", shown=""):
    response = client.get(
        reverse("tickets:suggestions"),
        {"subject": subject, "description": description, "shown": shown},
    )
    assert response.status_code == 200
    return response.content.decode()


def shown_token(fragment):
    return re.search(r'id="shown-articles"[^>]* value="([^"]*)"', fragment).group(1)


def test_portal_never_shows_a_customer_an_internal_article(client, articles, customer, settings):
    settings.HELPDESK_SUGGESTION_PROVIDERS = [PROVIDER]
    client.force_login(customer)
    fragment = suggestions_fragment(client, "password lockout", "I cannot sign in: unlock me")
    assert "Reset your password" in fragment
    internal = articles[Visibility.INTERNAL]
    assert internal.title not in fragment and "secret-internal-step" not in fragment
    assert f"/help/articles/{internal.slug}/" not in fragment


def test_this_solved_my_problem_records_a_deflection(client, articles, customer, settings):
    settings.HELPDESK_SUGGESTION_PROVIDERS = [PROVIDER]
    client.force_login(customer)
    fragment = suggestions_fragment(client, "forgot my password")
    public = articles[Visibility.PUBLIC]
    # The button of the public article's suggestion (signed for this customer).
    item = fragment[fragment.index(public.title) :]
    token = re.search(r'name="suggestion" value="([^"]+)"', item).group(1)
    response = client.post(
        reverse("tickets:deflected"),
        {"query": "forgot my password", "suggestion": token},
        follow=True,
    )
    assert b"No request was opened" in response.content
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_ref, deflection.article_title) == (
        customer,
        f"kb-{public.pk}",
        public.title,
    )
    assert deflection.query == "forgot my password"
    assert not Ticket.objects.exists()


def test_a_deflection_cannot_name_an_article_it_was_not_shown(client, articles, customer, settings):
    settings.HELPDESK_SUGGESTION_PROVIDERS = [PROVIDER]
    client.force_login(customer)
    internal = articles[Visibility.INTERNAL]
    response = client.post(
        reverse("tickets:deflected"),
        {"query": "x", "suggestion": f"kb-{internal.pk}", "article_ref": f"kb-{internal.pk}"},
        follow=True,
    )
    assert b"That suggestion has expired" in response.content
    assert not Deflection.objects.exists()


def test_a_submitted_request_keeps_the_articles_it_was_shown(client, articles, customer, settings):
    settings.HELPDESK_SUGGESTION_PROVIDERS = [PROVIDER]
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]
    client.force_login(customer)
    token = shown_token(suggestions_fragment(client, "forgot password"))
    response = client.post(
        reverse("tickets:new"),
        {"subject": "forgot password", "description": "The reset link never came.", "shown": token},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    kept = list(ShownArticle.objects.filter(ticket=ticket).order_by("position", "article_ref"))
    refs = {a.article_ref for a in kept}
    assert f"kb-{articles[Visibility.PUBLIC].pk}" in refs
    assert f"kb-{articles[Visibility.INTERNAL].pk}" not in refs
    assert kept[0].position == 1 and all(a.shown_at is not None for a in kept)


def refuse(intakes):
    from tickets.errors import DomainError

    raise DomainError("Intake refused the request.")


def test_a_failed_request_keeps_no_shown_articles(client, articles, customer, settings):
    settings.HELPDESK_SUGGESTION_PROVIDERS = [PROVIDER]
    settings.HELPDESK_INTAKE_STEPS = [
        "tickets.routing.route_step",
        "tests.knowledge_base.test_suggestions.refuse",
    ]
    client.force_login(customer)
    token = shown_token(suggestions_fragment(client, "forgot password"))
    response = client.post(
        reverse("tickets:new"),
        {"subject": "forgot password", "description": "Still stuck.", "shown": token},
    )
    assert response.status_code == 400
    assert b"Intake refused the request." in response.content
    assert not Ticket.objects.exists()
    assert not ShownArticle.objects.exists()


# --- a deflection in the help centre itself ----------------------------------------------


def test_a_customer_who_marks_an_article_helpful_is_a_deflection(client, articles, customer):
    public = articles[Visibility.PUBLIC]
    url = reverse("kb:feedback", args=[public.slug])
    client.force_login(customer)
    client.post(url, {"helpful": "yes"})
    client.post(url, {"helpful": "yes", "comment": "The reset link worked."})
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_ref, deflection.article_title) == (
        customer,
        f"kb-{public.pk}",
        public.title,
    )
    assert deflection.query == ""  # no help-centre search before it
    # A later "no" changes the article's counts, not the deflection recorded.
    client.post(url, {"helpful": "no"})
    assert Deflection.objects.count() == 1
    public.refresh_from_db()
    assert (public.helpful_count, public.unhelpful_count) == (0, 1)


def test_staff_anonymous_and_unhelpful_answers_are_no_deflection(client, articles, customer, agent):
    url = reverse("kb:feedback", args=[articles[Visibility.PUBLIC].slug])
    client.post(url, {"helpful": "yes"})  # anonymous
    client.force_login(agent)
    client.post(url, {"helpful": "yes"})
    client.force_login(customer)
    client.post(url, {"helpful": "no"})
    assert not Deflection.objects.exists()
    articles[Visibility.PUBLIC].refresh_from_db()
    assert articles[Visibility.PUBLIC].helpful_count == 2


def test_a_deflection_in_the_help_centre_keeps_the_customers_last_search(
    client, articles, customer
):
    public = articles[Visibility.PUBLIC]
    client.force_login(customer)
    client.get(reverse("kb:search"), {"q": "forgot   my password"})
    client.get(reverse("kb:article", args=[public.slug]))
    client.post(reverse("kb:feedback", args=[public.slug]), {"helpful": "yes"})
    assert Deflection.objects.get().query == "forgot my password"

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_ticket
from tickets import queues, services, views
from tickets.models import Attachment, Status, Ticket


def login(client, user, password):
    response = client.post(reverse("login"), {"username": user.email, "password": password})
    assert response.status_code == 302, response.content
    return response


# --- auth -------------------------------------------------------------------


def test_login_by_email_lands_on_tickets(client, customer, password):
    response = login(client, customer, password)
    assert response.url == reverse("tickets:home")
    page = client.get(reverse("tickets:list"))
    assert page.status_code == 200
    assert b"My requests" in page.content


def test_wrong_password_shows_error(client, customer):
    response = client.post(reverse("login"), {"username": customer.email, "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content


def test_failed_logins_are_rate_limited(client, customer, password, settings):
    settings.LOGIN_RATE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": customer.email, "password": "nope"})
    # even the right password is refused while the limit holds
    response = client.post(reverse("login"), {"username": customer.email, "password": password})
    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content


def test_logout_requires_post(client, customer, password):
    login(client, customer, password)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("tickets:list")).status_code == 302


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("tickets:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_password_reset_flow(client, customer):
    response = client.post(reverse("password_reset"), {"email": customer.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"},
    )
    assert done.status_code == 302
    login(client, customer, "a-brand-new-pass-42")


def test_password_reset_for_unknown_address_reveals_nothing(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []


# --- landing list -------------------------------------------------------------


def test_customer_list_runs_constant_queries(
    client, customer, django_assert_num_queries, warm_caches
):
    client.force_login(customer)
    make_ticket(requester=customer, subject="first")
    warm_caches(customer)
    # user, the page of tickets (session, permissions, names: cached)
    with django_assert_num_queries(2):
        small = client.get(reverse("tickets:list"))
    for i in range(30):
        make_ticket(requester=customer, subject=f"u{i}")
    with django_assert_num_queries(2):
        large = client.get(reverse("tickets:list"))
    assert small.status_code == large.status_code == 200
    assert large.content.count(b'class="key"') == views.PAGE_SIZE


def test_agent_queue_runs_constant_queries(
    client, agent, customer, access_team, django_assert_num_queries, warm_caches
):
    client.force_login(agent)
    for i in range(3):
        services.ticket_assign(
            ticket=make_ticket(requester=customer, subject=f"t{i}", team=access_team),
            assignee=agent,
            actor=agent,
        )
    warm_caches(agent)
    # user, teams (access helper and queues share it), the page, saved views,
    # my load (session, permissions and select lists come from the cache)...
    warm = 5
    # ...plus one bounded count per queue when the counts are not cached.
    cold = warm + len(queues.QUEUES)
    with django_assert_num_queries(cold):
        small = client.get(reverse("tickets:list"), {"queue": "mine"})
    for i in range(30):
        services.ticket_assign(
            ticket=make_ticket(requester=customer, subject=f"u{i}", team=access_team),
            assignee=agent,
            actor=agent,
        )
    with django_assert_num_queries(warm):
        large = client.get(reverse("tickets:list"), {"queue": "mine", "status": ["new"]})
    queues.forget_queue_counts(agent.pk)
    with django_assert_num_queries(cold):
        client.get(reverse("tickets:list"), {"queue": "mine", "status": ["new"]})
    assert small.status_code == large.status_code == 200
    assert large.content.count(b'class="key"') == views.PAGE_SIZE


def test_queue_counts_are_cached_until_the_users_own_write(client, agent, customer, access_team):
    client.force_login(agent)
    ticket = make_ticket(requester=customer, subject="one", team=access_team)

    def count(slug):
        response = client.get(reverse("tickets:list"))
        return dict((q.slug, n) for q, n in response.context["queue_counts"])[slug]

    assert count("unassigned") == 1
    # Someone else's change shows once the short-lived cache entry expires...
    make_ticket(requester=customer, subject="two", team=access_team)
    assert count("unassigned") == 1
    # ...but the agent's own write (any successful POST) refreshes them at once.
    response = client.post(reverse("tickets:assign", args=[ticket.key]), {"assignee": agent.pk})
    assert response.status_code == 302
    assert count("unassigned") == 1  # two unassigned, minus the one just taken
    assert count("mine") == 1


def test_customer_list_paginates_by_keyset(client, customer, access_team, monkeypatch):
    monkeypatch.setattr("tickets.views.PAGE_SIZE", 5)
    client.force_login(customer)
    made = [make_ticket(requester=customer, subject=f"t{i}", team=access_team) for i in range(7)]
    first = client.get(reverse("tickets:list"))
    assert first.context["next_before"] == made[2].pk
    second = client.get(reverse("tickets:list"), {"before": first.context["next_before"]})
    assert [t.pk for t in second.context["tickets"]] == [made[1].pk, made[0].pk]
    assert second.context["next_before"] is None


def test_customer_list_filters_by_status(client, agent, customer, access_team):
    client.force_login(customer)
    open_ticket = make_ticket(requester=customer, team=access_team)
    solved = make_ticket(requester=customer, team=access_team)
    services.ticket_change_status(ticket=solved, status=Status.SOLVED, actor=agent)
    default = {t.pk for t in client.get(reverse("tickets:list")).context["tickets"]}
    assert default == {open_ticket.pk}
    only_solved = client.get(reverse("tickets:list"), {"status": "solved"})
    assert {t.pk for t in only_solved.context["tickets"]} == {solved.pk}


def test_list_never_shows_other_organisations(client, customer, other_customer):
    mine = make_ticket(requester=customer, subject="Mine")
    theirs = make_ticket(requester=other_customer, subject="Theirs secret")
    client.force_login(customer)
    response = client.get(reverse("tickets:list"))
    assert mine.key.encode() in response.content
    assert b"Theirs secret" not in response.content
    assert theirs.key.encode() not in response.content


# --- ticket page --------------------------------------------------------------


def test_other_customer_and_other_team_get_404(
    client, customer, other_customer, other_agent, access_team
):
    ticket = make_ticket(requester=customer, team=access_team)
    for intruder in (other_customer, other_agent):
        client.force_login(intruder)
        for name in ("tickets:detail",):
            assert client.get(reverse(name, args=[ticket.key])).status_code == 404
        for name in ("tickets:reply", "tickets:status", "tickets:assign"):
            assert client.post(reverse(name, args=[ticket.key]), {"body": "x"}).status_code == 404
    assert ticket.messages.count() == 1


def test_customer_cannot_assign_gets_403(client, customer, agent):
    ticket = make_ticket(requester=customer)
    client.force_login(customer)
    response = client.post(reverse("tickets:assign", args=[ticket.key]), {"assignee": agent.pk})
    assert response.status_code == 403


def test_agent_reply_note_status_assign_through_forms(client, agent, customer, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    client.force_login(agent)
    url = ticket.get_absolute_url()
    page = client.get(url)
    assert page.status_code == 200 and b"Internal note" in page.content
    client.post(reverse("tickets:reply", args=[ticket.key]), {"body": "Public answer"})
    client.post(
        reverse("tickets:reply", args=[ticket.key]), {"body": "Only for us", "is_internal": "on"}
    )
    client.post(reverse("tickets:assign", args=[ticket.key]), {"assignee": agent.pk})
    client.post(reverse("tickets:status", args=[ticket.key]), {"status": "pending"})
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.assignee == agent
    assert list(ticket.messages.values_list("is_internal", flat=True)) == [False, False, True]
    # the customer sees the public answer, not the note
    client.force_login(customer)
    customer_page = client.get(url)
    assert b"Public answer" in customer_page.content
    assert b"Only for us" not in customer_page.content


def test_bad_reply_shows_error_and_writes_nothing(client, agent, customer, access_team):
    ticket = make_ticket(requester=customer, team=access_team)
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.key]), {"body": ""})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    bad = client.post(reverse("tickets:status", args=[ticket.key]), {"status": "closed"})
    assert bad.status_code == 400
    assert b"cannot become closed" in bad.content
    assert ticket.messages.count() == 1


def test_customer_submits_ticket_with_attachment(client, customer):
    client.force_login(customer)
    upload = SimpleUploadedFile("error.txt", b"stack trace", content_type="text/plain")
    response = client.post(
        reverse("tickets:new"),
        {
            "subject": "Export fails",
            "description": "The CSV export stops at 50%.",
            "attachments": [upload],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == ticket.get_absolute_url()
    assert ticket.channel == "portal"
    attachment = Attachment.objects.get()
    download = client.get(reverse("tickets:attachment", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"stack trace"


def test_new_ticket_form_shows_errors(client, customer):
    client.force_login(customer)
    response = client.post(reverse("tickets:new"), {"subject": "", "description": ""})
    assert response.status_code == 400
    assert response.content.count(b"This field is required") == 2
    assert Ticket.objects.count() == 0


def test_attachment_hidden_from_other_organisation(client, customer, other_customer):
    upload = SimpleUploadedFile("a.txt", b"private", content_type="text/plain")
    make_ticket(requester=customer, attachments=[upload])
    client.force_login(other_customer)
    attachment = Attachment.objects.get()
    assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 404


@pytest.mark.parametrize("key", ["HD-0", "nonsense", "HD-99999999"])
def test_unknown_keys_are_404(client, agent, key):
    client.force_login(agent)
    assert client.get(f"/tickets/{key}/").status_code == 404


def test_admin_usable_by_admin(client, db):
    from tests.factories import make_user
    from tickets.models import Role

    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    for url in (
        "/admin/",
        "/admin/tickets/ticket/",
        "/admin/tickets/user/",
        "/admin/tickets/organization/",
        "/admin/tickets/ticketevent/",
        "/admin/tickets/keywordrule/",
        "/admin/tickets/keywordrule/add/",
        "/admin/tickets/mailbox/",
        "/admin/tickets/classifiermodel/",
        "/admin/tickets/inboundemail/",
        "/admin/tickets/cannedresponse/",
        "/admin/tickets/deflection/",
        "/admin/tickets/category/",
    ):
        assert client.get(url).status_code == 200, url


def test_admin_ticket_edit_goes_through_services(client, customer, agent, db):
    from tests.factories import make_user
    from tickets.models import Role

    admin = make_user(Role.ADMIN)
    ticket = make_ticket(requester=customer)
    client.force_login(admin)
    url = f"/admin/tickets/ticket/{ticket.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(
        {
            "subject": ticket.subject,
            "status": "open",
            "priority": "high",
            "tier": 1,
            "assignee": agent.pk,
            "updated_at_0": "2026-01-01",
            "updated_at_1": "00:00:00",
        }
    )
    for prefix in ("messages", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("open", "high", agent)
    assert {"ticket.priority_changed", "ticket.assigned", "ticket.status_changed"} <= set(
        ticket.events.values_list("action", flat=True)
    )


def test_agent_opens_ticket_on_behalf_of_customer(client, agent, customer, settings):
    settings.HELPDESK_INTAKE_STEPS = ["tickets.routing.route_step"]
    client.force_login(agent)
    response = client.post(
        reverse("tickets:new"),
        {
            "requester": customer.email,
            "subject": "Called about invoices",
            "description": "Customer phoned: invoice PDF is blank.",
            "priority": "high",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (ticket.requester, ticket.channel, ticket.priority) == (customer, "agent", "high")
    created = ticket.events.get(action="ticket.created")
    assert created.actor == agent


def test_agent_on_behalf_needs_a_known_customer(client, agent, other_agent):
    client.force_login(agent)
    for email in ("nobody@example.test", other_agent.email):
        response = client.post(
            reverse("tickets:new"), {"requester": email, "subject": "x", "description": "y"}
        )
        assert response.status_code == 400
        assert b"No active customer has this e-mail address." in response.content
    assert Ticket.objects.count() == 0


def test_portal_suggests_articles_and_records_deflection(client, customer, settings):
    from tickets.models import Deflection

    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    client.force_login(customer)
    fragment = client.get(
        reverse("tickets:suggestions"), {"subject": "forgot password", "description": ""}
    )
    assert b"How to reset your password" in fragment.content
    assert b"This solved my problem" in fragment.content
    token = re.search(rb'name="suggestion" value="([^"]+)"', fragment.content).group(1).decode()
    response = client.post(
        reverse("tickets:deflected"),
        {"query": "forgot password", "suggestion": token},
        follow=True,
    )
    assert b"No request was opened" in response.content
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_ref) == (customer, "kb-1")
    assert Ticket.objects.count() == 0


def test_no_provider_no_suggestions(client, customer, settings):
    settings.HELPDESK_SUGGESTION_PROVIDERS = []
    client.force_login(customer)
    fragment = client.get(reverse("tickets:suggestions"), {"subject": "forgot password"})
    assert fragment.status_code == 200 and b"<section" not in fragment.content


def test_select_lists_follow_edits_at_once(client, agent, manager, customer, access_team):
    from tickets.models import Category

    make_ticket(requester=customer, subject="listed", team=access_team)  # shows the bulk bar
    client.force_login(agent)
    client.get(reverse("tickets:list"))  # fills the cached lists
    Category.objects.create(name="Brand new category", slug="brand-new")
    manager.full_name = "Maggie Renamed"
    manager.save()
    page = client.get(reverse("tickets:list"), {"queue": "unassigned"}).content.decode()
    assert "Brand new category" in page
    assert "Maggie Renamed" in page


# --- what the portal showed, kept with the request ---------------------------


def _shown_token(client, **typed):
    fragment = client.get(reverse("tickets:suggestions"), typed)
    assert fragment.status_code == 200
    return re.search(rb'name="shown" id="shown-articles"[^>]* value="([^"]*)"', fragment.content)


def test_submitted_request_keeps_the_articles_it_was_shown(client, customer, settings):
    from tickets.models import ShownArticle

    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    client.force_login(customer)
    first = _shown_token(client, subject="forgot password", description="")
    # The form sends its record back; the next answer adds what it shows now.
    second = client.get(
        reverse("tickets:suggestions"),
        {"subject": "verifying account", "description": "", "shown": first.group(1).decode()},
    )
    token = re.search(rb'id="shown-articles"[^>]* value="([^"]*)"', second.content).group(1)
    response = client.post(
        reverse("tickets:new"),
        {"subject": "Still locked out", "description": "Tried it.", "shown": token.decode()},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    shown = list(ShownArticle.objects.filter(ticket=ticket).values_list("article_ref", "position"))
    assert shown == [("kb-1", 1), ("kb-2", 1)]


def test_same_articles_answer_no_content(client, customer, settings):
    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    client.force_login(customer)
    token = _shown_token(client, subject="forgot password").group(1).decode()
    again = client.get(
        reverse("tickets:suggestions"), {"subject": "forgot my password", "shown": token}
    )
    assert again.status_code == 204


def test_forged_or_foreign_shown_record_is_ignored(client, customer, other_customer, settings):
    from tickets.models import ShownArticle

    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    client.force_login(other_customer)
    foreign = _shown_token(client, subject="forgot password").group(1).decode()
    client.force_login(customer)
    for shown in (foreign, foreign[:-2] + "xx", "kb-1"):
        response = client.post(
            reverse("tickets:new"), {"subject": "Locked out", "description": "x", "shown": shown}
        )
        assert response.status_code == 302
    assert Ticket.objects.count() == 3
    assert not ShownArticle.objects.exists()


def test_failed_intake_keeps_no_shown_articles(client, customer, settings):
    from tickets.models import ShownArticle

    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    settings.HELPDESK_INTAKE_STEPS = ["tests.tickets.test_views.refusing_step"]
    client.force_login(customer)
    token = _shown_token(client, subject="forgot password").group(1).decode()
    response = client.post(
        reverse("tickets:new"), {"subject": "Locked out", "description": "x", "shown": token}
    )
    assert response.status_code == 400
    # The form keeps its record for the next try.
    assert token.encode() in response.content
    assert not Ticket.objects.exists() and not ShownArticle.objects.exists()


def refusing_step(intakes):
    from tickets.errors import DomainError

    raise DomainError("Intake refused it.")


def test_deflection_needs_a_suggestion_signed_for_this_customer(
    client, customer, other_customer, settings
):
    from tickets.models import Deflection

    settings.HELPDESK_SUGGESTION_PROVIDERS = ["tests.tickets.suggestion_provider.provider"]
    client.force_login(other_customer)
    fragment = client.get(reverse("tickets:suggestions"), {"subject": "forgot password"})
    foreign = re.search(rb'name="suggestion" value="([^"]+)"', fragment.content).group(1).decode()
    client.force_login(customer)
    for token in (foreign, "kb-1", ""):
        response = client.post(
            reverse("tickets:deflected"), {"query": "x", "suggestion": token}, follow=True
        )
        assert b"That suggestion has expired" in response.content
    assert not Deflection.objects.exists()


def test_addresses_in_messages_are_links_and_markup_stays_text(client, customer):
    """An article an agent links in a reply ("Title: https://...") is a link
    the customer can follow; anything else in a message stays text."""
    ticket = make_ticket(
        requester=customer,
        description="See https://help.example/help/articles/reset/ <script>alert(1)</script>",
    )
    client.force_login(customer)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert '<a href="https://help.example/help/articles/reset/" rel="nofollow">' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

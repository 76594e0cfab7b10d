"""Survey pages: answering by the e-mail's signed links (no login), on the
portal (logged in), and the managers' follow-up list.

Why a rating link does not write on GET: mail scanners (Outlook Safe Links,
corporate gateways) open every link of a mail, often all five, before the
customer sees it, and a GET that recorded the rating would record theirs. The
link shows the rating pre-selected in a POST form that static/analytics/
survey.js submits at once (CSP forbids inline scripts), so a person still
rates with one click, a scanner that only fetches records nothing, and
without JavaScript one button press sends it. The POST is idempotent."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from analytics.models import CSATResponse, NPSInvite, NPSResponse, SurveyInvite
from analytics.surveys import selectors, services
from analytics.surveys.forms import CSATForm, NPSForm
from analytics.surveys.tokens import CSAT_SALT, NPS_SALT, SurveyLinkError, read_token
from tickets import selectors as ticket_selectors
from tickets.errors import DomainError
from tickets.models import User
from tickets.ticket_page import staff_ticket


def _link_error(request: HttpRequest, error: SurveyLinkError) -> HttpResponse:
    return render(
        request,
        "analytics/survey_error.html",
        {"message": error.message},
        status=410 if error.expired else 400,
    )


def _csat_invite(token: str) -> SurveyInvite:
    invite = (
        SurveyInvite.objects.select_related("ticket", "ticket__requester")
        .filter(pk=read_token(token, salt=CSAT_SALT))
        .first()
    )
    if invite is None or invite.state == SurveyInvite.State.CANCELLED:
        raise SurveyLinkError("This survey is no longer open: the request was reopened.")
    return invite


def _nps_invite(token: str) -> NPSInvite:
    invite = NPSInvite.objects.filter(pk=read_token(token, salt=NPS_SALT)).first()
    if invite is None:
        raise SurveyLinkError("This survey link is not valid.")
    return invite


def _csat_form_page(
    request: HttpRequest,
    invite: SurveyInvite,
    *,
    action: str,
    source: str,
    customer: User,
) -> HttpResponse:
    """GET: the form with the answer so far; POST: record it and come back."""
    response = CSATResponse.objects.filter(ticket_id=invite.ticket_id, round=invite.round).first()
    status = 200
    if request.method == "POST":
        form = CSATForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.csat_answer(
                    invite=invite,
                    customer=customer,
                    rating=data["rating"],
                    # The one-click form carries the rating only: keep the rest.
                    comment=data["comment"] if "comment" in request.POST else None,
                    effort=data["effort"],
                    source=source,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return redirect(f"{action}?saved=1")
        status = 400
    else:
        initial = (
            {"rating": response.rating, "effort": response.effort, "comment": response.comment}
            if response
            else {}
        )
        form = CSATForm(initial=initial)
    return render(
        request,
        "analytics/csat_form.html",
        {
            "form": form,
            "ticket": invite.ticket,
            "response": response,
            "action": action,
            "saved": request.GET.get("saved") == "1" and response is not None,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def csat_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invite = _csat_invite(token)
    except SurveyLinkError as error:
        return _link_error(request, error)
    return _csat_form_page(
        request,
        invite,
        action=reverse("surveys:csat", kwargs={"token": token}),
        source=CSATResponse.Source.EMAIL,
        customer=invite.ticket.requester,
    )


@require_http_methods(["GET"])
def csat_rate(request: HttpRequest, token: str, rating: int) -> HttpResponse:
    """The e-mail's one-click link: confirm page submitted by survey.js."""
    try:
        invite = _csat_invite(token)
    except SurveyLinkError as error:
        return _link_error(request, error)
    if not 1 <= rating <= 5:
        return _link_error(request, SurveyLinkError("Ratings go from 1 to 5."))
    return render(
        request,
        "analytics/survey_confirm.html",
        {
            "action": reverse("surveys:csat", kwargs={"token": token}),
            "field": "rating",
            "value": rating,
            "label": f"{rating} out of 5",
            "about": f"{invite.ticket.key} {invite.ticket.subject}",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def csat_portal(request: HttpRequest, key: str) -> HttpResponse:
    """The same survey for the requester on the portal, logged in: 404 for
    anybody else and for tickets with no open survey round."""
    user = ticket_selectors.logged_in_user(request)
    ticket = ticket_selectors.ticket_get_for_user(user, key)
    invite = selectors.portal_survey_round(ticket, user)
    if invite is None:
        raise Http404("No survey for this ticket.")
    invite.ticket = ticket
    return _csat_form_page(
        request,
        invite,
        action=reverse("surveys:portal", kwargs={"key": ticket.key}),
        source=CSATResponse.Source.PORTAL,
        customer=user,
    )


@require_http_methods(["GET", "POST"])
def nps_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invite = _nps_invite(token)
    except SurveyLinkError as error:
        return _link_error(request, error)
    action = reverse("surveys:nps", kwargs={"token": token})
    response = NPSResponse.objects.filter(invite_id=invite.pk).first()
    status = 200
    if request.method == "POST":
        form = NPSForm(request.POST)
        if form.is_valid():
            try:
                services.nps_answer(
                    invite=invite,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"] if "comment" in request.POST else None,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return redirect(f"{action}?saved=1")
        status = 400
    else:
        form = NPSForm(
            initial={"score": response.score, "comment": response.comment} if response else {}
        )
    return render(
        request,
        "analytics/nps_form.html",
        {
            "form": form,
            "action": action,
            "saved": request.GET.get("saved") == "1" and response is not None,
        },
        status=status,
    )


@require_http_methods(["GET"])
def nps_rate(request: HttpRequest, token: str, score: int) -> HttpResponse:
    try:
        _nps_invite(token)
    except SurveyLinkError as error:
        return _link_error(request, error)
    if not 0 <= score <= 10:
        return _link_error(request, SurveyLinkError("Scores go from 0 to 10."))
    return render(
        request,
        "analytics/survey_confirm.html",
        {
            "action": reverse("surveys:nps", kwargs={"token": token}),
            "field": "score",
            "value": score,
            "label": f"{score} out of 10",
            "about": "How likely you are to recommend us",
        },
    )


@login_required
@require_http_methods(["GET"])
def ticket_panel(request: HttpRequest, key: str) -> HttpResponse:
    """The answers of the staff ticket page's survey panel (htmx fragment):
    404 for a ticket the user cannot see, 403 for customers."""
    ticket = staff_ticket(request, key)
    return render(
        request,
        "analytics/_survey_rounds.html",
        {"ticket": ticket, "rounds": selectors.ticket_survey_rounds(ticket)},
    )


def _manager(request: HttpRequest) -> User:
    """Customers get 404 (they never learn the page exists), agents 403."""
    user = ticket_selectors.logged_in_user(request)
    if user.is_customer:
        raise Http404("No such page.")
    if not user.has_perm("tickets.view_dashboards"):
        raise PermissionDenied("Only managers see the ratings that need a follow-up.")
    return user


@login_required
@require_http_methods(["GET"])
def follow_up(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return render(
        request,
        "analytics/follow_up.html",
        {"responses": selectors.follow_up_list(), "page_size": selectors.FOLLOW_UP_PAGE},
    )


@login_required
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    try:
        services.csat_mark_followed_up(response_id=pk, actor=user)
    except DomainError as error:
        if error.code == "not_found":
            raise Http404(error.message) from error
        raise PermissionDenied(error.message) from error
    return redirect("surveys:follow_up")

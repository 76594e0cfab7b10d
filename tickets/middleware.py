"""Request hooks of the tickets app."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from tickets.errors import DomainError
from tickets.queues import forget_queue_counts


class QueueCountsMiddleware:
    """After a signed-in user's successful POST (a reply, a property change, a
    bulk action...), drop their cached queue counts so that the next page they
    see counts their own change. Other users' counts catch up within
    queues.COUNT_CACHE_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        wrote = request.method == "POST" and response.status_code < 400
        if wrote and user is not None and user.is_authenticated:
            forget_queue_counts(user.pk)
        return response


class DomainErrorMiddleware:
    """The one mapping, for HTML views, of a service's refusal (DomainError)
    that no form took (forms take theirs with ServiceForm.run): a refused
    POST goes back to the page it came from with the message shown there; any
    other request gets a page that says what was refused (403 when the person
    may not do it, else 400). The API maps refusals itself
    (tickets.api.exceptions), before they reach a middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        status = 403 if exception.code == "permission_denied" else 400
        back = request.headers.get("Referer", "")
        is_htmx = request.headers.get("HX-Request") == "true"
        if (
            request.method == "POST"
            and not is_htmx
            and back
            and url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            messages.error(request, exception.message)
            return redirect(back)
        return render(request, "refused.html", {"message": exception.message}, status=status)

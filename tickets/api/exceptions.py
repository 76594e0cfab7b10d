"""The API's one exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]).

Every error leaves the API as JSON with an "error" message, so clients parse
one shape whatever went wrong:

- DomainError (a service refused): 400 {"error", "field", "code"}; 403 when the
  refusal is about who asks (code "permission_denied"); 409 when the ticket
  changed under the client (StaleTicket, code "stale").
- DRF ValidationError (the input serializers): 400 {"error": "Invalid input.",
  "fields": {field: [messages]}}.
- Http404 / NotFound: 404 {"error": "Not found."}, the same for a ticket that
  does not exist and one the user may not see, so keys cannot be probed.
- A body past DATA_UPLOAD_MAX_MEMORY_SIZE: 413; one with too many fields or
  files: 400 (Django would answer its HTML error page).
- Any other DRF error (401, 403, 405, 415, 429...): its status and headers
  (WWW-Authenticate, Retry-After) with {"error": detail}.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from tickets.errors import DomainError

DOMAIN_ERROR_STATUS = {
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "stale": status.HTTP_409_CONFLICT,
}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        # Services are atomic, so nothing they began is left behind; this also
        # rolls back an enclosing ATOMIC_REQUESTS transaction if one is on.
        set_rollback()
        return Response(
            {"error": exc.message, "field": exc.field, "code": exc.code},
            status=DOMAIN_ERROR_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST),
        )
    if isinstance(exc, Http404 | exceptions.NotFound):
        set_rollback()
        return Response({"error": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "error": f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} "
                "bytes (send files as multipart/form-data parts)."
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return Response({"error": str(exc)}, status=status.HTTP_400_BAD_REQUEST)

    # DRF's own handler knows the headers each error needs and turns Django's
    # PermissionDenied into a 403; only the body is reshaped here.
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a real bug, left to surface as a 500
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {"error": "Invalid input.", "fields": fields}
    else:
        data = response.data
        detail = data.get("detail", data) if isinstance(data, dict) else data
        response.data = {"error": str(detail)}
    return response

"""The inbound-mail endpoint: inbound-mail services (or a relay of our own)
POST each received message here as raw RFC 822 bytes, either as the request
body or as a multipart file field named "message".

Machine-to-machine, so no session and no CSRF token: the caller proves itself
with `Authorization: Bearer <HELPDESK_INBOUND_EMAIL_TOKEN>`. An empty setting
switches the endpoint off (404), so a fresh installation does not accept mail
from anyone.

Answers, always JSON:
- 201 {"outcome": "created"|"threaded", "ticket": "HD-12", ...}
- 200 for an ignored message (auto-reply, bounce, loop) and for a redelivery
  ("duplicate": true, with the earlier outcome)
- 202 {"outcome": "failed", "error": ...}: accepted and stored, but a
  business rule refused it (DomainError: a disabled account...); staff see it
  in the inbound log. Not a 5xx, because sending it again would fail the same
  way.
- 503 {"error": ...} with Retry-After when it failed for a reason that is not
  the mail's (the database, the infrastructure): mail services deliver it
  again later, and the redelivery is processed like a new one (the failed
  record, if one could be written, shows staff what happened meanwhile).
- 400 {"error": ...} for a body that is not an e-mail; nothing is written
- 401 bad or missing token, 404 endpoint disabled, 405 not a POST,
  413 over HELPDESK_INBOUND_EMAIL_MAX_BYTES
"""

from __future__ import annotations

import logging
from typing import cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from tickets.email.parse import InvalidEmail
from tickets.email.receive import Receipt, receive
from tickets.models import InboundEmail, format_ticket_key

logger = logging.getLogger(__name__)

# Seconds a sender is asked to wait before delivering a mail again (503).
RETRY_AFTER_SECONDS = 60

# A multipart body wraps the message in a boundary and part headers; allow for
# them when judging the declared length against the message limit.
_MULTIPART_OVERHEAD = 64 * 1024


class _TooLarge(Exception):
    pass


@csrf_exempt
def inbound_email(request: HttpRequest) -> JsonResponse:
    token = settings.HELPDESK_INBOUND_EMAIL_TOKEN
    if not token:
        return JsonResponse({"error": "Inbound e-mail is not enabled on this server."}, status=404)
    if not _authorized(request, token):
        response = JsonResponse({"error": "A valid bearer token is required."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="inbound-email"'
        return response
    if request.method != "POST":
        response = JsonResponse({"error": "POST the raw RFC 822 message."}, status=405)
        response["Allow"] = "POST"
        return response

    limit = settings.HELPDESK_INBOUND_EMAIL_MAX_BYTES
    try:
        receipt = receive(_read_message(request, limit))
    except _TooLarge:
        return JsonResponse(
            {"error": f"The message is larger than the limit of {limit} bytes."}, status=413
        )
    except InvalidEmail as error:
        return JsonResponse({"error": error.message}, status=400)
    except Exception:  # the database or storage is down: not the mail's fault
        logger.exception("Inbound e-mail could not be received; asking the sender to retry")
        return _try_again_later()
    if receipt.temporary:
        return _try_again_later()
    return _answer(receipt)


def _try_again_later() -> JsonResponse:
    response = JsonResponse(
        {"error": "The message could not be processed now; deliver it again later."},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time so the token cannot be guessed byte by byte
    # from response timings.
    return scheme.lower() == "bearer" and constant_time_compare(given.strip(), token)


def _read_message(request: HttpRequest, limit: int) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Refused before a byte is read when the sender says it is too large.
    if declared > limit + _MULTIPART_OVERHEAD:
        raise _TooLarge
    if request.content_type == "multipart/form-data":
        try:
            upload = request.FILES.get("message")
        except RequestDataTooBig as error:
            raise _TooLarge from error
        except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent) as error:
            raise InvalidEmail(f"The multipart body could not be read: {error}") from error
        if upload is None:
            raise InvalidEmail('Send the message as the body or as a file field named "message".')
        # Django's upload handlers always set the size.
        if cast(int, upload.size) > limit:
            raise _TooLarge
        return upload.read()
    # Read from the stream rather than request.body, whose size cap
    # (DATA_UPLOAD_MAX_MEMORY_SIZE) is meant for forms, not for mail.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise _TooLarge
    return raw


def _answer(receipt: Receipt) -> JsonResponse:
    inbound = receipt.inbound
    payload: dict[str, object] = {
        "outcome": inbound.outcome,
        "ticket": format_ticket_key(inbound.ticket_id) if inbound.ticket_id else None,
        "message_id": inbound.message_id,
    }
    if receipt.duplicate:
        payload["duplicate"] = True
        status = 200
    elif inbound.outcome in (InboundEmail.Outcome.CREATED, InboundEmail.Outcome.THREADED):
        status = 201
    elif inbound.outcome == InboundEmail.Outcome.IGNORED:
        status = 200
    else:
        payload["error"] = inbound.reason
        status = 202
    if inbound.reason and "error" not in payload:
        payload["reason"] = inbound.reason
    return JsonResponse(payload, status=status)

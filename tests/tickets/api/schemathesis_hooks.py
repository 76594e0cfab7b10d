"""Schemathesis extensions for test_schemathesis.py (SCHEMATHESIS_HOOKS).

`valid_input_accepted` replaces schemathesis's positive_data_acceptance: input
the schema calls valid must not be refused as invalid (400), except for what
an OpenAPI schema cannot say:

- which rows exist: a category, team, agent or customer named by an id or slug
  that names no row is a 400 naming that field;
- rules over several fields or the ticket's state: a date range that ends
  before it starts (or, on the dashboard, spans more than its longest
  range), a kind of escalation asked with `escalated=no`, or a change a
  service refuses for this ticket now (a closed ticket takes no reply:
  {"error", "field", "code"});
- NUL characters, which PostgreSQL cannot store, are refused in any text (a
  JSON string may hold one, so the schema cannot rule them out).

Anything else (a cursor the schema allows, `q` with `cursor`, an empty change)
must be accepted.

`filter_failure` drops the one failure schemathesis makes up itself: a
"wrong type" in a form body that form encoding turns back into valid text.
"""

from __future__ import annotations

import json
import re
from typing import Any

import schemathesis

# Input fields that name a row by its id, slug or e-mail address.
REFERENCES = {"category", "team", "assignee", "agent", "requester", "section", "tag"}
# Fields whose error can only come from comparing them with another one (a
# range's end with its start, the dashboard's custom `end` included, which
# must also lie within the longest range after `start`; escalation_kind with
# escalated=no).
CROSS_FIELD = {"created_to", "updated_to", "solved_to", "end", "escalation_kind"}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, bytes):
        return b"\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def refusal_is_explained(case, body: Any) -> bool:
    """Whether a 400 for schema-valid input is one the schema cannot rule out."""
    if any(_has_nul(part) for part in (case.query, case.body, case.path_parameters)):
        return True
    if not isinstance(body, dict):
        return False
    if "code" in body:
        return True  # a service refused it for this ticket, now (DomainError)
    fields = set(body.get("fields") or {})
    return bool(fields) and fields <= REFERENCES | CROSS_FIELD


@schemathesis.check
def valid_input_accepted(ctx, response, case) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if refusal_is_explained(case, body):
        return None
    text = response.content.decode("utf-8", "replace")[:500]
    raise AssertionError(f"Schema-valid input refused as invalid: [400] {text}")


# "violates `type` at /properties/description (was string, became integer)"
_TEXT_ON_THE_WIRE = re.compile(
    r"violates `type` at \S+ \(was string, became (integer|number|boolean)\)"
)


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except one that form encoding makes up. A multipart
    body carries only text: the "invalid" number 1035 goes out as the text
    "1035", a valid string, so the server is right to accept it. (The same
    fields are tested with JSON bodies, where a number stays a number.)"""
    return not erased_by_form_encoding(getattr(failure, "code", ""), failure.message, case)


def erased_by_form_encoding(code: str, message: str, case) -> bool:
    if code != "ST201" or not (case.media_type or "").startswith("multipart/"):
        return False
    violations = [line for line in message.splitlines() if "violates" in line]
    return bool(violations) and all(_TEXT_ON_THE_WIRE.search(line) for line in violations)

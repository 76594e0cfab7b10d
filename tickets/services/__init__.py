"""Every write to the ticket domain. Views, the API, management commands,
Celery tasks and the apps built on tickets call these; none of them changes a
ticket by hand.

By concern:
- people: users and their roles, an organisation's support tier
- lifecycle: opening a ticket, its status, properties, assignee, hand-over
- properties: the properties panel in one step, tags, optimistic concurrency
- conversation: replies and internal notes (and their attachments)
- links: parent incidents, merges
- mail: the outbox rows of every e-mail (acknowledgement, replies, notices)
- intake: the one write at the end of a new ticket's intake steps

Each service is keyword-only and atomic, records what it changed in the
ticket's history (tickets.history) with a dotted action name, and announces
the change to the lifecycle hooks (tickets.lifecycle).
"""

from tickets.history import record_event
from tickets.services.attachments import IncomingFile, validate_attachments
from tickets.services.conversation import ticket_reply
from tickets.services.intake import intake_apply
from tickets.services.lifecycle import (
    UPDATABLE_FIELDS,
    HandOver,
    apply_status,
    ticket_assign,
    ticket_change_status,
    ticket_create,
    ticket_update,
    tickets_hand_over,
)
from tickets.services.links import ticket_link, ticket_merge
from tickets.services.mail import (
    acknowledgement,
    acknowledgement_wanted,
    mail_queue,
    message_mail,
    outbound_retry,
    ticket_mail,
)
from tickets.services.people import organization_set_tier, user_create, user_set_role
from tickets.services.properties import (
    StaleTicket,
    check_version,
    ticket_add_tag,
    ticket_set_properties,
    ticket_set_tags,
    ticket_version,
)

__all__ = [
    "UPDATABLE_FIELDS",
    "HandOver",
    "IncomingFile",
    "StaleTicket",
    "acknowledgement",
    "acknowledgement_wanted",
    "apply_status",
    "check_version",
    "intake_apply",
    "mail_queue",
    "message_mail",
    "organization_set_tier",
    "outbound_retry",
    "record_event",
    "ticket_add_tag",
    "ticket_assign",
    "ticket_change_status",
    "ticket_create",
    "ticket_link",
    "ticket_mail",
    "ticket_merge",
    "ticket_reply",
    "ticket_set_properties",
    "ticket_set_tags",
    "ticket_update",
    "ticket_version",
    "tickets_hand_over",
    "user_create",
    "user_set_role",
    "validate_attachments",
]

"""Files arriving with a message, from any channel: checked before anything is
written (a bad file refuses the whole request), stored through Django's
storage API."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from tickets.errors import DomainError
from tickets.models import Attachment, Message


@dataclass(frozen=True)
class IncomingFile:
    """A file arriving from any channel (form upload, e-mail part, API)."""

    filename: str
    content_type: str
    content: UploadedFile


def validate_attachments(files: Sequence[UploadedFile]) -> list[IncomingFile]:
    """Check every file against the size and type limits before anything is
    written, so a bad attachment refuses the whole request."""
    checked = []
    for upload in files:
        name = (upload.name or "attachment").rsplit("/", 1)[-1][:255]
        content_type = (
            (
                getattr(upload, "content_type", None)
                or mimetypes.guess_type(name)[0]
                or "application/octet-stream"
            )
            .split(";")[0]
            .strip()
            .lower()
        )
        if (upload.size or 0) > settings.HELPDESK_ATTACHMENT_MAX_BYTES:
            limit_mb = settings.HELPDESK_ATTACHMENT_MAX_BYTES / (1024 * 1024)
            raise DomainError(
                f"{name} is too large (limit {limit_mb:.0f} MB).", field="attachments"
            )
        if content_type not in settings.HELPDESK_ATTACHMENT_TYPES:
            raise DomainError(
                f"{name}: files of type {content_type} are not accepted.", field="attachments"
            )
        checked.append(IncomingFile(filename=name, content_type=content_type, content=upload))
    return checked


def store_attachments(message: Message, files: Sequence[IncomingFile]) -> None:
    for incoming in files:
        attachment = Attachment(
            message=message,
            filename=incoming.filename,
            content_type=incoming.content_type,
            # Django's upload handlers and SimpleUploadedFile always set the size.
            size=cast(int, incoming.content.size),
        )
        # Saved through Django's storage API (local disk in the demo, any
        # configured storage in production).
        attachment.file.save(incoming.filename, incoming.content, save=False)
        attachment.save()

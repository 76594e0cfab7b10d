"""Mail backends for the outbox tests: a mail server that fails in a chosen
way, and one that notes whether a transaction was open when it was used."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection


class BrokenServer(BaseEmailBackend):
    """Every send fails with `error`."""

    error: Exception = smtplib.SMTPServerDisconnected("connection lost")

    def send_messages(self, email_messages):
        raise type(self).error


class RefusingServer(BrokenServer):
    error = ConnectionRefusedError("mail server down")


class RefusingRecipient(BrokenServer):
    error = smtplib.SMTPRecipientsRefused({"carol@acme.example": (550, b"No such user")})


class InTransactionDetector(BaseEmailBackend):
    """Records whether a transaction was open each time it was asked to send."""

    sends: list[bool] = []

    def send_messages(self, email_messages):
        type(self).sends.append(connection.in_atomic_block)
        return len(email_messages)

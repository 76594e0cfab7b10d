"""python manage.py fetch_mail --maildir PATH | --mbox PATH | --imap-host HOST ...

Feeds every waiting message of a mail store through `receive_email`, one
transaction per message, and prints how many were created, threaded,
ignored, duplicates, failed or not e-mail at all.

What counts as done, per store:
- Maildir: a processed message moves from new/ to cur/ with the Seen flag
  (unseen messages already in cur/ are read too);
- mbox: the file is left as it is; running again is harmless because each
  Message-ID is received once;
- IMAP: a processed message is flagged \\Seen; only unseen ones are fetched.

A message that is not an e-mail, or whose intake failed, is left unmarked so
nothing is lost and the next run tries it again (a failed message is recorded
with its raw copy in the inbound log either way).
"""

from __future__ import annotations

import imaplib
import mailbox
import os
import ssl
import sys
from collections import Counter
from pathlib import Path
from typing import Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from tickets.email.parse import InvalidEmail
from tickets.email.receive import receive
from tickets.models import InboundEmail

# "skipped": the message went away between listing and reading it (a mail
# client moved or deleted it).
OUTCOMES = ("created", "threaded", "ignored", "duplicate", "failed", "invalid", "skipped")
IMAP_TIMEOUT_SECONDS = 60


class MailSource(Protocol):
    def pending(self) -> list: ...

    def read(self, handle) -> bytes | None: ...

    def done(self, handle) -> None: ...

    def describe(self, handle) -> str: ...

    def close(self) -> None: ...


class MaildirSource:
    """A Maildir read by file name. Python's mailbox.Maildir rewrites a
    message to change its flags; renaming the file keeps the bytes as they
    were delivered."""

    INFO = ":2,"

    def __init__(self, path: Path):
        self.path = path
        missing = [sub for sub in ("new", "cur", "tmp") if not (path / sub).is_dir()]
        if missing:
            raise CommandError(f"{path} is not a Maildir (no {', '.join(missing)} folder).")

    def _files(self, sub: str) -> list[Path]:
        # Dot files are not messages (the Maildir spec reserves them).
        return sorted(p for p in (self.path / sub).iterdir() if p.is_file() and p.name[0] != ".")

    def pending(self) -> list[Path]:
        unseen = [p for p in self._files("cur") if "S" not in p.name.partition(self.INFO)[2]]
        return self._files("new") + unseen

    def read(self, handle: Path) -> bytes | None:
        try:
            return handle.read_bytes()
        except FileNotFoundError:
            # A mail client moved it meanwhile; it is no longer ours to take.
            return None

    def done(self, handle: Path) -> None:
        unique, _, flags = handle.name.partition(self.INFO)
        flags = "".join(sorted(set(flags) | {"S"}))
        try:
            handle.rename(self.path / "cur" / f"{unique}{self.INFO}{flags}")
        except FileNotFoundError:
            pass

    def describe(self, handle: Path) -> str:
        return str(handle)

    def close(self) -> None:
        return None


class MboxSource:
    def __init__(self, path: Path):
        if not path.is_file():
            raise CommandError(f"{path} is not an mbox file.")
        self.path = path
        self.box = mailbox.mbox(path, create=False)

    def pending(self) -> list[str]:
        return list(self.box.keys())

    def read(self, handle: str) -> bytes:
        return self.box.get_bytes(handle)

    def done(self, handle: str) -> None:
        # The mbox belongs to whoever delivers into it; the Message-ID makes
        # reading it again harmless.
        return None

    def describe(self, handle: str) -> str:
        return f"{self.path} message {handle}"

    def close(self) -> None:
        self.box.close()


class ImapSource:
    """A thin adapter over an imaplib client: unseen messages by UID, fetched
    with BODY.PEEK[] (which leaves them unseen) and flagged \\Seen once done."""

    def __init__(self, client: imaplib.IMAP4, folder: str):
        self.client = client
        status, data = client.select(_imap_quote(folder))
        if status != "OK":
            raise CommandError(f"Cannot open the IMAP folder {folder!r}: {_imap_text(data)}")

    def pending(self) -> list[bytes]:
        status, data = self.client.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise CommandError(f"IMAP search failed: {_imap_text(data)}")
        return data[0].split() if data and data[0] else []

    def read(self, handle: bytes) -> bytes | None:
        # imaplib sends bytes arguments as they are (it encodes str ones);
        # typeshed declares str only.
        status, data = self.client.uid("FETCH", handle, "(BODY.PEEK[])")  # type: ignore[arg-type]
        if status != "OK":
            raise CommandError(f"IMAP fetch of UID {handle.decode()} failed: {_imap_text(data)}")
        # The literal arrives as the second item of a (prefix, bytes) pair.
        for item in data or ():
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None

    def done(self, handle: bytes) -> None:
        # bytes argument: see read()
        status, data = self.client.uid("STORE", handle, "+FLAGS", "(\\Seen)")  # type: ignore[arg-type]
        if status != "OK":
            raise CommandError(f"Cannot flag UID {handle.decode()} as seen: {_imap_text(data)}")

    def describe(self, handle: bytes) -> str:
        return f"IMAP UID {handle.decode()}"

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            self.client.logout()


def _imap_quote(folder: str) -> str:
    """A folder name as an IMAP quoted string (names may contain spaces)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_text(data) -> str:
    parts = [d.decode(errors="replace") if isinstance(d, bytes) else str(d) for d in data or ()]
    return " ".join(parts) or "no details"


def imap_connect(
    *, host: str, port: int | None, user: str, password: str, implicit_tls: bool
) -> imaplib.IMAP4:
    """Log in over TLS: implicit TLS (port 993) with --imap-ssl, otherwise
    STARTTLS (port 143), which must succeed: the password never goes in clear."""
    context = ssl.create_default_context()
    if implicit_tls:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            host, port or 993, ssl_context=context, timeout=IMAP_TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(host, port or 143, timeout=IMAP_TIMEOUT_SECONDS)
        client.starttls(ssl_context=context)
    client.login(user, password)
    return client


class Command(BaseCommand):
    help = "Receive mail from a Maildir, an mbox file or an IMAP mailbox into tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--maildir", type=Path, help="Maildir folder (with new/, cur/, tmp/).")
        where.add_argument("--mbox", type=Path, help="mbox file (read only, never changed).")
        where.add_argument("--imap-host", help="IMAP server to poll.")
        parser.add_argument("--imap-port", type=int, help="Default 993 with --imap-ssl, else 143.")
        parser.add_argument("--imap-user", help="IMAP login.")
        parser.add_argument(
            "--imap-password-env",
            metavar="VAR",
            help="Environment variable holding the IMAP password (never on the command line).",
        )
        parser.add_argument("--imap-folder", default="INBOX")
        parser.add_argument(
            "--imap-ssl", action="store_true", help="Implicit TLS instead of STARTTLS."
        )

    def handle(self, *args, **options) -> None:
        source = self._open(options)
        counts: Counter[str] = Counter()
        try:
            handles = source.pending()
            with tqdm(
                handles,
                unit=" mails",
                file=sys.stderr,
                disable=options["verbosity"] == 0,
            ) as progress:
                for handle in progress:
                    counts[self._process(source, handle)] += 1
        finally:
            source.close()
        summary = ", ".join(f"{name}: {counts[name]}" for name in OUTCOMES)
        self.stdout.write(f"{len(handles)} messages: {summary}")

    def _open(self, options) -> MailSource:
        # Path() again: call_command passes option values through unparsed.
        if options["maildir"] is not None:
            return MaildirSource(Path(options["maildir"]))
        if options["mbox"] is not None:
            return MboxSource(Path(options["mbox"]))
        user, variable = options["imap_user"], options["imap_password_env"]
        if not user or not variable:
            raise CommandError("--imap-host needs --imap-user and --imap-password-env.")
        password = os.environ.get(variable)
        if not password:
            raise CommandError(f"The environment variable {variable} is not set.")
        try:
            client = imap_connect(
                host=options["imap_host"],
                port=options["imap_port"],
                user=user,
                password=password,
                implicit_tls=options["imap_ssl"],
            )
        except (imaplib.IMAP4.error, OSError) as error:
            raise CommandError(f"Cannot log in to {options['imap_host']}: {error}") from error
        return ImapSource(client, options["imap_folder"])

    def _process(self, source: MailSource, handle) -> str:
        raw = source.read(handle)
        if raw is None:
            return "skipped"
        try:
            receipt = receive(raw)
        except InvalidEmail as error:
            self.stderr.write(f"{source.describe(handle)}: {error.message} (left in place)")
            return "invalid"
        if receipt.duplicate:
            source.done(handle)
            return "duplicate"
        outcome = receipt.inbound.outcome
        if outcome == InboundEmail.Outcome.FAILED:
            self.stderr.write(
                f"{source.describe(handle)}: intake failed: {receipt.inbound.reason} "
                "(left in place to be tried again)"
            )
        else:
            source.done(handle)
        return str(outcome)

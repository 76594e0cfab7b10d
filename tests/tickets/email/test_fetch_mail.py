"""`manage.py fetch_mail`: a Maildir, an mbox, and IMAP through its adapter."""

from __future__ import annotations

import mailbox
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.tickets.email.mails import build
from tickets.management.commands import fetch_mail
from tickets.models import Ticket


def run_fetch_mail(**options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("fetch_mail", stdout=out, stderr=err, verbosity=0, **options)
    return out.getvalue(), err.getvalue()


def make_maildir(root: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def test_fetch_mail_reads_a_maildir_and_marks_what_it_processed(tmp_path, customer):
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1001.a.host").write_bytes(build(subject="Printer jam"))
    (maildir / "new" / "1002.b.host").write_bytes(
        build(subject="Automatic reply: x", headers={"Auto-Submitted": "auto-replied"})
    )
    (maildir / "new" / "1003.c.host").write_bytes(b"garbage that is no e-mail")
    # Already seen (read by a person or an earlier run): not ours to take.
    (maildir / "cur" / "1000.z.host:2,S").write_bytes(build(subject="Old and seen"))
    # In cur/ but never seen: still waiting.
    (maildir / "cur" / "1004.d.host:2,F").write_bytes(build(subject="Flagged, unread"))

    out, err = run_fetch_mail(maildir=str(maildir))

    assert "4 messages: created: 2, threaded: 0, ignored: 1" in out
    assert "invalid: 1" in out
    assert "1003.c.host" in err
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Flagged, unread",
        "Printer jam",
    ]
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == [
        "1000.z.host:2,S",
        "1001.a.host:2,S",
        "1002.b.host:2,S",
        "1004.d.host:2,FS",
    ]
    # What could not be read stays where it was, so nothing is lost.
    assert [p.name for p in (maildir / "new").iterdir()] == ["1003.c.host"]

    out, _ = run_fetch_mail(maildir=str(maildir))
    assert out.startswith("1 messages: created: 0")
    assert Ticket.objects.count() == 2


def test_fetch_mail_reads_an_mbox_without_changing_it(tmp_path, customer):
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(path)
    for subject in ("VPN drops", "Invoice copy"):
        box.add(build(subject=subject))
    box.add(build(subject="Out of office"))
    box.close()
    before = path.read_bytes()

    out, _ = run_fetch_mail(mbox=str(path))
    assert "3 messages: created: 2, threaded: 0, ignored: 1, duplicate: 0" in out

    out, _ = run_fetch_mail(mbox=str(path))
    assert "3 messages: created: 0, threaded: 0, ignored: 0, duplicate: 3" in out
    assert Ticket.objects.count() == 2
    assert path.read_bytes() == before


def test_fetch_mail_refuses_a_folder_that_is_not_a_maildir(tmp_path, db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a Maildir"):
        run_fetch_mail(maildir=str(tmp_path))


class FakeImapClient:
    """Answers like imaplib.IMAP4 for the commands the adapter sends: the
    mailbox is a dict of UID -> raw message and a set of \\Seen UIDs."""

    def __init__(self, messages: dict[bytes, bytes]):
        self.messages = messages
        self.seen: set[bytes] = set()
        self.selected = None
        self.logged_out = False

    def select(self, folder):
        self.selected = folder
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command, *args):
        if command == "SEARCH":
            assert args == ("UNSEEN",)
            return "OK", [b" ".join(u for u in self.messages if u not in self.seen)]
        if command == "FETCH":
            uid, what = args
            assert what == "(BODY.PEEK[])"  # fetching must not mark it seen
            return "OK", [(b"%s (UID %s BODY[] {n}" % (uid, uid), self.messages[uid]), b")"]
        if command == "STORE":
            uid, op, flags = args
            assert (op, flags) == ("+FLAGS", "(\\Seen)")
            self.seen.add(uid)
            return "OK", [b""]
        raise AssertionError(command)

    def close(self):
        return "OK", [b""]

    def logout(self):
        self.logged_out = True
        return "BYE", [b""]


def test_fetch_mail_polls_imap_through_its_adapter(monkeypatch, customer):
    client = FakeImapClient({b"7": build(subject="From IMAP"), b"8": b"not mail"})
    logins = []

    def connect(**kwargs):
        logins.append(kwargs)
        return client

    monkeypatch.setattr(fetch_mail, "imap_connect", connect)
    monkeypatch.setenv("SUPPORT_IMAP_PASSWORD", "s3cret")

    out, _ = run_fetch_mail(
        imap_host="imap.helpdesk.test",
        imap_user="support",
        imap_password_env="SUPPORT_IMAP_PASSWORD",
        imap_folder="Support Inbox",
        imap_ssl=True,
    )

    assert logins == [
        {
            "host": "imap.helpdesk.test",
            "port": None,
            "user": "support",
            "password": "s3cret",
            "implicit_tls": True,
        }
    ]
    assert client.selected == '"Support Inbox"'
    assert "created: 1" in out and "invalid: 1" in out
    assert client.seen == {b"7"}
    assert client.logged_out
    assert Ticket.objects.get().subject == "From IMAP"


def test_fetch_mail_imap_needs_the_password_variable(monkeypatch, db):
    from django.core.management.base import CommandError

    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="NO_SUCH_PASSWORD is not set"):
        run_fetch_mail(
            imap_host="imap.helpdesk.test", imap_user="u", imap_password_env="NO_SUCH_PASSWORD"
        )

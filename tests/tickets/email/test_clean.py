"""tickets.email.clean: quoted history, signatures and HTML cut down to the
text worth keeping."""

from __future__ import annotations

from tests.tickets.email.mails import build
from tickets.email.clean import extract_reply, html_to_text, strip_signature
from tickets.email.receive import receive_email


def test_outlook_history_and_phone_signatures_are_cut():
    text = (
        "Still broken after the update.\n\nSent from my iPhone\n\n"
        "-----Original Message-----\nFrom: Helpdesk\nSent: Monday, 2 March 2026 10:04\n"
        "Subject: [HD-3] Export\n\nPlease update."
    )
    assert extract_reply(text) == "Still broken after the update."
    outlook_web = (
        "New text\n________________________________\n"
        "From: Helpdesk <support@helpdesk.test>\nSent: Monday\nTo: Carol\n\nOld"
    )
    assert extract_reply(outlook_web) == "New text"


def test_inline_and_bottom_posted_answers_are_kept():
    text = (
        "On Mon, 2 Mar 2026, Alice wrote:\n> Which browser?\nFirefox 140.\n"
        "> And the version of the app?\n2.4.1\n"
    )
    assert extract_reply(text) == "Firefox 140.\n2.4.1"


def test_a_reply_that_is_all_quote_keeps_everything():
    assert extract_reply("> quoted only") == "> quoted only"


def test_html_blockquotes_are_quoted_history():
    html = (
        "<div>Works now, thanks!</div><div class='gmail_quote'>"
        "<div>On Mon, 2 Mar 2026 at 10:04, Helpdesk wrote:</div>"
        "<blockquote>Please <i>restart</i> the app.</blockquote></div>"
    )
    text = html_to_text(html)
    assert text.splitlines() == [
        "Works now, thanks!",
        "On Mon, 2 Mar 2026 at 10:04, Helpdesk wrote:",
        "> Please restart the app.",
    ]
    assert extract_reply(text) == "Works now, thanks!"


def test_new_tickets_keep_quoted_text_but_not_the_signature():
    text = "Please see below.\n\n> forwarded detail\n\n-- \nCarol\n+1 555 0100"
    assert strip_signature(text) == "Please see below.\n\n> forwarded detail"


def test_html_only_mail_is_converted_to_text_without_scripts(customer):
    html = (
        "<html><head><title>ignored</title><style>p {color: red}</style></head><body>"
        "<p>The <b>export</b> page shows &lt;blank&gt;.</p>"
        "<script>alert('stolen cookie')</script>"
        "<p onclick=\"steal()\">See <a href='https://status.acme.example/x'>our status</a>"
        "<img src=x onerror=alert(1) alt='screenshot'></p>"
        "</body></html>"
    )
    ticket = receive_email(build(body=None, html=html)).ticket
    assert ticket.description == (
        "The export page shows <blank>.\nSee our status (https://status.acme.example/x)[screenshot]"
    )
    for leftover in ("alert", "script", "stolen", "color", "steal", "onerror", "<p", "ignored"):
        assert leftover not in ticket.description

"""The text worth keeping from an e-mail.

A reply arrives with the whole conversation quoted below it and a signature
above that; the ticket already holds the conversation, so a threaded reply
keeps only what is new (`extract_reply`). A new ticket keeps its full text,
because what a customer forwards or quotes there is the substance of the
request; only the signature goes (`strip_signature`). Both fall back to the
whole text rather than store an empty message, and the raw mail is kept in
the inbound log whatever is cut here.

HTML-only mail is sanitised with nh3 (which drops scripts, styles and their
content) and then flattened to plain text with the standard library parser,
which skips those elements again, so no markup survives into a ticket.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# "On Mon, 2 Mar 2026 at 10:04, Alice <alice@example.com> wrote:" and the
# German and French forms of the same attribution line; mail clients often
# wrap it, so it may span two lines.
_ATTRIBUTION = re.compile(
    r"^\s*(on\s.{0,400}\swrote|am\s.{0,400}\sschrieb.{0,200}|le\s.{0,400}\sa\s+écrit)\s*:\s*$",
    re.IGNORECASE,
)
# Outlook and friends quote without ">" and start the history with a marker.
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\s*\*?(sent|date|gesendet|datum|envoyé)\s*:\*?\s+\S", re.IGNORECASE)
# Outlook on the web draws a line of underscores above the quoted headers.
_RULE = re.compile(r"^\s*_{10,}\s*$")
# Signatures phones and apps append on their own.
_DEVICE_SIGNATURE = re.compile(
    r"^\s*(sent from my \S.{0,40}|sent from (outlook|mail|yahoo mail)\b.{0,40}"
    r"|get outlook for \S.{0,30}|von meinem \S.{0,40} gesendet)\s*$",
    re.IGNORECASE,
)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _tidy(lines: list[str]) -> str:
    """Trailing spaces off, runs of blank lines (left by the cuts) down to one."""
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


def _is_signature_start(line: str) -> bool:
    # RFC 3676's delimiter is "-- "; many clients trim the trailing space.
    return line.rstrip() == "--" or bool(_DEVICE_SIGNATURE.match(line))


def _cut_signature(lines: list[str]) -> list[str]:
    for number, line in enumerate(lines):
        if _is_signature_start(line):
            return lines[:number]
    return lines


def _attribution_length(lines: list[str], start: int) -> int:
    """How many lines (0, 1 or 2) an attribution line starting here spans."""
    if _ATTRIBUTION.match(lines[start]):
        return 1
    if start + 1 < len(lines) and _ATTRIBUTION.match(f"{lines[start]} {lines[start + 1]}"):
        return 2
    return 0


def _history_starts(lines: list[str], start: int) -> bool:
    """Does an unquoted, Outlook-style history begin at this line?"""
    line = lines[start]
    if _ORIGINAL_MESSAGE.match(line):
        return True
    following = lines[start + 1 : start + 5]
    if _RULE.match(line):
        return any(_HEADER_FROM.match(nxt) for nxt in following[:2])
    # A "From:" line followed closely by "Sent:"/"Date:" is a quoted header
    # block, not a sentence that happens to start with "From:".
    return bool(_HEADER_FROM.match(line)) and any(_HEADER_SENT.match(nxt) for nxt in following)


def _next_text_line(lines: list[str], start: int) -> str | None:
    for line in lines[start:]:
        if line.strip():
            return line
    return None


def extract_reply(text: str) -> str:
    """The new part of a reply: quoted lines, attribution lines, Outlook
    history blocks and the signature removed. Answers written between or
    below quoted lines (inline and bottom posting) are kept."""
    lines = _lines(text)
    kept: list[str] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        if _history_starts(lines, number):
            break
        span = _attribution_length(lines, number)
        if span:
            following = _next_text_line(lines, number + span)
            if following is None or following.startswith(">"):
                number += span
                continue
            # An attribution followed by unquoted text introduces history
            # that the client did not mark with ">": it runs to the end.
            break
        if not line.startswith(">"):
            kept.append(line)
        number += 1
    reply = _tidy(_cut_signature(kept))
    return reply or text.strip()


def strip_signature(text: str) -> str:
    """The whole text without its signature (for new tickets)."""
    kept = _tidy(_cut_signature(_lines(text)))
    return kept or text.strip()


# --- HTML ----------------------------------------------------------------------

# What survives sanitising: structure the text conversion reads. Everything
# else is unwrapped to its text, and scripts and styles go with their content.
_KEEP_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_DROP_WITH_CONTENT = {"script", "style", "head", "title", "template", "noscript", "iframe"}
_BLOCKS = {
    "div",
    "p",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "hr",
}


class _TextWriter(HTMLParser):
    """Sanitised HTML -> lines of text. Blockquotes become "> " lines so the
    quoted history of an HTML reply is recognised like a plain-text one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = [(0, "")]
        self.depth = 0
        self.skipping = 0
        self.preformatted = 0
        self.links: list[str | None] = []

    # Lines are (quote depth, text); a line takes the depth it started at.
    def _newline(self) -> None:
        if self.lines[-1][1].strip():
            self.lines.append((self.depth, ""))
        else:
            self.lines[-1] = (self.depth, "")

    def _write(self, text: str) -> None:
        depth, current = self.lines[-1]
        if not current:
            depth = self.depth
            text = text.lstrip() if not self.preformatted else text
        self.lines[-1] = (depth, current + text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_WITH_CONTENT:
            self.skipping += 1
        elif tag == "br":
            self.lines.append((self.depth, ""))
        elif tag == "blockquote":
            self._newline()
            self.depth += 1
            self._newline()
        elif tag == "li":
            self._newline()
            self._write("- ")
        elif tag in ("td", "th"):
            self._write(" ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._write(f"[{alt}]")
        elif tag in _BLOCKS:
            if tag == "pre":
                self.preformatted += 1
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_WITH_CONTENT:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self._newline()
            self.depth = max(0, self.depth - 1)
            self._newline()
        elif tag == "a" and self.links:
            href = self.links.pop()
            # Keep where a link points unless its text already says it.
            if href and href.removeprefix("mailto:") not in self.lines[-1][1]:
                self._write(f" ({href})")
        elif tag in _BLOCKS or tag == "li":
            if tag == "pre":
                self.preformatted = max(0, self.preformatted - 1)
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.preformatted:
            first, *rest = data.split("\n")
            self._write(first)
            for line in rest:
                self.lines.append((self.depth, line))
            return
        self._write(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        return _tidy([("> " * depth + line).rstrip() for depth, line in self.lines])


def html_to_text(html: str) -> str:
    """Plain text from untrusted HTML; no tag, script or style survives."""
    safe = nh3.clean(
        html,
        tags=_KEEP_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes={"a": {"href"}, "img": {"alt"}},
        link_rel=None,
    )
    writer = _TextWriter()
    writer.feed(safe)
    writer.close()
    return writer.text()

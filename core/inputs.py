"""Reading numbers and text from untrusted input (URLs, query strings, forms,
JSON, e-mail headers), so that no value reaches int(), datetime arithmetic or
PostgreSQL in a shape they refuse with an exception instead of a clear 400.

- Numbers: `str.isdigit()` is true for "²" and "①", which int() refuses, and
  int() itself accepts "1_000" and Arabic-Indic digits; ids, keys and
  versions are ASCII digits only, within the range of the column they name.
- Text: PostgreSQL stores no NUL character, and UTF-8 has no encoding for a
  lone surrogate (JSON can spell one, "\\ud800"; the e-mail parser makes them
  from undecodable header bytes).
"""

from __future__ import annotations

import re
from typing import Any

# PostgreSQL bigint: every primary key here (DEFAULT_AUTO_FIELD = BigAutoField).
BIGINT_MAX = 2**63 - 1

# At most 20 digits: anything longer is out of every range we read, and is
# refused before int() spends time on it (or refuses it past 4,300 digits).
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def parse_int(value: Any, *, minimum: int = 0, maximum: int = BIGINT_MAX) -> int | None:
    """The integer `value` spells in ASCII digits (an optional minus sign,
    surrounding spaces ignored) if it lies within [minimum, maximum]; None for
    anything else. An int is range-checked as it is; a bool is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            return None
        number = int(text)
    else:
        return None
    return number if minimum <= number <= maximum else None


def parse_id(value: Any) -> int | None:
    """A primary key from input: a positive bigint in ASCII digits, else None."""
    return parse_int(value, minimum=1)


def unstorable_text_problem(text: str) -> str | None:
    """Why PostgreSQL cannot store `text` (a sentence for the person), or None."""
    if "\x00" in text:
        return "Text may not contain NUL (0x00) characters."
    if _SURROGATE.search(text):
        return "Text may not contain invalid Unicode (unpaired surrogates)."
    return None


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL cannot store removed (NUL) or replaced (a
    lone surrogate becomes U+FFFD), for text received rather than typed: an
    e-mail's subject and body, a reason that quotes an error."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))

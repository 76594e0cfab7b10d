"""Urgency cues that raise a new ticket's priority, with the reason.

Each cue sets a floor: outage words -> urgent (many people are blocked);
urgency words, a VIP organisation, or a strongly negative tone -> high. Two or
more cues together go one level above the highest floor ("asap" from a VIP
is urgent). Cues only ever raise: a priority already at or above the result
stays as it is.

Managers who need more phrases add keyword rules with a priority.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tickets.classification.sentiment import is_angry
from tickets.models import Priority

# Plain strings as keys: a ticket's priority is read back from the database as
# str, and enum members do not hash like their values.
RANK = {
    p.value: rank
    for rank, p in enumerate((Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT))
}
BY_RANK = {rank: priority for priority, rank in RANK.items()}

# "Down" alone is too common ("drop-down", "slow down", "down payment"): it
# counts after a verb or a system noun. Each pattern's matched text becomes
# part of the reason shown in the ticket history.
_OUTAGE = re.compile(
    r"\boutages?\b"
    r"|\b(?:is|are|was|were|went|goes|gone|been|keeps going|site|server|servers|service|"
    r"system|website|app|api|everything|production|prod|network|platform)"
    r"(?:\s+(?:completely|totally|still|all))?\s+down\b"
    r"|\bdown for (?:everyone|everybody|all|hours)\b"
    r"|\bnot working for (?:anyone|anybody|everyone|everybody|all|the whole)\b"
    r"|\b(?:nobody|no one|no-one|none of us) can (?:log ?in|sign in|access|work|connect)\b",
    re.IGNORECASE,
)
# The negative look-behinds drop "not urgent" / "no rush, not asap".
_URGENT_WORDS = re.compile(
    r"(?<!not )(?<!non-)\b(?:urgent(?:ly)?|asap|a\.s\.a\.p\.?|as soon as possible|emergency|"
    r"immediately|critical)\b",
    re.IGNORECASE,
)


def _quoted(matches: list[str]) -> str:
    seen: list[str] = []
    for match in matches:
        text = " ".join(match.lower().split())
        if text not in seen:
            seen.append(text)
    return ", ".join(f"'{t}'" for t in seen[:3])


@dataclass(frozen=True)
class Urgency:
    priority: str
    reasons: tuple[str, ...]
    raised: bool

    @property
    def note(self) -> str:
        return f"Raised to {self.priority}: {', '.join(self.reasons)}" if self.raised else ""


def assess_urgency(text: str, *, current: str, vip: bool, sentiment: float | None) -> Urgency:
    cues: list[tuple[str, str]] = []
    outage = [m.group(0) for m in _OUTAGE.finditer(text)]
    if outage:
        cues.append((f"outage words {_quoted(outage)}", Priority.URGENT.value))
    urgent = [m.group(0) for m in _URGENT_WORDS.finditer(text)]
    if urgent:
        cues.append((f"urgency words {_quoted(urgent)}", Priority.HIGH.value))
    if vip:
        cues.append(("VIP customer", Priority.HIGH.value))
    if sentiment is not None and is_angry(sentiment):
        cues.append((f"very negative tone ({sentiment:+.2f})", Priority.HIGH.value))
    if not cues:
        return Urgency(priority=current, reasons=(), raised=False)
    target = max(RANK[floor] for _reason, floor in cues)
    if len(cues) >= 2:
        target = min(target + 1, RANK[Priority.URGENT.value])
    raised = target > RANK[current]
    return Urgency(
        priority=BY_RANK[target] if raised else current,
        reasons=tuple(reason for reason, _floor in cues),
        raised=raised,
    )

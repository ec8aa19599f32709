"""Redaction for review (REC-2): what a reviewer sees by default.

Card numbers and SSNs never reach the database (bot/compliance/redaction.py, PCI-2, at intake). A reviewer does
not need the rest of what identifies a debtor either: dates of birth, ZIP codes and account or SSN digits the
debtor typed, phone numbers, email addresses and pay-link tokens are masked here. The unredacted text is a
separate, logged permission (User.can_view_unredacted)."""

from __future__ import annotations

import re

from bot.compliance.redaction import redact as redact_payment_data

MASK = "[hidden]"
_PATTERNS = (
    re.compile(r"https?://\S*/(?:pay|p|checkout)/\S+", re.I),  # pay-link tokens
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # emails
    re.compile(r"(?<!\w)\+?\d[\d\s().-]{8,}\d(?!\w)"),  # phone numbers and long digit runs
    re.compile(r"(?<!\d)\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}(?!\d)"),  # dates (dates of birth)
    re.compile(r"(?<![\w-])(?:[A-Z]{2,5}-)?\d{4,}(?![\w-])"),  # ZIPs, last-4s, account refs
)


def for_review(text: str | None) -> str:
    """The text with identifying details masked; idempotent."""
    masked = redact_payment_data(text or "").text
    for pattern in _PATTERNS:
        masked = pattern.sub(MASK, masked)
    return masked

"""Redaction for review (REC-2): what a reviewer sees by default, and what an agent may read of a debtor's words
(HO-1, ID-2).

Card numbers and SSNs never reach the database (bot/compliance/redaction.py, PCI-2, at intake). A reviewer does
not need the rest of what identifies a debtor either: dates of birth, ZIP codes and account or SSN digits the
debtor typed, phone numbers, email addresses and pay-link tokens are masked here. The unredacted text is a
separate, logged permission (User.can_view_unredacted).

An agent talks to the debtor, so they read the conversation, but never the answers to the identity questions:
with a date of birth, the SSN's last four and a ZIP or account number an agent could pass verification as the
debtor ("passing flags but never secrets", HO-1; ID-2). `for_agent` shows that an answer was given ("[date of
birth]"), never its value. Which of these a given console user reads is decided once, in bot/records/reading.py."""

from __future__ import annotations

import re

from bot.compliance.redaction import redact as redact_payment_data

MASK = "[hidden]"
# A US phone number in any usual form, whole: "(312) 555-0148", "+1 312.555.0148", "1-312-555-0148", and the
# 7-digit local forms "555-2013", "555 2013", "5552013", with any extension ("x89", "ext. 7": without it the
# letters after the number stopped the mask and the whole number showed). One mask, page and export alike.
_PHONE = re.compile(r"(?<![\w$])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s./-]?)?\d{3}[\s.-]?\d{4}"
                    r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?![\w]|[.,]\d)", re.I)
# A money amount a reviewer must read ("$1,234.56", "1234.56", "USD 1,234", "1.234,56 €", "2250 dollars"): kept
# whole, so the digit patterns below never hide part of it ("$[hidden].56" said nothing; REC-2 hides identity, not
# amounts).
_AMOUNT = re.compile(
    r"(?<![\w.,/-])(?:"
    r"(?:\$|US\$|USD\s?|€)\s?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:\.\d{3})+(?=,\d{2})|\d+)(?:[.,]\d{2})?"
    r"|(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}"
    r"|\d{1,3}(?:,\d{3})+"
    r"|\d{1,3}(?:\.\d{3})*,\d{2}"
    # "2250 dollars": the currency's name says it is an amount, not a ZIP, last four or account number.
    r"|\d+(?=\s?(?i:dollars?|bucks|usd|d[oó]lares)\b)"
    r")(?!\d|[.,/-]\d)")
# An amount's place while the masks run: NUL (dropped from the text first) around letters, so no digit pattern
# can reach it.
_KEPT = re.compile("\x00([a-j]+)\x00")
_DIGITS_AS_LETTERS = str.maketrans("0123456789", "abcdefghij")
_LETTERS_AS_DIGITS = str.maketrans("abcdefghij", "0123456789")
_MONTH_NAMES = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
                r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
                r"septiembre|setiembre|octubre|noviembre|diciembre)")
# A date written with its month's name ("March 14, 1979", "2 June 1981", "14 de marzo de 1979"): whole, as an agent
# reads it ("[date of birth]"); the year alone masked left the birthday readable.
_WORDED_DATES = (
    re.compile(r"\b" + _MONTH_NAMES + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:of\s+)?\d{2,4}\b", re.I),
    re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+|de\s+)?" + _MONTH_NAMES + r",?\s+(?:del?\s+)?\d{2,4}\b", re.I),
)
_PATTERNS = (
    re.compile(r"https?://\S*/(?:pay|p|checkout)/\S+", re.I),  # pay-link tokens
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # emails
    _PHONE,
    re.compile(r"(?<!\w)\+?\d[\d\s().-]{8,}\d(?!\w)"),  # other long digit runs
    re.compile(r"(?<!\d)\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}(?!\d)"),  # dates (dates of birth)
    *_WORDED_DATES,
    re.compile(r"(?<![\w-])(?:[A-Z]{2,5}-)?\d{4,}(?![\w-])"),  # ZIPs, last-4s, account refs
)

# The intent the NLU gives an answer to an identity question (data/nlu: inform_identity).
IDENTITY_INTENT = "inform_identity"
IDENTITY_ANSWER = "[identity answer]"
# What an agent must not read, each with the label shown in its place. Order matters: a date before the digit runs
# it contains, an account reference before its digits.
_AGENT_PATTERNS = (
    (re.compile(r"(?<!\d)\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}(?!\d)"), "[date of birth]"),
    *((pattern, "[date of birth]") for pattern in _WORDED_DATES),
    (re.compile(r"(?<!\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:19|20)\d{2}(?!\d)"), "[date of birth]"),
    (re.compile(r"\b[A-Za-z]{2,5}-?\d{4,10}\b"), "[account number]"),
    (re.compile(r"(?<!\d)\d{3}[- ]?\d{2}[- ]?\d{4}(?!\d)"), "[SSN]"),
    (re.compile(r"(?<![\d$])(?<!\d[.,])\d{5}(?:-\d{4})?(?![\d]|[.,]\d)"), "[ZIP code]"),
    # Not the last four of a phone number ("555-0100", "312-555-0148"): an attorney's or a callback number is no
    # identity factor, and the agent needs to read it (CEASE-2, HO-1).
    (re.compile(r"(?<![\d$])(?<!\d[.,])(?<!\d\d\d-)(?<!\d\d\d\.)\d{4}(?![\d]|[.,]\d)"),
     "[SSN last four]"),
)


def for_review(text: str | None) -> str:
    """The text with identifying details masked; idempotent."""
    masked = redact_payment_data(text or "").text.replace("\x00", "")
    amounts: list[str] = []

    def keep(match: re.Match[str]) -> str:
        amounts.append(match.group())
        return "\x00" + str(len(amounts) - 1).translate(_DIGITS_AS_LETTERS) + "\x00"

    masked = _AMOUNT.sub(keep, masked)
    for pattern in _PATTERNS:
        masked = pattern.sub(MASK, masked)
    return _KEPT.sub(lambda m: amounts[int(m.group(1).translate(_LETTERS_AS_DIGITS))], masked)


def for_agent(text: str | None, *, identity_answer: bool = False) -> str:
    """A debtor's message as an agent may read it (HO-1, ID-2): anything that looks like a date of birth, an SSN or
    its last four, a ZIP or an account number is replaced by what it is ("[date of birth]"). An answer to an
    identity question (`identity_answer`) shows only the kinds of answer it held, or "[identity answer]": its
    words may give a factor away in a form no pattern knows ("fourteenth of March"). Idempotent."""
    masked, found = labelled(text)
    if not identity_answer or _only_labels(masked):
        return masked
    return " ".join(found) if found else IDENTITY_ANSWER


def labelled(text: str | None) -> tuple[str, tuple[str, ...]]:
    """The text with every factor-looking value replaced by what it is, and those labels once each, in order
    ("[date of birth]", "[SSN last four]"...): the one list of what looks like an identity factor."""
    masked = redact_payment_data(text or "").text
    found: list[str] = []
    for pattern, label in _AGENT_PATTERNS:
        if pattern.search(masked):
            found.append(label)
            masked = pattern.sub(label, masked)
    return masked, tuple(dict.fromkeys(found))


def _only_labels(text: str) -> bool:
    return re.fullmatch(r"\s*(?:\[[a-zA-Z ]+\]\s*)+", text) is not None

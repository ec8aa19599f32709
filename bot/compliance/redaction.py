"""PCI-2: redact card data and SSNs from a debtor's message before it is stored, logged or sent to the NLU.

Pure Python, stdlib only. The gateway calls ``redact`` on every inbound message first and uses only its result.

API
---
``redact(text, carry="") -> Redaction``
    ``Redaction.text``: the message with every finding replaced by ``REDACTED`` ("[REDACTED]").
    ``Redaction.kinds``: what was found, in the order of ``KINDS`` ("card", "expiry", "cvv", "ssn"); ``()`` if
    nothing was. ``Redaction.redact_previous_tail``: this message's leading digits completed a card number begun
    at the end of the previous message, so the caller must rewrite that stored message with
    ``redact_trailing_digits(previous_text)``. ``Redaction.carry``: digits (at most 18, never a complete card
    number) to pass as ``carry`` with the next message of the same conversation; "" if the message does not end
    in digits. Never log it: it can be part of a card number.
``carry_of(redacted_text) -> str``: the same carry, worked out again from a message's redacted text as stored
    (the gateway does this with the previous stored message, so that no worker has to remember it).
``redact_trailing_digits(text) -> str``: ``text`` with its trailing digit run replaced by ``REDACTED``.
``contains_card_number(text) -> bool``: whether ``text`` holds a card number by the rule below (PCI-3 scans).
``luhn_valid(digits) -> bool``: the Luhn checksum of a string of decimal digits (any length).
``is_calendar_date(run) -> bool``: whether a digit run is a date ("02/02/1970"), which a split card never joins.

What is redacted
----------------
* Card numbers (after Presidio's CreditCardRecognizer: a permissive pattern, then strip separators and Luhn-check).
  A *digit run* is digits joined by at most 4 separator characters each: whitespace, dashes (ASCII and Unicode),
  dots, slashes, underscores and invisible characters (zero-width space/joiners, soft hyphen). A run is a card
  run when any 13-19 digit window of it is Luhn-valid, so a number embedded in other digits is still found; the
  whole run is then redacted, so no digit of the number survives whatever the grouping.
* Expiry and CVV beside a card: the next and previous digit runs (up to 2 each side, each starting within 30
  characters of the card or of the one before it) that hold an expiry (MM/YY, MM-YYYY, "12 27"...) or a 3-4 digit
  group. Every digit group in such a run is redacted; keywords are kept ("exp [REDACTED]").
* Expiry and CVV named by a keyword anywhere, even with no card in the message (the card may have come in the
  previous message): "exp/expires/expiry/expiration/valid thru 12/27", "exp 1227"; "cvv/cvc/csc/security code
  123". A full date ("expires 12/31/2024") is not an expiry.
* SSNs: "123-45-6789", "123 45 6789", "123.45.6789" anywhere; a run of exactly 9 digits only within 30 characters
  of "SSN", "SS#", "social (security)", "soc sec" or "ITIN". A bare 9-digit number is left alone: it is as likely a
  ZIP+4, a routing number or a reference. A 4-digit "last four" is never redacted on its own.
* Split messages: digits the previous message's words call a case number ("case number 24-12345") carry nothing:
  a bankruptcy case number repeated at the question is not the end of a card (CEASE-3). Otherwise, if the previous
  message ended in a digit run (``carry``) and this one begins with one and
  together they hold a Luhn-valid 13-19 digit window crossing the join, this message's leading run is redacted
  and ``redact_previous_tail`` is set. A leading run that is a calendar date ("02/02/1970", month 1-12, day 1-31)
  is an answer to a question (date of birth), not the end of a card number, and is not joined.

Not covered (known limits)
--------------------------
* A card number split so that its second part, with what follows, reads as a calendar date ("4111 1111 1111"
  then "11.11.25") is not joined; it needs a debtor typing separators inside a four-digit group.
* A bare case number with no case words, typed twice in a row ("24-12345", "24-12345"), can still read as a card
  split over the two (when a window across the join passes Luhn): only the words tell it from a card's first half.
* A card number in 3 or more messages: only the join of two consecutive messages is checked; ``carry`` holds
  the previous message's own trailing digits, not earlier ones.
* If the first fragment holds a Luhn-valid window by itself, it is redacted as a card on its own, carries
  nothing, and the few digits that finish the number in the next message are kept (never a whole number).
* The previous fragment (at most 18 digits, never a whole number) has already reached the NLU by the time the next
  message completes it. The gateway rewrites the stored message and has Rasa rewrite it in its tracker store
  (bot/gateway/pipeline.py ``_redact_previous_in_rasa``); what Rasa's NLU saw at the time cannot be unseen.
* Numbers written in words, or with commas, parentheses, "+" or more than 4 characters between digits.
* False positives are accepted (compliance first). Each 13-19 digit window passes Luhn 1 time in 10, and every
  window of a run is checked, so a non-card run of 13-17 digits (a bank account, a tracking number, or a phone
  number and ZIP joined by a space, "555 555 0101 90210") is redacted about half the time. Shorter numbers
  (phones, dates, amounts, references, ZIPs, last four) are never taken for cards.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass

RULE_ID = "PCI-2"
REDACTED = "[REDACTED]"
KINDS = ("card", "expiry", "cvv", "ssn")

CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19
# A carry of 18 digits is never a whole card number by itself, yet enough to complete one with 1 more digit.
MAX_CARRY_DIGITS = CARD_MAX_DIGITS - 1
NEARBY_CHARS = 30
MAX_NEARBY_RUNS = 2  # per side: an expiry and a CVV

_DASH = r"\-\u2010-\u2015\u2212"
# Invisible characters are separators too, so a pasted number with a zero-width space still matches.
_SEP = rf"[\s{_DASH}./_\u00ad\u200b-\u200d\u2060\ufeff]"
MAX_SEPARATOR_CHARS = 4
# Card numbers start with a network's digit: 2 and 5 Mastercard, 3 Amex/Diners/JCB, 4 Visa, 6 Discover/UnionPay.
# Requiring it halves the chance that an unrelated run of digits (a date and a ZIP typed together) passes Luhn.
CARD_FIRST_DIGITS = frozenset({2, 3, 4, 5, 6})
_GLUED_TO_LETTERS = re.compile(r"[^\W\d_][-_.]?\Z")
# "case number 24-12345", "case no. 2412345", "número de caso 24-12345": digits the words call a case number (CEASE-3)
# are a reference, never the start of a card, so they carry nothing (a repeat of them once joined as a card).
_CASE_LABEL = re.compile(r"\b(?:case|caso|docket)\s*(?:(?:number|num|no)\b\.?|#|n[uú]mero\b)?\s*(?:is|es|:)?\s*#?\s*\Z",
                         re.IGNORECASE)
_DATE = re.compile(r"(\d{1,4})[/.-](\d{1,2})[/.-](\d{2,4})\Z")
_RUN = re.compile(rf"\d(?:{_SEP}{{0,{MAX_SEPARATOR_CHARS}}}\d)*")
_ONLY_SEPS = re.compile(rf"{_SEP}*")

_MONTH = r"(?:1[0-2]|0?[1-9])"
_YEAR = r"(?:(?:19|20)\d{2}|\d{2})"
_NOT_MORE_DIGITS = rf"(?![/.{_DASH}]?\d)"  # "12/31/2024" is a date, not an expiry
_EXPIRY_TOKEN = re.compile(rf"(?<!\d){_MONTH}(?:\s?[/.{_DASH}]\s?|\s){_YEAR}(?!\d)")
_FILLER = rf"(?:\s+(?:number|num|no\.?|code|date)\b)?[\s:=#{_DASH}]*(?:(?:is|of|on)\s+)?"
_EXPIRY_LABELLED = re.compile(
    rf"(?<![a-z])(?:exp(?:iry|ires|ired|iration|\.)?|valid\s+(?:thru|through|until)|good\s+(?:thru|through))"
    rf"{_FILLER}(?P<value>{_MONTH}(?:\s?[/.{_DASH}]\s?|\s)?{_YEAR}){_NOT_MORE_DIGITS}",
    re.IGNORECASE,
)
_CVV_LABELLED = re.compile(
    rf"(?<![a-z])(?:cvv2?|cvc2?|cvn|csc|security\s+code|card\s+code|verification\s+(?:code|value))(?![a-z])"
    rf"{_FILLER}(?P<value>\d{{3,4}}){_NOT_MORE_DIGITS}",
    re.IGNORECASE,
)
_SSN_SEP = rf"[\s.{_DASH}]"
_SSN_FORMATTED = re.compile(rf"(?<!\d)\d{{3}}{_SSN_SEP}\d{{2}}{_SSN_SEP}\d{{4}}(?!\d)")
_SSN_KEYWORD = re.compile(r"(?<![a-z])(?:ssn|ss\s?#|social(?:\s+security)?|soc\.?\s?sec|itin)(?![a-z])", re.I)
_SSN_DIGITS = 9
# A digit group inside a run beside a card: digits joined by non-space separators ("x" masks expiries).
_GROUP = re.compile(r"\d(?:[^\sx]*\d)?")
# Luhn doubles every second digit from the right; a doubled digit over 9 counts its digit sum.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


@dataclass(frozen=True)
class Redaction:
    text: str  # the message with every finding replaced by [REDACTED]
    kinds: tuple[str, ...]  # subset of KINDS, in that order; empty when nothing was found
    redact_previous_tail: bool  # the previous message's trailing digit run completed a card number here
    carry: str  # digits to pass with the next message of this conversation ("" if none)


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of ``digits`` (decimal digits only, any length; False for "" or other characters)."""
    if not digits or not digits.isdecimal():
        return False
    total = sum(_DOUBLED[int(ch)] if pos % 2 else int(ch) for pos, ch in enumerate(reversed(digits)))
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """PCI-3: whether ``text`` holds a card number by the PCI-2 rule (used to scan the database and logs)."""
    return any(_has_card_window(_digits(m.group())) for m in _RUN.finditer(text))


def redact_trailing_digits(text: str) -> str:
    """``text`` with its trailing digit run replaced by REDACTED (the caller's rewrite of the previous message)."""
    run = _trailing_run(text)
    if run is None:
        return text
    return text[: run.start()] + REDACTED + text[run.end():]


def redact(text: str, carry: str = "") -> Redaction:
    """PCI-2: redact card numbers, their expiry and CVV, and SSNs. See the module docstring."""
    runs = list(_RUN.finditer(text))
    run_digits = [_digits(m.group()) for m in runs]
    card_runs = [i for i, digits in enumerate(run_digits) if _has_card_window(digits)]

    # PCI-2 across split messages: only windows that cross the join count; the rest were checked one by one.
    redact_previous_tail = False
    carried = _digits(carry)[-MAX_CARRY_DIGITS:]
    # A message that opens with a date ("02/02/1970") is answering a question, not finishing a card number.
    if carried and runs and _ONLY_SEPS.fullmatch(text, 0, runs[0].start()) and not is_calendar_date(runs[0].group()):
        joined = carried + run_digits[0][:MAX_CARRY_DIGITS]
        if _has_card_window(joined, join=len(carried)):
            redact_previous_tail = True
            if not card_runs or card_runs[0] != 0:
                card_runs.insert(0, 0)

    findings: list[tuple[int, int, str]] = [(runs[i].start(), runs[i].end(), "card") for i in card_runs]
    cards = _Spans([(runs[i].start(), runs[i].end()) for i in card_runs])

    labelled = [(m.start("value"), m.end("value"), "expiry") for m in _EXPIRY_LABELLED.finditer(text)]
    labelled += [(m.start("value"), m.end("value"), "cvv") for m in _CVV_LABELLED.finditer(text)]
    labelled += [(m.start(), m.end(), "ssn") for m in _SSN_FORMATTED.finditer(text)]
    labelled += _ssns_by_keyword(text, runs, run_digits)
    # Inside a card run the card label is the true one.
    labelled = [f for f in labelled if not cards.contains(f[0], f[1])]
    findings += labelled

    card_set = set(card_runs)
    labelled_spans = _Spans([(s, e) for s, e, _ in labelled])
    for i in card_runs:
        for step in (1, -1):
            findings += _beside_card(text, runs, card_set, i, step, labelled_spans)

    redacted = _replace(text, [(s, e) for s, e, _ in findings])
    found = {kind for _, _, kind in findings}
    return Redaction(redacted, tuple(k for k in KINDS if k in found), redact_previous_tail, carry_of(redacted))


def carry_of(redacted_text: str) -> str:
    """The carry ``redact`` returned for the message whose redacted text this is: its trailing digits that could
    begin a card number finished in the next message ("" if none)."""
    return "".join(str(d) for d in _digits(_carry_part(redacted_text)))[-MAX_CARRY_DIGITS:]


def is_calendar_date(run: str) -> bool:
    """Whether a digit run is a calendar date (M/D/Y, D/M/Y or Y-M-D, 2- or 4-digit years 1900-2099). Only a real
    date is exempt from the join with the previous message, so "0000.8/00" finishing a card number is not."""
    match = _DATE.match(run)
    if match is None:
        return False
    first, second, third = match.groups()

    def is_year(part: str) -> bool:
        return len(part) == 2 or (len(part) == 4 and 1900 <= int(part) <= 2099)

    if len(first) == 4:
        return is_year(first) and 1 <= int(second) <= 12 and 1 <= int(third) <= 31 and len(third) <= 2
    if len(first) > 2:
        return False
    month_or_day = (int(first), int(second))
    return (is_year(third) and all(1 <= n <= 31 for n in month_or_day)
            and any(n <= 12 for n in month_or_day))


def _digits(s: str) -> list[int]:
    # Any Unicode decimal digit counts (fullwidth, Arabic-Indic...): a card number typed with them is still one.
    return [int(ch) for ch in s if ch.isdecimal()]


def _has_card_window(digits: list[int], join: int | None = None) -> bool:
    """Whether some 13-19 digit window of ``digits`` is Luhn-valid (crossing index ``join`` if given).

    Linear: prefix sums give each window's Luhn sum in O(1), and each end has at most 7 window lengths."""
    n = len(digits)
    if n < CARD_MIN_DIGITS:
        return False
    # even[k]: sum of digits[:k] with even positions plain and odd ones doubled; odd[k] the other way round.
    # A window ending at position p doubles exactly the positions of the other parity than p.
    even = [0] * (n + 1)
    odd = [0] * (n + 1)
    for k, d in enumerate(digits):
        plain, doubled = (d, _DOUBLED[d]) if k % 2 == 0 else (_DOUBLED[d], d)
        even[k + 1] = even[k] + plain
        odd[k + 1] = odd[k] + doubled
    for end in range(CARD_MIN_DIGITS, n + 1):
        if join is not None and end <= join:
            continue
        sums = even if (end - 1) % 2 == 0 else odd
        first = max(0, end - CARD_MAX_DIGITS)
        last = end - CARD_MIN_DIGITS if join is None else min(end - CARD_MIN_DIGITS, join - 1)
        for start in range(first, last + 1):
            if digits[start] in CARD_FIRST_DIGITS and (sums[end] - sums[start]) % 10 == 0:
                return True
    return False


def _trailing_run(text: str) -> re.Match[str] | None:
    last = next(iter(deque(_RUN.finditer(text), maxlen=1)), None)  # only the last run is wanted
    if last is not None and _ONLY_SEPS.fullmatch(text, last.end()):
        return last
    return None


def _carry_part(text: str) -> str:
    """The trailing digits that could begin a card number finished in the next message. Digits glued to letters
    ("SET-100002", "AB123456") end a reference, so that first group is left out."""
    tail = _trailing_run(text)
    if tail is None or _CASE_LABEL.search(text, 0, tail.start()):
        return ""
    if _GLUED_TO_LETTERS.search(text, 0, tail.start()):
        separator = re.search(_SEP, tail.group())
        return tail.group()[separator.end():] if separator else ""
    return tail.group()


class _Spans:
    """Containment and overlap queries over a list of (start, end) spans, in O(log n) each."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self.starts = [s for s, _ in spans]
        self.max_end = []  # max_end[i]: the furthest end among spans[: i + 1]
        furthest = -1
        for _, end in spans:
            furthest = max(furthest, end)
            self.max_end.append(furthest)

    def _furthest_end(self, starting_before: int) -> int:
        i = bisect_left(self.starts, starting_before)
        return self.max_end[i - 1] if i else -1

    def contains(self, start: int, end: int) -> bool:
        return self._furthest_end(start + 1) >= end

    def overlaps(self, start: int, end: int) -> bool:
        return self._furthest_end(end) > start


def _ssns_by_keyword(text: str, runs: list[re.Match[str]], run_digits: list[list[int]]) -> list[tuple[int, int, str]]:
    """PCI-2 (SSN): a run of exactly 9 digits with an SSN keyword within NEARBY_CHARS before or after it."""
    margin = NEARBY_CHARS + 40  # room for the keyword itself ("social security")
    found = []
    for m, digits in zip(runs, run_digits, strict=True):
        if len(digits) != _SSN_DIGITS:
            continue
        before = _SSN_KEYWORD.finditer(text, max(0, m.start() - margin), m.start())
        after = _SSN_KEYWORD.finditer(text, m.end(), m.end() + margin)
        if any(k.end() >= m.start() - NEARBY_CHARS for k in before) or any(
                k.start() <= m.end() + NEARBY_CHARS for k in after):
            found.append((m.start(), m.end(), "ssn"))
    return found


def _beside_card(text: str, runs: list[re.Match[str]], card_set: set[int], i: int, step: int,
                 labelled: _Spans) -> list[tuple[int, int, str]]:
    """PCI-2: the expiry and CVV next to card run ``i``, walking runs forward (step 1) or back (step -1)."""
    found: list[tuple[int, int, str]] = []
    anchor = runs[i].end() if step == 1 else runs[i].start()
    taken = 0
    k = i + step
    while 0 <= k < len(runs) and taken < MAX_NEARBY_RUNS:
        run = runs[k]
        gap = run.start() - anchor if step == 1 else anchor - run.end()
        if gap > NEARBY_CHARS or k in card_set:  # another card has its own neighbourhood
            break
        pieces = _expiry_cvv_pieces(run.group(), run.start())
        if pieces:
            found += [p for p in pieces if not labelled.overlaps(p[0], p[1])]
            anchor = run.end() if step == 1 else run.start()
            taken += 1
        k += step
    return found


def _expiry_cvv_pieces(run: str, offset: int) -> list[tuple[int, int, str]]:
    """If a run beside a card holds an expiry or a 3-4 digit group, all its digit groups; else nothing."""
    pieces = [(offset + m.start(), offset + m.end(), "expiry") for m in _EXPIRY_TOKEN.finditer(run)]
    masked = list(run)
    for start, end, _ in pieces:
        masked[start - offset: end - offset] = "x" * (end - start)
    # Every other digit group of the run goes too; "" means it is not reported as a kind of its own.
    groups = [(offset + m.start(), offset + m.end(), "cvv" if 3 <= len(_digits(m.group())) <= 4 else "")
              for m in _GROUP.finditer("".join(masked))]
    if not pieces and not any(kind == "cvv" for _, _, kind in groups):
        return []
    return pieces + groups


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span replaced by REDACTED; overlapping or touching spans become one."""
    if not spans:
        return text
    out = []
    pos = 0
    cur_start, cur_end = -1, -1
    for start, end in sorted(spans):
        if start <= cur_end:
            cur_end = max(cur_end, end)
            continue
        if cur_end >= 0:
            out += [text[pos:cur_start], REDACTED]
            pos = cur_end
        cur_start, cur_end = start, end
    out += [text[pos:cur_start], REDACTED, text[cur_end:]]
    return "".join(out)

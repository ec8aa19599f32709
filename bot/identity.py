"""Right-party verification (ID-1, ID-2, ID-3).

Nothing about a debt is said before the debtor proves who they are with one of the factor sets in
ACCEPTED_FACTOR_SETS: date of birth plus the last four of their SSN plus something that finds the record (the
phone an SMS came from, the account reference or their full name), or date of birth plus ZIP plus the account
reference. Factors are checked together and the answer is only ever "matched" or "not matched": no single
factor is confirmed (ID-2).

The third failed check within 24 hours locks the conversation and every person it was checked against for a
fixed 24 hours from that third failure (ID-3). A locked person answers exactly as a record that does not exist,
so the lockout tells a stranger nothing.

Identity checks are also rate limited per account (AttemptLimit, RATE_LIMIT_VERIFICATION, README "Security"):
every check, whatever its outcome, counts against each locator it names (the account reference, the phone, the
full name), keyed by a hash of the locator as given, before anything is looked up. So the limit holds however many
conversations (sender ids) a caller opens, and being refused says nothing about whether such a record exists.
The gateway cannot do this: it sees text, and only this check knows which account a message is about.
"""

from __future__ import annotations

import enum
import hashlib
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import audit, language, wording
from bot.accounts import opening_disclosure
from bot.compliance import sensitive_requests
from bot.compliance.lockout import lock_ends
from bot.db.models import Account, Conversation, Debtor, VerificationAttempt
from bot.payments import autopay, ways

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
} | {  # Spanish (issue 23): "14 de marzo de 1979"
    name: number
    for number, names in enumerate(
        [
            ("enero", "ene"), ("febrero",), ("marzo",), ("abril", "abr"), ("mayo",), ("junio",), ("julio",),
            ("agosto", "ago"), ("septiembre", "setiembre"), ("octubre",), ("noviembre",), ("diciembre", "dic"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month_name>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"['\u2019]?(?P<year>\d{4}|\d{2})"  # "March 14th '79"
_DATE_PATTERNS = [
    # 1979-03-14 (ISO)
    re.compile(r"\b(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\b"),
    # 03/14/1979, 3-14-79, 3.14.1979 (US order: month first)
    re.compile(r"\b(?P<month>\d{1,2})[-/.](?P<day>\d{1,2})[-/.]" + _YEAR + r"\b"),
    # March 14 1979, mar 14th, 79
    re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+(?:of\s+)?" + _YEAR + r"\b", re.IGNORECASE),
    # 14 March 1979, 14th of march 1979, 14 de marzo de 1979
    re.compile(r"\b" + _DAY + r"\s+(?:of\s+|de\s+)?" + _MONTH + r",?\s+(?:de(?:l)?\s+)?" + _YEAR + r"\b",
               re.IGNORECASE),
    # 03141979 (eight digits, US order)
    re.compile(r"\b(?P<month>\d{2})(?P<day>\d{2})(?P<year>(?:19|20)\d{2})\b"),
]
_ACCOUNT_REF = re.compile(r"\b([A-Za-z]{2,4}-?\d{4,10})\b")
_NAME_PREFIX = re.compile(
    r"^\s*(?:hi|hello|hey)?[\s,]*(?:my\s+(?:full\s+)?name\s+is|name\s*(?:is|:)?|i\s*am|i'?m|it'?s|this\s+is)\s+",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*)+$")


class Factor(enum.Enum):
    """One kind of verification factor."""

    DOB = "dob"
    SSN_LAST4 = "ssn_last4"
    ZIP = "zip"
    ACCOUNT_REF = "account_ref"
    FULL_NAME = "full_name"
    PHONE = "phone"  # the number an SMS came from, known to the channel rather than typed


# ID-2: the only factor sets that verify; a caller may give more, never less. Each pairs two knowledge factors
# with something that finds the record. A ZIP is printed on every envelope and a phone or a name finds the
# record without knowing anything, so ZIP counts as the second factor only beside the account reference, as in
# the rule book's "DOB + ZIP + account reference"; DOB + ZIP + phone and DOB + ZIP + name do not verify.
ACCEPTED_FACTOR_SETS: tuple[frozenset[Factor], ...] = (
    frozenset({Factor.DOB, Factor.SSN_LAST4, Factor.PHONE}),
    frozenset({Factor.DOB, Factor.SSN_LAST4, Factor.ACCOUNT_REF}),
    frozenset({Factor.DOB, Factor.SSN_LAST4, Factor.FULL_NAME}),
    frozenset({Factor.DOB, Factor.ZIP, Factor.ACCOUNT_REF}),
)


def is_sufficient(given: Iterable[Factor]) -> bool:
    """Whether these kinds of factor, all matching, would verify someone (ID-2)."""
    kinds = frozenset(given)
    return any(accepted <= kinds for accepted in ACCEPTED_FACTOR_SETS)


class InsufficientFactors(ValueError):
    """verify() was given fewer factors than any accepted set: a caller's bug, so nothing was checked."""


@dataclass(frozen=True)
class Factors:
    """Verification factors, from one message or gathered by the form. Never logged or stored."""

    dob: date | None = None
    ssn_last4: str | None = None
    zip: str | None = None
    account_ref: str | None = None
    full_name: str | None = None
    phone: str | None = None

    def kinds(self) -> frozenset[Factor]:
        return frozenset(Factor(f.name) for f in fields(self) if getattr(self, f.name))


def parse_dob(text: str, today: date | None = None, language: str | None = None) -> date | None:
    """A plausible date of birth in an answer to the date question, else None. Numeric dates are read month first,
    or day first in a Spanish conversation (LANG-1: "14/03/1979" is how Spanish speakers write it, and the Spanish
    question asks for it that way); an order the numbers rule out is never used ("22/03/1976" can only be day
    first, "03/22/1976" only month first). "031479" alone is read as six digits of a date (MMDDYY, DDMMYY in
    Spanish), only here, where a date was asked for: in free text six digits may be anything."""
    today = today or date.today()
    day_first = language == wording.SPANISH
    six = _SIX_DIGITS.fullmatch(text)
    if six:
        first, second, year = (int(group) for group in six.groups())
        return _plausible(year, first, second, today, day_first)
    found = _find_date(_digits_for_words(text), today, day_first=day_first)
    return found[0] if found else None


_SIX_DIGITS = re.compile(r"\s*(\d{2})(\d{2})(\d{2})\s*")
# "march fourteenth 1979": day words as digits, so the month-name patterns read them.
_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_DAY_WORDS = {word: n for n, word in enumerate(
    _UNITS + ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
              "eighteenth", "nineteenth", "twentieth"], start=1)} | {
    f"twenty{sep}{unit}": 20 + n for n, unit in enumerate(_UNITS, start=1) for sep in (" ", "-", "")} | {
    "thirtieth": 30, "thirty first": 31, "thirty-first": 31, "thirtyfirst": 31}
_DAY_WORD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _DAY_WORDS), key=len, reverse=True)) + r")\b",
                       re.IGNORECASE)


def _digits_for_words(text: str) -> str:
    return _DAY_WORD.sub(lambda m: str(_DAY_WORDS[m.group(1).lower()]), text)


def _plausible(year: int, first: int, second: int, today: date, day_first: bool) -> date | None:
    """The date of two numbers in the conversation's order, or the other order when only that one exists."""
    if year < 100:
        # Two-digit years: nobody chatting was born in the future.
        year += 2000 if year <= today.year % 100 else 1900
    orders = [(second, first), (first, second)] if day_first else [(first, second), (second, first)]
    for month, day in orders:
        try:
            value = date(year, month, day)
        except ValueError:
            continue
        if date(1900, 1, 1) <= value <= today:
            return value
    return None


def _find_date(text: str, today: date, day_first: bool = False) -> tuple[date, tuple[int, int]] | None:
    for index, pattern in enumerate(_DATE_PATTERNS):
        for match in pattern.finditer(text):
            parts = match.groupdict()
            if parts.get("month") and index > 0:  # numeric, not ISO: either order the numbers allow (parse_dob)
                value = _plausible(int(parts["year"]), int(parts["month"]), int(parts["day"]), today, day_first)
                if value is not None:
                    return value, match.span()
                continue
            month = _MONTHS[parts["month_name"].lower()] if parts.get("month_name") else int(parts["month"])
            year = int(parts["year"])
            if year < 100:
                # Two-digit years: nobody chatting was born in the future.
                year += 2000 if year <= today.year % 100 else 1900
            try:
                value = date(year, month, int(parts["day"]))
            except ValueError:
                continue
            if date(1900, 1, 1) <= value <= today:
                return value, match.span()
    return None


# ID-2: a figure its words mark as money ("$1200", "1200 dollars", "I paid 1200", "pagué 1200") is an amount, never
# an SSN's last four or a ZIP: no check takes it as one, so the intake may store it as typed
# (bot/records/identity_answers.py). Only these markers: a bare "1200" stays an answer (compliance first).
_MONEY = r"\d[\d,]*(?:\.\d\d)?"
_AMOUNT = re.compile(
    rf"\$\s?{_MONEY}(?![\d/-])"
    rf"|(?<![\d/.-]){_MONEY}\s?(?:dollars?|d[oó]lares|bucks|usd)\b"
    rf"|\b(?:paid|pay|sent|owe|pagu[eé]|pago|mand[eé]|envi[eé]|debo)\s+(?:you\s+|u\s+|les?\s+)?{_MONEY}(?![\d/-])",
    re.IGNORECASE)


def without_amounts(text: str) -> str:
    """`text` with every figure its words mark as money taken out (ID-2: never read as a factor)."""
    return _AMOUNT.sub(" ", text)


def extract_factors(text: str, today: date | None = None) -> Factors:
    """Every verification factor a free-text message contains ("dob 3/14/79 zip 90210" gives two)."""
    remaining = text
    dob = None
    found = _find_date(text, today or date.today())
    if found:
        dob, (start, end) = found
        remaining = text[:start] + " " + text[end:]
    account_ref = None
    ref_match = _ACCOUNT_REF.search(remaining)
    if ref_match:
        account_ref = ref_match.group(1).upper()
        remaining = remaining[: ref_match.start()] + " " + remaining[ref_match.end() :]
    zip_code = None
    ssn_last4 = None
    remaining = without_amounts(remaining)  # "I paid 1200" gives no SSN's last four
    zip_match = re.search(r"(?<![\d/.-])(\d{5})(?:-\d{4})?(?![\d/.-])", remaining)
    if zip_match:
        zip_code = zip_match.group(1)
        remaining = remaining[: zip_match.start()] + " " + remaining[zip_match.end() :]
    ssn_match = re.search(r"(?<![\d/.-])(\d{4})(?![\d/.-])", remaining)
    if ssn_match:
        ssn_last4 = ssn_match.group(1)
    return Factors(dob=dob, ssn_last4=ssn_last4, zip=zip_code, account_ref=account_ref)


def parse_secret(text: str) -> tuple[str, str] | None:
    """The second factor: ("ssn_last4", "1234") for four digits or ("zip", "90210") for a ZIP."""
    factors = extract_factors(text)
    if factors.ssn_last4 and not factors.zip:
        return "ssn_last4", factors.ssn_last4
    if factors.zip and not factors.ssn_last4:
        return "zip", factors.zip
    return None


def parse_locator(text: str) -> str | None:
    """What finds the account on web chat: an account reference, or a first and last name."""
    factors = extract_factors(text)
    if factors.account_ref:
        return factors.account_ref
    name = _NAME_PREFIX.sub("", text).strip().strip(".!")
    if _NAME.match(name) and len(name) <= 100:
        return " ".join(word.capitalize() for word in name.split())
    return None


# Factors given before the check asks for them (ID-2). A message the NLU read as something else ("dob 03/14/1985,
# what do I owe?") counts only the factors it labels: "I paid 1500 on 03/14/2026" names no birth date and no SSN,
# and a factor guessed from it would spend one of the debtor's three tries (ID-3). A message read as identity details
# ("03/14/1985", "I'm Jordan Rivera") also counts what the form would take as an answer, except a bare four or five
# digits, which are as likely an amount.
_CONNECTOR = r"\s*(?:is|was|are|es|son|:|-|=|#)?\s*$"
_DOB_LABEL = re.compile(r"(?:\bd\.?o\.?b\.?|\bdate\s+of\s+birth|\bbirth\s*(?:date|day)|\bb-?day|\bborn(?:\s+on)?|"
                        r"\bfecha\s+de\s+nacimiento|\bnac[ií](?:\s+el)?)" + _CONNECTOR, re.IGNORECASE)
_SOCIAL = r"(?:ssn|social(?:\s+security)?(?:\s+(?:number|no\.?|#))?)"
_SSN_LABEL = re.compile(r"(?:\b" + _SOCIAL + r"|\blast\s*(?:4|four)(?:\s+digits)?(?:\s+(?:of|on)\s+(?:my\s+)?"
                        + _SOCIAL + r")?|\bseguro\s+social|\b[uú]ltimos\s+(?:4|cuatro)(?:\s+d[ií]gitos)?"
                        r"(?:\s+de(?:l|\s+mi)\s+seguro\s+social)?)" + _CONNECTOR, re.IGNORECASE)
_ZIP_LABEL = re.compile(r"(?:\bzip(?:\s*code)?|\bpostal\s+code|\bc[oó]digo\s+postal)" + _CONNECTOR, re.IGNORECASE)
_REF_LABEL = re.compile(r"(?:\baccount(?:\s+(?:number|no\.?|#|ref(?:erence)?))?|\bacct\.?(?:\s*#)?|"
                        r"\bref(?:erence)?(?:\s+(?:number|no\.?))?|\bcuenta)" + _CONNECTOR, re.IGNORECASE)
_INTRODUCTION = re.compile(
    r"\b(?P<intro>my\s+(?:full\s+)?name\s+is|mi\s+nombre\s+es|me\s+llamo|this\s+is|i\s+am|i'?m|it'?s|soy)\s+"
    r"(?P<name>[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*){1,2})(?=\s*(?:[,.;!?]|$)|\s+(?:and|y|here)\b)",
    re.IGNORECASE)
_ADULT_YEARS = 16  # a debtor is an adult; a date of birth taken unlabelled is at least this long ago
# After "this is", "I'm" or "soy" only capitalised words are a name: "this is about my bill" is not one.
_SAID_NAME = ("my", "mi", "me")
_SSN_TAIL = re.compile(r"(?<![\d/.-])(\d{4})(?![\d/.-])")  # labelled four digits, no longer run
_ZIP_CODE = re.compile(r"(?<![\d/.-])(\d{5})(?:-\d{4})?(?![\d/.-])")


def _labelled(text: str, pattern: re.Pattern[str], label: re.Pattern[str]) -> str | None:
    """The last match of `pattern` in `text` that directly follows `label` ("zip 90210", "last 4 of ssn is 1234")."""
    found = None
    for match in pattern.finditer(text):
        if label.search(text[: match.start()]):
            found = match.group(1)
    return found


def _introduced_name(text: str) -> str | None:
    match = _INTRODUCTION.search(text)
    if match is None:
        return None
    name = match.group("name")
    said = match.group("intro").lower().startswith(_SAID_NAME)
    if not said and not all(word[0].isupper() for word in name.split()):
        return None
    return " ".join(word.capitalize() for word in name.split())


def volunteered_factors(text: str, *, identity_details: bool = False, today: date | None = None,
                        language: str | None = None) -> Factors:
    """The factors a debtor's message gives before the check asks for them: labelled ones in any message, and with
    `identity_details` (the NLU read the message as such) a date of birth, an account reference or a name as the
    form's own questions would take them. Never a bare run of digits as an SSN tail or a ZIP. A date is read day
    first in a Spanish conversation, as parse_dob reads the form's answer (LANG-1, ID-2)."""
    today = today or date.today()
    day_first = language == wording.SPANISH
    dob = None
    for match in (m for pattern in _DATE_PATTERNS for m in pattern.finditer(text)):
        if _DOB_LABEL.search(text[: match.start()]):
            dob = _find_date(match.group(0), today, day_first=day_first)
            dob = dob[0] if dob else None
            break
    ref = _labelled(text, _ACCOUNT_REF, _REF_LABEL)
    dashed = next((m.group(1) for m in _ACCOUNT_REF.finditer(text) if "-" in m.group(1)), None)
    name = _introduced_name(text)
    if identity_details and dob is None:
        # An unlabelled date is a birth date only alone among the digits ("hi, 03/14/1985"), never beside an amount
        # ("I paid 1500 on 03/14/2026"), and only an adult's.
        found = _find_date(text, today, day_first=day_first)
        if found and not re.search(r"\d", text[: found[1][0]] + text[found[1][1]:]) and \
                found[0] <= today.replace(year=today.year - _ADULT_YEARS, day=min(today.day, 28)):
            dob = found[0]
    if identity_details:
        located = parse_locator(text)
        if located and not is_account_ref(located):
            name = name or located
    return Factors(
        dob=dob,
        ssn_last4=_labelled(text, _SSN_TAIL, _SSN_LABEL),
        zip=_labelled(text, _ZIP_CODE, _ZIP_LABEL),
        account_ref=(ref or dashed or "").upper() or None,
        full_name=name,
    )


def request_words(text: str) -> str | None:
    """What a message asks for around the identity details it volunteers: the message without them, or None when it
    volunteers none, "" when nothing but them. "hi, dob 11/02/1985, what do I owe?" -> "hi, dob, what do I owe?".

    A date and a run of digits outweigh the few words of a request in the NLU's reading, so such a message used to
    read as identity details only, and its request was lost (the debtor asked again after verifying). The details
    are the identity form's business (it takes them from the message as typed, `volunteered_factors`); the request is
    read from the rest. The same factors `volunteered_factors` takes are removed (labelled values and an introduced
    name with its introduction), nothing else: an unlabelled amount or date stays part of the request."""
    spans = [m.span() for pattern in _DATE_PATTERNS for m in pattern.finditer(text)
             if _DOB_LABEL.search(text[: m.start()])]
    for pattern, label in ((_SSN_TAIL, _SSN_LABEL), (_ZIP_CODE, _ZIP_LABEL), (_ACCOUNT_REF, _REF_LABEL)):
        spans += [m.span() for m in pattern.finditer(text) if label.search(text[: m.start()])]
    spans += [m.span() for m in _ACCOUNT_REF.finditer(text) if "-" in m.group(1)]
    introduction = _INTRODUCTION.search(text)
    if introduction is not None and _introduced_name(text):
        spans.append(introduction.span())
    if not spans:
        return None
    kept, end = [], 0
    for start, stop in sorted(spans):
        kept.append(text[end:max(start, end)])
        end = max(end, stop)
    kept.append(text[end:])
    words = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s+", " ", "".join(kept)))
    words = re.sub(r"([,.;:])(?:\s*[,.;:])+", r"\1", words).strip(" ,;:")
    return words if re.search(r"\w", words) else ""  # details alone ("I'm Jordan Rivera."): no request to read


def combine(found: Iterable[Factors]) -> Factors:
    """Factors from several messages, oldest first: a later message's factor replaces an earlier one of its kind."""
    merged: dict[str, object] = {}
    for factors in found:
        merged.update({f.name: getattr(factors, f.name) for f in fields(factors) if getattr(factors, f.name)})
    return Factors(**merged)  # type: ignore[arg-type]


def is_account_ref(locator: str) -> bool:
    """Whether a locator (as parse_locator gives it) is an account reference rather than a name."""
    return bool(_ACCOUNT_REF.fullmatch(locator))


def answers_to_factors(
    *, dob: date | None, secret: str | None, locator: str | None, phone: str | None
) -> Factors:
    """The form's answers as factors: a secret of four digits is the SSN's last four and of five a ZIP; a locator
    is an account reference (as parse_locator gives it) or else a full name."""
    is_ref = bool(locator and is_account_ref(locator))
    return Factors(
        dob=dob,
        ssn_last4=secret if secret and len(secret) == 4 else None,
        zip=secret if secret and len(secret) == 5 else None,
        account_ref=locator.upper() if locator and is_ref else None,
        full_name=locator if locator and not is_ref else None,
        phone=phone,
    )


def completing_locators(given: Iterable[Factor]) -> frozenset[Factor]:
    """The locators (account reference or full name) that, added to these factors, make an accepted set (ID-2).
    Empty when the factors are enough already or when no locator would make them so."""
    kinds = frozenset(given)
    if is_sufficient(kinds):
        return frozenset()
    return frozenset(k for k in (Factor.ACCOUNT_REF, Factor.FULL_NAME) if is_sufficient(kinds | {k}))


@dataclass(frozen=True)
class VerificationResult:
    """All a caller may learn from a check. A failure, whether a factor was wrong, no such record exists or the
    person is locked, is the same FAILED with the same count, so it never tells which (ID-2, ID-3)."""

    status: str  # "verified" | "failed" | "locked" (the conversation is locked) | "throttled" (not checked)
    debtor_id: str | None = None
    account_ids: tuple[str, ...] = ()
    failures: int = 0  # this conversation's failures towards its lock
    tries_left: int = 0  # failed: the checks this conversation has before its own lock (never a person's)
    retry_after: int = 0  # throttled: seconds until these locators may be checked again
    said: tuple[str, ...] = ()  # verified: what was done at once on a request made before it (PLAN-2), to tell them


VERIFIED, FAILED, LOCKED, THROTTLED = "verified", "failed", "locked", "throttled"


def retry_message(tries_left: int, language: str | None = None) -> str:
    """After a failed check (ID-3): how many tries this chat has left, and, for details that may already be
    locked, what to do. The same words whatever the details were: a locked person's details answer as made-up
    ones, so nothing here says whether a record exists (ID-1, DISC-3)."""
    tries = wording.say("verify_tries_one", language) if tries_left == 1 else \
        wording.say("verify_tries_many", language, count=tries_left)
    return wording.say("verify_retry", language, tries=tries)


class AttemptLimit:
    """At most `rate` identity checks ("10/hour") per locator, counted in this process's memory or in Redis
    (shared by every action server) with `redis_url`."""

    NAMESPACE = "settle-id"

    def __init__(self, rate: str, redis_url: str = "") -> None:
        self.item = parse(rate)
        self.strategy = SlidingWindowCounterRateLimiter(storage_from_string(redis_url or "memory://"))

    @staticmethod
    def keys(factors: Factors) -> list[str]:
        """One key per locator given, hashed: the counters hold no reference, phone or name."""
        locators = {"ref": (factors.account_ref or "").upper(), "phone": factors.phone or "",
                    "name": " ".join(_name_parts(factors.full_name)) if factors.full_name else ""}
        return [f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"
                for kind, value in sorted(locators.items()) if value]

    def hit(self, factors: Factors) -> int | None:
        """Count one check against every locator; None if all allow it, else the seconds until they would."""
        keys = self.keys(factors)
        if all(self.strategy.test(self.item, self.NAMESPACE, key) for key in keys):
            for key in keys:
                self.strategy.hit(self.item, self.NAMESPACE, key)
            return None
        resets = [self.strategy.get_window_stats(self.item, self.NAMESPACE, key).reset_time for key in keys]
        return max(1, math.ceil(max(resets) - time.time()))


class IdentityService:
    """Checks identity factors against the ledger's debtor records and keeps the lockout (ID-3)."""

    def __init__(
        self, max_failures: int = 3, lockout: timedelta = timedelta(hours=24), window: timedelta = timedelta(hours=24),
        attempts: AttemptLimit | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.lockout = lockout
        self.window = window
        self.attempts = attempts  # checks per account (the action server always passes one: actions/context.py)

    def _failure_times(
        self, session: Session, now: datetime, *, conversation_id: str | None = None, debtor_id: str | None = None
    ) -> list[datetime]:
        # The conversation's own tally is its rows without a debtor; a person's is theirs from any conversation.
        # The whole history is read (a person has a handful of rows) so the fixed-lock replay is exact.
        query = select(VerificationAttempt.at).where(
            VerificationAttempt.succeeded.is_(False), VerificationAttempt.at <= now
        )
        if debtor_id is not None:
            query = query.where(VerificationAttempt.debtor_id == debtor_id)
        else:
            query = query.where(VerificationAttempt.conversation_id == conversation_id,
                                VerificationAttempt.debtor_id.is_(None))
        return list(session.scalars(query))

    def _lock_ends(self, times: list[datetime]) -> datetime | None:
        return lock_ends(times, max_failures=self.max_failures, window=self.window, lockout=self.lockout)

    def _locked(self, times: list[datetime], now: datetime) -> bool:
        ends = self._lock_ends(times)
        return ends is not None and now < ends

    def is_locked(self, session: Session, conversation_id: str, now: datetime | None = None) -> bool:
        """Whether this conversation is locked out (ID-3), before any new factors are given. Only the
        conversation's own failures decide it, so asking says nothing about any person's lock."""
        now = now or datetime.now(timezone.utc)
        return self._locked(self._failure_times(session, now, conversation_id=conversation_id), now)

    def person_locked(self, session: Session, debtor_id: str, now: datetime | None = None) -> bool:
        """Whether this person is locked out (ID-3): for staff and tests, never for telling a caller."""
        now = now or datetime.now(timezone.utc)
        return self._locked(self._failure_times(session, now, debtor_id=debtor_id), now)

    def verify(
        self, session: Session, conversation_id: str, factors: Factors, *, now: datetime | None = None
    ) -> VerificationResult:
        """Check all factors at once: they must include an accepted set (ID-2) and every one given must match
        one person. Raises InsufficientFactors, checking nothing, when they include no accepted set."""
        if not is_sufficient(factors.kinds()):
            raise InsufficientFactors(sorted(kind.value for kind in factors.kinds()))
        now = now or datetime.now(timezone.utc)
        if self.is_locked(session, conversation_id, now):
            audit.record(session, "identity_locked_attempt", rule_id="ID-3", conversation_id=conversation_id)
            return VerificationResult(LOCKED, failures=self.max_failures)
        wait = self.attempts.hit(factors) if self.attempts is not None else None
        if wait is not None:
            # Nothing was looked up or compared, and no failure is counted: the same answer for any locator.
            audit.record(session, "identity_rate_limited", conversation_id=conversation_id,
                         detail={"retry_after": wait})
            return VerificationResult(THROTTLED, retry_after=wait)

        candidates = self._candidates(session, factors)
        locked = {d.id for d in candidates if self.person_locked(session, d.id, now)}
        matches = [d for d in candidates if _matches(d, factors)]
        if len(matches) == 1 and matches[0].id not in locked:
            return self._verified(session, conversation_id, matches[0], factors, now)

        # A failure counts once for the conversation and once for each person it was checked against, however
        # many accounts they have; a person already locked gets no row, so their lock stays fixed (ID-3).
        session.add(VerificationAttempt(conversation_id=conversation_id, succeeded=False, at=now))
        for debtor in candidates:
            if debtor.id not in locked:
                session.add(VerificationAttempt(conversation_id=conversation_id, debtor_id=debtor.id,
                                                succeeded=False, at=now))
        session.flush()
        for debtor_id in sorted(locked):
            audit.record(session, "identity_locked_attempt", rule_id="ID-3", conversation_id=conversation_id,
                         detail={"debtor_id": debtor_id})
        for debtor in candidates:
            ends = self._lock_ends(self._failure_times(session, now, debtor_id=debtor.id))
            if debtor.id not in locked and ends == now + self.lockout:
                audit.record(session, "identity_locked", rule_id="ID-3", conversation_id=conversation_id,
                             detail={"debtor_id": debtor.id, "until": ends.isoformat()})
        times = self._failure_times(session, now, conversation_id=conversation_id)
        failures = sum(1 for at in times if at > now - self.window)
        # The record says that a check failed, never which factor was wrong (ID-2).
        audit.record(session, "identity_verification_failed", rule_id="ID-2", conversation_id=conversation_id,
                     detail={"failures": failures, "ambiguous": len(matches) > 1})
        ends = self._lock_ends(times)
        if ends == now + self.lockout:
            audit.record(session, "identity_locked", rule_id="ID-3", conversation_id=conversation_id,
                         detail={"until": ends.isoformat(), "failures": failures})
            return VerificationResult(LOCKED, failures=failures)
        return VerificationResult(FAILED, failures=failures, tries_left=max(1, self.max_failures - failures))

    def _verified(
        self, session: Session, conversation_id: str, debtor: Debtor, factors: Factors, now: datetime
    ) -> VerificationResult:
        accounts = _accounts_for(debtor, factors.account_ref)
        account_id = accounts[0].id if accounts else None
        session.add(VerificationAttempt(conversation_id=conversation_id, debtor_id=debtor.id, account_id=account_id,
                                        succeeded=True, at=now))
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.debtor_id = debtor.id
            conversation.account_id = account_id
            conversation.verified_at = now
            language.on_verified(session, conversation, debtor)
            # CEASE-1..4, VUL-2: a report made here before anyone was verified holds these accounts first.
            sensitive_requests.apply_earlier_reports(session, conversation, now)
        audit.record(session, "identity_verified", rule_id="ID-2", conversation_id=conversation_id,
                     account_id=account_id)
        # What was asked here before they were identified and promised for then: "stop the automatic payments" is
        # honoured (PLAN-2), "can I pay by check?" answered. DISC-1: these are the first words about the debt (a
        # plan, its next payment, a hold), so the debt-collector disclosure comes before them, and not again.
        kept = autopay.honour_earlier_request(session, conversation, now, language.current(session, conversation)) + \
            ways.answer_kept_question(session, conversation) if conversation is not None else []
        said = opening_disclosure(session, conversation_id, now) + kept if kept else []
        return VerificationResult(VERIFIED, debtor.id, tuple(a.id for a in accounts), said=tuple(said))

    @staticmethod
    def _candidates(session: Session, factors: Factors) -> list[Debtor]:
        """Everyone any locator given points at; _matches then holds each to every factor."""
        found: dict[str, Debtor] = {}
        if factors.phone:
            found.update((d.id, d) for d in session.scalars(select(Debtor).where(Debtor.phone == factors.phone)))
        if factors.account_ref:
            # References are stored upper-cased by the importer, so the unique index serves this lookup.
            account = session.scalar(select(Account).where(Account.account_ref == factors.account_ref.upper()))
            if account is not None:
                found[account.debtor.id] = account.debtor
        if factors.full_name:
            first, last = _name_parts(factors.full_name)
            found.update((d.id, d) for d in session.scalars(select(Debtor).where(
                func.lower(Debtor.first_name) == first, func.lower(Debtor.last_name) == last
            )))
        return sorted(found.values(), key=lambda d: d.id)


def _name_parts(full_name: str) -> tuple[str, str]:
    words = full_name.lower().split()
    return (words[0], words[-1]) if len(words) > 1 else (full_name.lower(), "")


def _matches(debtor: Debtor, factors: Factors) -> bool:
    """Every factor given matches this person; one that was not given is not checked."""
    checks = {
        Factor.DOB: lambda: debtor.dob == factors.dob,
        Factor.SSN_LAST4: lambda: debtor.ssn_last4 == factors.ssn_last4,
        # Four digits are the SSN's last four and five a ZIP: one never stands in for the other.
        Factor.ZIP: lambda: (debtor.zip or "")[:5] == factors.zip,
        Factor.ACCOUNT_REF: lambda: any(
            a.account_ref.upper() == (factors.account_ref or "").upper() for a in debtor.accounts),
        Factor.FULL_NAME: lambda: _name_parts(factors.full_name or "") == (
            debtor.first_name.lower(), debtor.last_name.lower()),
        Factor.PHONE: lambda: debtor.phone == factors.phone,
    }
    return all(checks[kind]() for kind in factors.kinds())


def _accounts_for(debtor: Debtor, account_ref: str | None) -> list[Account]:
    accounts = sorted(debtor.accounts, key=lambda a: a.account_ref)
    if account_ref:
        named = [a for a in accounts if a.account_ref.upper() == account_ref.upper()]
        return named + [a for a in accounts if a not in named]
    return accounts


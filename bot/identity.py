"""Right-party verification (ID-1, ID-2, ID-3).

Nothing about a debt is said before the debtor proves who they are with two knowledge factors,
date of birth plus the last four of their SSN or their ZIP, and something that finds the account:
over SMS the phone number, over web chat the account reference or their full name. Factors are checked
together and the answer is only ever "matched" or "not matched": no single factor is confirmed (ID-2).
Three failed checks within 24 hours lock debt disclosure for that account and conversation (ID-3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot import audit
from bot.db.models import Account, Conversation, Debtor, VerificationAttempt

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
}
_MONTH = r"(?P<month_name>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4}|\d{2})"
_DATE_PATTERNS = [
    # 1979-03-14 (ISO)
    re.compile(r"\b(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\b"),
    # 03/14/1979, 3-14-79, 3.14.1979 (US order: month first)
    re.compile(r"\b(?P<month>\d{1,2})[-/.](?P<day>\d{1,2})[-/.]" + _YEAR + r"\b"),
    # March 14 1979, mar 14th, 79
    re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+(?:of\s+)?" + _YEAR + r"\b", re.IGNORECASE),
    # 14 March 1979, 14th of march 1979
    re.compile(r"\b" + _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR + r"\b", re.IGNORECASE),
    # 03141979 (eight digits, US order)
    re.compile(r"\b(?P<month>\d{2})(?P<day>\d{2})(?P<year>(?:19|20)\d{2})\b"),
]
_ACCOUNT_REF = re.compile(r"\b([A-Za-z]{2,4}-?\d{4,10})\b")
_NAME_PREFIX = re.compile(
    r"^\s*(?:hi|hello|hey)?[\s,]*(?:my\s+(?:full\s+)?name\s+is|name\s*(?:is|:)?|i\s*am|i'?m|it'?s|this\s+is)\s+",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-Za-z][A-Za-z'\-]*(?:\s+[A-Za-z][A-Za-z'\-]*)+$")


@dataclass(frozen=True)
class Factors:
    """What a debtor's message offers towards verification. Never logged or stored."""

    dob: date | None = None
    ssn_last4: str | None = None
    zip: str | None = None
    account_ref: str | None = None


def parse_dob(text: str, today: date | None = None) -> date | None:
    """A plausible date of birth in `text` (US month-first order for numeric dates), else None."""
    found = _find_date(text, today or date.today())
    return found[0] if found else None


def _find_date(text: str, today: date) -> tuple[date, tuple[int, int]] | None:
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            parts = match.groupdict()
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


@dataclass(frozen=True)
class VerificationResult:
    status: str  # "verified" | "failed" | "locked"
    debtor_id: str | None = None
    account_ids: tuple[str, ...] = ()
    failures: int = 0


VERIFIED, FAILED, LOCKED = "verified", "failed", "locked"


class IdentityService:
    """Checks identity factors against the ledger's debtor records and keeps the lockout (ID-3)."""

    def __init__(self, max_failures: int = 3, lockout: timedelta = timedelta(hours=24)) -> None:
        self.max_failures = max_failures
        self.lockout = lockout

    def _failures(
        self, session: Session, conversation_id: str, account_ids: list[str], now: datetime
    ) -> int:
        clauses = [VerificationAttempt.conversation_id == conversation_id]
        if account_ids:
            clauses.append(VerificationAttempt.account_id.in_(account_ids))
        return session.scalar(
            select(func.count(VerificationAttempt.id)).where(
                or_(*clauses),
                VerificationAttempt.succeeded.is_(False),
                VerificationAttempt.at > now - self.lockout,
            )
        ) or 0

    def is_locked(self, session: Session, conversation_id: str, now: datetime | None = None) -> bool:
        """Whether this conversation is locked out (ID-3), before any new factors are given."""
        now = now or datetime.now(timezone.utc)
        conversation = session.get(Conversation, conversation_id)
        account_ids = [conversation.account_id] if conversation and conversation.account_id else []
        return self._failures(session, conversation_id, account_ids, now) >= self.max_failures

    def verify(
        self,
        session: Session,
        conversation_id: str,
        *,
        dob: date,
        secret: str,
        phone: str | None = None,
        locator: str | None = None,
        now: datetime | None = None,
    ) -> VerificationResult:
        """Check all factors at once. `phone` (SMS) or `locator` (account ref or full name) finds the
        candidates; DOB plus last-4 SSN or ZIP must both match one debtor (ID-2)."""
        now = now or datetime.now(timezone.utc)
        candidates = self._candidates(session, phone=phone, locator=locator)
        # Failures count against every account the locator pointed at, so a fresh conversation
        # cannot be used to keep guessing at the same account (ID-3).
        candidate_accounts = [a.id for d in candidates for a in d.accounts]
        if self._failures(session, conversation_id, candidate_accounts, now) >= self.max_failures:
            audit.record(session, "identity_locked_attempt", rule_id="ID-3", conversation_id=conversation_id)
            return VerificationResult(LOCKED, failures=self.max_failures)

        # Four digits are the SSN's last four, five are a ZIP: one never stands in for the other.
        matches = [
            d for d in candidates
            if d.dob == dob and secret == (d.ssn_last4 if len(secret) == 4 else d.zip)
        ]
        if len(matches) == 1:
            debtor = matches[0]
            accounts = self._accounts_for(debtor, locator)
            session.add(VerificationAttempt(
                conversation_id=conversation_id, account_id=accounts[0].id if accounts else None,
                succeeded=True, at=now,
            ))
            conversation = session.get(Conversation, conversation_id)
            if conversation is not None:
                conversation.debtor_id = debtor.id
                conversation.account_id = accounts[0].id if accounts else None
                conversation.verified_at = now
            audit.record(session, "identity_verified", rule_id="ID-2", conversation_id=conversation_id,
                         account_id=accounts[0].id if accounts else None)
            return VerificationResult(VERIFIED, debtor.id, tuple(a.id for a in accounts))

        for account_id in candidate_accounts or [None]:
            session.add(VerificationAttempt(
                conversation_id=conversation_id, account_id=account_id, succeeded=False, at=now
            ))
        session.flush()
        failures = self._failures(session, conversation_id, candidate_accounts, now)
        # The record says that a check failed, never which factor was wrong (ID-2).
        audit.record(session, "identity_verification_failed", rule_id="ID-2", conversation_id=conversation_id,
                     detail={"failures": failures, "ambiguous": len(matches) > 1})
        if failures >= self.max_failures:
            for account_id in candidate_accounts or [None]:
                audit.record(session, "identity_locked", rule_id="ID-3", conversation_id=conversation_id,
                             account_id=account_id,
                             detail={"until": (now + self.lockout).isoformat(), "failures": failures})
            return VerificationResult(LOCKED, failures=failures)
        return VerificationResult(FAILED, failures=failures)

    @staticmethod
    def _candidates(session: Session, *, phone: str | None, locator: str | None) -> list[Debtor]:
        if phone:
            return list(session.scalars(select(Debtor).where(Debtor.phone == phone)))
        if not locator:
            return []
        if _ACCOUNT_REF.fullmatch(locator):
            # References are stored upper-cased by the importer, so the unique index serves this lookup.
            account = session.scalar(select(Account).where(Account.account_ref == locator.upper()))
            if account is not None:
                return [account.debtor]
            # A reference that is not ours may still be a name-less typo: nothing matches.
            return []
        first, _, last = locator.partition(" ")
        last = last.split()[-1] if last.split() else ""
        return list(session.scalars(select(Debtor).where(
            func.lower(Debtor.first_name) == first.lower(), func.lower(Debtor.last_name) == last.lower()
        )))

    @staticmethod
    def _accounts_for(debtor: Debtor, locator: str | None) -> list[Account]:
        accounts = sorted(debtor.accounts, key=lambda a: a.account_ref)
        if locator and _ACCOUNT_REF.fullmatch(locator):
            named = [a for a in accounts if a.account_ref.upper() == locator.upper()]
            return named + [a for a in accounts if a not in named]
        return accounts

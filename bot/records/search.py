"""Search of conversations for review (REC-2): filters combined with AND, newest first, paginated.

Every filter is an EXISTS or a join on an indexed column (conversations by start time, address, debtor and account,
flags, intents and handoffs by conversation id; migration 0016), matches are counted up to COUNT_LIMIT, a search by
a flag, a handoff outcome, a review status or an intent walks that filter's own index newest first (migrations
0021, 0022), and a page's review statuses and flags are loaded in two queries, not per row: a page costs the same on
a hundred thousand messages as on ten million (bench/scale.py)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.agents import users
from bot.agents.queue import OUTCOME_LABELS
from bot.conversations import CHANNELS
from bot.db.models import (
    Account,
    Conversation,
    ConversationFlag,
    ConversationIntent,
    ConversationReview,
    Debtor,
    Handoff,
)
from bot.records.flags import FLAGS

PAGE_SIZE = 50
# Matches are counted exactly up to here; past it the page says "more than 1000". Counting every match of a broad
# search reads every matching conversation, which grows with the record (bench/scale.py); a page does not.
COUNT_LIMIT = 1000
# A search result's export reads its ids this many at a time (all_ids).
EXPORT_BATCH = 500
_MAX_PAGE = 2**62 // PAGE_SIZE  # an offset past 2**63 would not even reach the database (a 500)


@dataclass(frozen=True)
class Filters:
    started_from: datetime | None = None  # inclusive
    started_to: datetime | None = None  # exclusive
    account_ref: str | None = None
    phone: str | None = None
    channel: str | None = None
    intent: str | None = None
    outcome: str | None = None  # a handoff's outcome code
    agent_id: str | None = None  # the user who claimed or resolved a handoff
    flag: str | None = None
    review_status: str | None = None  # unreviewed | reviewed | escalated


REVIEW_STATUSES = ("unreviewed", "reviewed", "escalated")
MAX_TERM = 200  # characters of a typed filter: longer than any reference, phone, intent or username
# The filters a person types, by their label on the search form (the message names the field to fix).
TYPED = {"account_ref": "Account", "phone": "Phone", "intent": "Intent", "agent": "Agent"}
# The filters picked from a list: their allowed values (the form offers exactly these).
PICKED = {"channel": ("Channel", tuple(CHANNELS)), "flag": ("Flag", FLAGS),
          "outcome": ("Outcome", tuple(OUTCOME_LABELS)), "review_status": ("Review", REVIEW_STATUSES)}


class SearchRefused(ValueError):
    """A search that cannot mean what was typed. The message says what to fix, naming the field and never repeating
    the value (the caller shows the value in the form it came from); `field` is the query parameter at fault."""

    def __init__(self, message: str, field: str, *, not_a_date: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.not_a_date = not_a_date  # a browser's date field cannot show what was typed: the form shows text


def _as_day(params: Mapping[str, str], key: str, label: str) -> date | None:
    value = (params.get(key) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SearchRefused(f"{label} is not a date. Write it as YYYY-MM-DD, e.g. 2026-12-01, or leave it empty.",
                            key, not_a_date=True) from None


def read_filters(session: Session, params: Mapping[str, str]) -> Filters:
    """The search a reviewer asked for, from the form's fields as sent; SearchRefused for one that cannot mean what
    was typed (a date that is not one, To before From, a value no list offers, an unknown agent, a control character
    or an overlong term). Refusing beats dropping a filter: a search that silently ignores a bound or a value shows
    the reviewer conversations they did not ask for, or none, and no reason (REC-2 review)."""
    start, last = _as_day(params, "from", "From"), _as_day(params, "to", "To")
    if start is not None and last is not None and last < start:
        raise SearchRefused("To is before From: nothing can match. Swap them, or leave one empty.", "to")
    for key, label in TYPED.items():
        value = params.get(key) or ""
        if len(value) > MAX_TERM:
            raise SearchRefused(f"{label} is longer than {MAX_TERM} characters: shorten it.", key)
        # A NUL is refused by PostgreSQL (a 500), and no stored value holds a control character.
        if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
            raise SearchRefused(f"{label} holds a character that cannot be searched for: retype it.", key)
    for key, (label, allowed) in PICKED.items():
        value = (params.get(key) or "").strip()
        if value and value not in allowed:
            raise SearchRefused(f"{label} is not one of the choices: pick one from the list, or Any.", key)
    given = {k: (params.get(k) or "").strip() or None for k in ("account_ref", "phone", "intent", *PICKED)}
    agent_id = None
    agent_name = (params.get("agent") or "").strip()
    if agent_name:
        agent = users.by_username(session, agent_name)
        if agent is None:
            raise SearchRefused("Agent: no console user has that username. Check the spelling, or leave it empty.",
                                "agent")
        agent_id = agent.id
    # The last day there is (9999-12-31) has no day after it: "to" it means no upper bound.
    end = (datetime.combine(last, datetime.min.time(), timezone.utc) + timedelta(days=1)
           if last is not None and last < date.max else None)
    begin = datetime.combine(start, datetime.min.time(), timezone.utc) if start is not None else None
    return Filters(started_from=begin, started_to=end, agent_id=agent_id, **given)


def read_page(params: Mapping[str, str]) -> int:
    """The page asked for: a whole number from 1 (a page past the last shows the last, `search`)."""
    value = (params.get("page") or "1").strip()
    if not (value.isascii() and value.isdigit()) or int(value[:30]) < 1:
        raise SearchRefused("Page is a whole number, 1 or more.", "page")
    return _MAX_PAGE if len(value) > 18 else min(int(value), _MAX_PAGE)  # int() refuses 4,300 digits and more


@dataclass(frozen=True)
class Row:
    conversation_id: str
    channel: str
    started_at: datetime
    account_ref: str | None
    review_status: str
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int  # exact, or COUNT_LIMIT when `more`
    page: int
    page_size: int
    more: bool = False  # more than COUNT_LIMIT conversations match

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def as_stored(phone: str) -> str:
    """A phone number as typed ("5555550102", "(555) 555-0102", "1-555-555-0102") in the E.164 form numbers are
    stored in (+15555550102); anything else as typed, so a non-US or partial number still finds an exact match."""
    raw = phone.strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") and digits:
        return "+" + digits
    if len(digits) == 10 and digits[0] not in "01":
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return raw


def _filtered(f: Filters) -> Select:
    query = select(Conversation.id)
    if f.started_from:
        query = query.where(Conversation.started_at >= f.started_from)
    if f.started_to:
        query = query.where(Conversation.started_at < f.started_to)
    if f.channel:
        query = query.where(Conversation.channel == f.channel)
    if f.account_ref:
        # References are stored upper-cased (bot/portfolio_import.py), so the unique index finds the account.
        query = query.where(Conversation.account_id.in_(
            select(Account.id).where(Account.account_ref == f.account_ref.strip().upper())))
    if f.phone:
        # Two index lookups (the channel address, the debtor's phone) rather than an OR that reads every row.
        phone = as_stored(f.phone)
        query = query.where(Conversation.id.in_(
            select(Conversation.id).where(Conversation.external_id == phone).union(
                select(Conversation.id).join(Debtor, Debtor.id == Conversation.debtor_id)
                .where(Debtor.phone == phone))))
    if f.intent:
        # conversation_intents holds each (conversation, intent) its messages were read as (bot/db/models.py).
        query = query.where(exists().where(ConversationIntent.conversation_id == Conversation.id,
                                           ConversationIntent.intent == f.intent))
    if f.outcome or f.agent_id:
        handoff = exists().where(Handoff.conversation_id == Conversation.id)
        if f.outcome:
            handoff = handoff.where(Handoff.outcome == f.outcome)
        if f.agent_id:
            handoff = handoff.where((Handoff.claimed_by == f.agent_id) | (Handoff.resolved_by == f.agent_id))
        query = query.where(handoff)
    if f.flag:
        query = query.where(exists().where(ConversationFlag.conversation_id == Conversation.id,
                                           ConversationFlag.flag == f.flag))
    if f.review_status:
        reviewed = exists().where(ConversationReview.conversation_id == Conversation.id,
                                  ConversationReview.status != "unreviewed")
        if f.review_status == "unreviewed":
            query = query.where(~reviewed)
        else:
            query = query.where(exists().where(ConversationReview.conversation_id == Conversation.id,
                                               ConversationReview.status == f.review_status))
    return query


def _only(f: Filters, *names: str) -> bool:
    """Whether `f` filters on nothing but the named fields."""
    return not any(getattr(f, each.name) for each in fields(f) if each.name not in names)


def _counted(f: Filters) -> Select:
    """The matching conversation ids to count, read from the rarest table the filters name. A flag, a handoff
    outcome or a review status is rare (1.5%, 0.5% and 0.5% of conversations in bench/scale.py's record):
    counting from its own index reads at most COUNT_LIMIT + 1 of its entries, where counting from the conversations
    reads them newest first until that many match (66,000 of them for a flag at 10 million messages). When it is
    the only filter, the count reads that index alone: no conversation needs probing."""
    if f.flag:
        if _only(f, "flag"):
            return select(ConversationFlag.conversation_id).where(ConversationFlag.flag == f.flag).distinct()
        return (_filtered(replace(f, flag=None))
                .join(ConversationFlag, ConversationFlag.conversation_id == Conversation.id)
                .where(ConversationFlag.flag == f.flag).distinct())
    if f.outcome:
        if _only(f, "outcome"):
            return select(Handoff.conversation_id).where(Handoff.outcome == f.outcome).distinct()
        handoff = Handoff.outcome == f.outcome
        if f.agent_id:
            handoff &= (Handoff.claimed_by == f.agent_id) | (Handoff.resolved_by == f.agent_id)
        return (_filtered(replace(f, outcome=None, agent_id=None))
                .join(Handoff, Handoff.conversation_id == Conversation.id).where(handoff).distinct())
    if f.review_status and f.review_status != "unreviewed":
        if _only(f, "review_status"):  # one review row per conversation: nothing to make distinct
            return select(ConversationReview.conversation_id).where(ConversationReview.status == f.review_status)
        return (_filtered(replace(f, review_status=None))
                .join(ConversationReview, ConversationReview.conversation_id == Conversation.id)
                .where(ConversationReview.status == f.review_status))
    if f.intent:
        # One row per (conversation, intent): nothing to make distinct. Counted along the pages' walk (the date range
        # on the copy of the start bounds it); with no filter but the dates, from the index alone.
        if _only(f, "intent", "started_from", "started_to"):
            return _started_within(select(ConversationIntent.conversation_id)
                                   .where(ConversationIntent.intent == f.intent), ConversationIntent, f)
        return _walk(f)[0]
    return _filtered(f)


def _started_within(query: Select, rows: type[ConversationFlag] | type[Handoff] | type[ConversationReview]
                    | type[ConversationIntent], f: Filters) -> Select:
    """`query` with the date range on the rows' copy of the conversation's start, so that it bounds a walk along
    their index."""
    if f.started_from:
        query = query.where(rows.conversation_started_at >= f.started_from)
    if f.started_to:
        query = query.where(rows.conversation_started_at < f.started_to)
    return query


def _paged(f: Filters) -> Select:
    """The page's query, newest first (started_at DESC, id): `_walk` in its order."""
    query, started, key = _walk(f)
    return query.order_by(started.desc(), key)


def _walk(f: Filters) -> tuple[Select, Any, Any]:
    """The matching conversations' query, unordered, with the start time and the id it is ordered by. A search by
    a rare filter (a flag, a handoff outcome, a review status, an intent) walks that filter's own rows newest first,
    along their copy of the conversation's start time (migrations 0021, 0022), takes each row's conversation by its
    key for the other filters, and stops at the page; the others walk the conversations' start-time index. A
    conversation flagged (or handed off with that outcome) twice is listed once: only its first such row counts."""
    rows: type[ConversationFlag] | type[Handoff] | type[ConversationReview] | type[ConversationIntent]
    if f.flag:
        rows, rest = ConversationFlag, replace(f, flag=None)
        earlier = aliased(ConversationFlag)
        match = ConversationFlag.flag == f.flag
        repeat = exists().where(earlier.conversation_id == ConversationFlag.conversation_id, earlier.flag == f.flag,
                                earlier.id < ConversationFlag.id)
    elif f.outcome:
        rows, rest = Handoff, replace(f, outcome=None, agent_id=None)
        earlier = aliased(Handoff)
        match, repeat_match = Handoff.outcome == f.outcome, earlier.outcome == f.outcome
        if f.agent_id:
            match &= (Handoff.claimed_by == f.agent_id) | (Handoff.resolved_by == f.agent_id)
            repeat_match &= (earlier.claimed_by == f.agent_id) | (earlier.resolved_by == f.agent_id)
        repeat = exists().where(earlier.conversation_id == Handoff.conversation_id, repeat_match,
                                earlier.id < Handoff.id)
    elif f.review_status and f.review_status != "unreviewed":
        rows, rest = ConversationReview, replace(f, review_status=None)
        match, repeat = ConversationReview.status == f.review_status, None  # one review row per conversation
    elif f.intent:
        rows, rest = ConversationIntent, replace(f, intent=None)
        match, repeat = ConversationIntent.intent == f.intent, None  # one row per (conversation, intent)
    else:
        return _filtered(f), Conversation.started_at, Conversation.id
    # The date range on the copy alone: it bounds the walk along the index. Put on the conversations as well,
    # PostgreSQL took the two ranges for independent, expected a handful of rows and hashed the week's conversations
    # against the week's intent rows (3,441 and 1,377 at 10 million messages, 10 ms) instead of stopping at the page.
    query = (_filtered(replace(rest, started_from=None, started_to=None))
             .join(rows, rows.conversation_id == Conversation.id).where(match))
    if repeat is not None:
        query = query.where(~repeat)
    return _started_within(query, rows, f), rows.conversation_started_at, rows.conversation_id


def search(session: Session, filters: Filters, *, page: int = 1, page_size: int = PAGE_SIZE) -> Page:
    total = session.scalar(select(func.count()).select_from(_counted(filters).limit(COUNT_LIMIT + 1).subquery())) or 0
    more = total > COUNT_LIMIT
    total = min(total, COUNT_LIMIT)
    # Past the last page shows the last page (when the count is exact).
    page = min(max(1, page), _MAX_PAGE if more else max(1, -(-total // page_size)))
    # The filters on the page's own query, not `id IN (the filtered ids)`: a self-join that PostgreSQL answers by
    # reading every conversation before it can sort them; this way it walks an index newest first and stops at a page.
    rows = session.execute(
        _paged(filters).with_only_columns(Conversation.id, Conversation.channel, Conversation.started_at,
                                          Account.account_ref)
        .outerjoin(Account, Account.id == Conversation.account_id)
        .limit(page_size).offset((page - 1) * page_size)).all()
    found = [r.id for r in rows]
    statuses = dict(session.execute(select(ConversationReview.conversation_id, ConversationReview.status)
                                    .where(ConversationReview.conversation_id.in_(found))).all())
    flags: dict[str, list[str]] = {}
    for conversation_id, flag in session.execute(
            select(ConversationFlag.conversation_id, ConversationFlag.flag).distinct()
            .where(ConversationFlag.conversation_id.in_(found)).order_by(ConversationFlag.flag)):
        flags.setdefault(conversation_id, []).append(flag)
    return Page(rows=[Row(r.id, r.channel, r.started_at, r.account_ref, statuses.get(r.id, "unreviewed"),
                          flags.get(r.id, [])) for r in rows], total=total, page=page, page_size=page_size, more=more)


def all_ids(session: Session, filters: Filters, limit: int = 10_000, batch: int = EXPORT_BATCH) -> list[str]:
    """Every matching conversation id (for exporting a search result), newest first, capped: the pages' walk, read
    `batch` at a time from where the last batch ended (its start time and id), so that a search by a rare filter
    reads that filter's index and stops, as a page does. Asked for 10,000 at once, PostgreSQL hashed the filter's
    rows against a sequential scan of every conversation (a million at 10 million messages, 200-240 ms)."""
    query, started, key = _walk(filters)
    found: list[str] = []
    while len(found) < limit:
        rows = session.execute(query.with_only_columns(Conversation.id, started).order_by(started.desc(), key)
                               .limit(min(batch, limit - len(found)))).all()
        found += [row[0] for row in rows]
        if len(rows) < batch:
            break
        last_id, last_started = rows[-1]
        # Newest first, then by id: the next batch starts after (last_started, last_id). `started <=` bounds the
        # index walk; the OR skips what this batch already read at that start time.
        query = query.where(started <= last_started, (started < last_started) | (key > last_id))
    return found

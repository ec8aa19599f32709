"""Campaigns and experiments: one segment, one channel (sms or email), a message with variants, a schedule.

The schedule is once (at the start) or a round every `repeat_days` days from the start until an end; `due` lists
what the scheduled job (`python -m bot run-campaign --due`) runs. Each round goes to the segment as it is then; a
person keeps the variant drawn the first time, gets at most one message per round (campaign_sends), and every
message still passes the outbox's gate, so the rule book's caps (FREQ-1) hold across rounds and campaigns.

A run finds the segment's accounts (bot/segments.py), skips those the segment's treatment or the campaign itself
rules out (and says why), draws a variant for each of the rest at random (recorded once in campaign_recipients,
never redrawn), and queues the message through the outbox (`outbox.schedule`), where the outbound gate sends,
defers (TIME-1 quiet hours, FREQ-1 caps) or blocks (OPT-3 opt-outs, ID-4, ID-5, holds, DISC-3) each one at send
time and records the rule. A dry run makes the same decisions in a transaction that is rolled back.

Campaign messages are content-neutral (DISC-3): whoever holds the phone or mailbox may not be the debtor, so a
variant names no debt, amount or creditor; it is checked when the campaign is made and again by the gate (the kind
is in outbound_gate.CONTENT_NEUTRAL_KINDS). Results per variant count what followed a sent message within the
campaign's window: a reply, a verification, a promise (a plan agreed) and a payment, compared with the
two-proportion z-test, corrected with Holm–Bonferroni when three or more variants are compared (bot/experiments.py).

Each variant may carry a Spanish text ("text_es"), checked like the English one. A person whose contact language
is Spanish (bot/language.for_contact) gets the Spanish text of their variant. When a variant has none, that person
is skipped, "no Spanish text", listed by the dry run and the run: a debtor who asked for Spanish is not written to
in English (a collection team would rather see the gap and add the text than send a message the reader asked not to
get in English). A new Spanish speaker is skipped unless every variant has its Spanish text, so the random draw stays
the same for everyone and no variant is compared on a different population."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot import audit, experiments, language, outreach_order, segments, wording
from bot.compliance import neutral, outbound_gate, tone
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import (
    HANDED_OVER,
    Account,
    Campaign,
    CampaignRecipient,
    CampaignSend,
    Conversation,
    Message,
    Payment,
    Plan,
    ScheduledMessage,
)
from bot.messaging import outbox
from bot.messaging.queue import RunSummary, Transport, process_due
from bot.reminders import explain, message_id_for

KIND = "campaign"  # the outbox's message kind (content-neutral: outbound_gate.CONTENT_NEUTRAL_KINDS)
CHANNELS = ("sms", "email")
METRICS = (("reply", "Reply"), ("verification", "Verification"), ("promise", "Promise to pay"),
           ("payment", "Payment"))
EVENTS = {"reply": "replies", "verification": "verifications", "promise": "promises", "payment": "payments"}
MAX_VARIANTS = 4
MAX_REPEAT_DAYS = 90
MAX_SPAN = timedelta(days=366)  # a recurring campaign ends within a year of its start
ROUND_LAG = timedelta(hours=2)  # how late after its time a round still counts as sent at its time
MAX_TEXT = {"sms": 320, "email": 2000}  # two SMS segments at most; the gate adds the opt-out line
PLACEHOLDERS = {"business", "support"}
_VARIANT_NAMES = "ABCD"
_rng = random.SystemRandom()  # assignment must not be predictable from anything the operator controls


class CampaignError(ValueError):
    """A campaign cannot be made or run as asked; `problems` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class CampaignUnconfirmed(CampaignError):
    """The campaign is valid, but its start is in the past: most likely a slip (a wrong day or year), and its first
    round would go out within a minute of being made. Not made until the operator confirms the start as meant
    (`create(..., confirm_past_start=True)`), as a policy edit naming an unknown creditor waits for its confirmation
    (bot/policy_edits.py PolicyEditUnconfirmed)."""


# --- making one -----------------------------------------------------------------------------------------------------

def _placeholder_problems(text: str, where: str) -> list[str]:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return [f"{where}: a stray {{ or }}; write {{{{ or }}}} for a brace"]
    unknown = sorted(names - PLACEHOLDERS)
    return [f"{where}: unknown placeholder {{{n}}}; use {{business}} or {{support}}" for n in unknown]


def check_variant(text: str, channel: str, creditors: Sequence[str], where: str) -> list[str]:
    """Every reason a variant's text may not go out, in words an operator can fix."""
    if not text.strip():
        return [f"{where}: empty"]
    if len(text) > MAX_TEXT.get(channel, 320):
        return [f"{where}: {len(text)} characters; at most {MAX_TEXT.get(channel, 320)} for {channel}"]
    problems = _placeholder_problems(text, where)
    if problems:
        return problems
    sample = text.format(business="Settle", support="support")
    found = neutral.debt_content(sample, creditors)
    if found:
        problems.append(f"{where}: mentions {', '.join(repr(f) for f in found)}; a campaign message must not name a "
                        "debt, an amount or a creditor, because whoever reads it may not be the debtor (DISC-3)")
    for violation in tone.lint(sample):
        problems.append(f"{where}: {violation.category} {violation.phrase!r} ({violation.rule_id})")
    return problems


def create(session: Session, book: segments.SegmentBook, *, name: str, segment: str, channel: str,
           texts: Sequence[str], starts_at: datetime, result_days: int, actor: str,
           repeat_days: int | None = None, ends_at: datetime | None = None,
           spanish_texts: Sequence[str] = (), confirm_past_start: bool = False,
           now: datetime | None = None) -> Campaign:
    """A new campaign, checked whole: every problem is reported at once, nothing is stored when there is one.
    `repeat_days`: a round every so many days from `starts_at`, the last no later than `ends_at` (required then).
    `spanish_texts`: each variant's optional Spanish text, in the same places as `texts` (empty: none).
    A start before the current minute raises CampaignUnconfirmed (after every other check passed) unless
    `confirm_past_start`."""
    problems: list[str] = []
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        problems.append("name: 1-100 characters")
    elif session.scalar(select(Campaign.id).where(func.lower(Campaign.name) == name.lower())) is not None:
        problems.append(f"name: a campaign called {name!r} already exists")
    chosen = book.by_name(segment)
    if chosen is None:
        problems.append(f"segment: no segment {segment!r} in segments.yml")
    if channel not in CHANNELS:
        problems.append("channel: sms or email")
    elif chosen is not None and channel not in chosen.treatment.channels:
        allowed = ", ".join(chosen.treatment.channels) or "none (no outreach)"
        problems.append(f"channel: the {chosen.name} segment's treatment allows {allowed}, not {channel}")
    given = [(t.strip() if t else "", (spanish_texts[i] if i < len(spanish_texts) else "").strip())
             for i, t in enumerate(texts)]
    if any(es and not en for en, es in given):
        problems.append("variants: a Spanish text needs its English text in the same variant")
    pairs = [(en, es) for en, es in given if en]
    texts = [en for en, _ in pairs]
    if not 2 <= len(texts) <= MAX_VARIANTS:
        problems.append(f"variants: an experiment needs 2 to {MAX_VARIANTS} variants with text")
    creditors = list(session.scalars(select(Account.creditor).distinct()))
    for i, (text, spanish) in enumerate(pairs[:MAX_VARIANTS]):
        problems += check_variant(text, channel, creditors, f"variant {_VARIANT_NAMES[i]}")
        if spanish:
            problems += check_variant(spanish, channel, creditors, f"variant {_VARIANT_NAMES[i]} (Spanish)")
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        problems.append("starts: a time with its zone")
    if isinstance(result_days, bool) or not isinstance(result_days, int) or not 1 <= result_days <= 90:
        problems.append("results window: 1 to 90 days")
    problems += _schedule_problems(starts_at, repeat_days, ends_at)
    if problems:
        raise CampaignError(problems)
    warning = past_start_warning(starts_at, now)
    if warning is not None and not confirm_past_start:
        raise CampaignUnconfirmed([warning])
    campaign = Campaign(name=name, segment=segment, channel=channel, starts_at=starts_at.astimezone(timezone.utc),
                        variants=[{"name": _VARIANT_NAMES[i], "text": en, **({"text_es": es} if es else {})}
                                  for i, (en, es) in enumerate(pairs)],
                        result_days=result_days, created_by=actor[:60], repeat_days=repeat_days,
                        ends_at=ends_at.astimezone(timezone.utc) if ends_at and repeat_days else None,
                        next_run_at=starts_at.astimezone(timezone.utc), rounds=0)
    session.add(campaign)
    session.flush()
    audit.record(session, "campaign_created", actor=actor,
                 detail={"campaign_id": campaign.id, "name": name, "segment": segment, "channel": channel,
                         "variants": campaign.variants, "starts_at": campaign.starts_at.isoformat(),
                         "repeat_days": repeat_days, "ends_at": campaign.ends_at.isoformat() if campaign.ends_at
                         else None})
    return campaign


def past_start_warning(starts_at: datetime, now: datetime | None = None) -> str | None:
    """What to say when a campaign's start is before the current minute (None when it is not): the form's time has
    minutes only, so a start typed as this minute is "now", not the past."""
    now = now or datetime.now(timezone.utc)
    if starts_at >= now.replace(second=0, microsecond=0):
        return None
    return (f"starts: {starts_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC is in the past, so the first round "
            f"goes out as soon as the campaign is made (the scheduler runs it within a minute). Check the date, "
            f"or confirm the start as meant.")


def _schedule_problems(starts_at: datetime, repeat_days: int | None, ends_at: datetime | None) -> list[str]:
    if repeat_days is None:
        return []
    if isinstance(repeat_days, bool) or not isinstance(repeat_days, int) or not 1 <= repeat_days <= MAX_REPEAT_DAYS:
        return [f"repeat: every 1 to {MAX_REPEAT_DAYS} days"]
    if ends_at is None or ends_at.tzinfo is None or ends_at.utcoffset() is None:
        return ["ends: a recurring campaign needs an end, a time with its zone"]
    if starts_at.tzinfo is not None and starts_at.utcoffset() is not None:
        if ends_at < starts_at:
            return ["ends: after the start"]
        if ends_at - starts_at > MAX_SPAN:
            return [f"ends: at most {MAX_SPAN.days} days after the start"]
    return []


def schedule_words(campaign: Campaign) -> str:
    """The schedule in a sentence for the pages and the job's log."""
    start = f"{campaign.starts_at:%Y-%m-%d %H:%M} UTC"
    if not campaign.repeat_days:
        return f"Once, from {start}."
    every = {1: "every day", 7: "every week"}.get(campaign.repeat_days, f"every {campaign.repeat_days} days")
    until = f" until {campaign.ends_at:%Y-%m-%d %H:%M} UTC" if campaign.ends_at else ""
    nxt = (f" Next round: {campaign.next_run_at:%Y-%m-%d %H:%M} UTC." if campaign.status == "scheduled"
           and campaign.next_run_at else " No round left.")
    return f"{every.capitalize()} at {campaign.starts_at:%H:%M} UTC from {start}{until}; {campaign.rounds} " \
           f"round{'' if campaign.rounds == 1 else 's'} run.{nxt}"


def next_round_after(campaign: Campaign, now: datetime) -> datetime | None:
    """When the round after one run at `now` is due: the first time on the schedule after `now` (rounds missed while
    the job was down are not caught up in a burst), or None when that is past the end (or the campaign is once)."""
    if not campaign.repeat_days:
        return None
    step = timedelta(days=campaign.repeat_days)
    due_at = campaign.next_run_at or campaign.starts_at
    if due_at <= now:
        due_at += step * ((now - due_at) // step + 1)
    return None if campaign.ends_at is not None and due_at > campaign.ends_at else due_at


def by_name_or_id(session: Session, key: str) -> Campaign | None:
    return session.get(Campaign, key) or session.scalar(select(Campaign).where(func.lower(Campaign.name) ==
                                                                               key.strip().lower()))


def due(session: Session, now: datetime) -> list[Campaign]:
    """Campaigns with a round due: a one-off whose start has come and that has not run, a recurring one whose next
    round has come and whose end has not passed (what the scheduled job runs)."""
    when = func.coalesce(Campaign.next_run_at, Campaign.starts_at)
    return list(session.scalars(select(Campaign).where(Campaign.status == "scheduled", when <= now)
                                .order_by(when, Campaign.id)))


def render(text: str, settings: Settings) -> str:
    return text.format(business=settings.business_name, support=settings.support_contact)


# --- running one ----------------------------------------------------------------------------------------------------

@dataclass
class Decision:
    """What became (or would become) of one account of the segment."""

    account_ref: str
    address: str  # masked, for the page and the log
    variant: str | None
    action: str  # skipped | queued | would-send | would-defer | would-block | sent | deferred | blocked | ...
    why: str = ""
    message_id: str | None = None


@dataclass
class Report:
    campaign: str
    dry_run: bool
    decisions: list[Decision] = field(default_factory=list)
    summary: RunSummary | None = None
    round: int = 1

    @property
    def outcomes(self) -> dict[str, int]:
        """Sent, deferred and blocked as the table says them: this run's messages after the outbox ran (its own
        summary counts only what fell due, so messages queued for a later start were "deferred 0")."""
        return {outcome: sum(d.action == outcome for d in self.decisions)
                for outcome in ("sent", "deferred", "blocked")}

    def lines(self) -> list[str]:
        head = f"{'Dry run: ' if self.dry_run else ''}campaign {self.campaign!r}" + (
            f", round {self.round}" if self.round > 1 else "")
        body = [f"  {d.account_ref} ({d.address}) {('variant ' + d.variant + ' ') if d.variant else ''}"
                f"{d.action}{': ' + d.why if d.why else ''}" for d in self.decisions]
        tail = []
        if self.summary is not None:
            tail = ["Sent {sent}, deferred {deferred}, blocked {blocked}.".format(**self.outcomes)]
        return [head, *(body or ["  nobody in the segment"]), *tail]


def mask(channel: str, address: str | None) -> str:
    if not address:
        return f"no {'phone' if channel == 'sms' else 'email'}"
    if channel == "email":
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"***{address[-4:]}"


def _recent_campaign_messages(session: Session, account_id: str, now: datetime) -> int:
    """Campaign messages sent or due in the 7 days up to `now`, by send time (`created_at` holds it, see `run`):
    one queued for a later start uses no allowance until then."""
    return session.scalar(select(func.count()).select_from(ScheduledMessage).where(
        ScheduledMessage.account_id == account_id, ScheduledMessage.kind == KIND,
        ScheduledMessage.status.in_(("pending", "sending", *HANDED_OVER)),
        ScheduledMessage.created_at > now - timedelta(days=7), ScheduledMessage.created_at <= now)) or 0


def run(engine: Engine, settings: Settings, campaign_key: str, transport: Transport, *, now: datetime | None = None,
        dry_run: bool = False, actor: str = "system", choose: Callable[[Sequence[str]], str] | None = None,
        book: segments.SegmentBook | None = None) -> Report:
    """Decide, queue and send one campaign; a dry run decides and writes nothing. `choose` draws a variant (random
    by default; a test passes its own to know the split)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    choose = choose or _rng.choice
    with session_scope(engine, rehearsal=dry_run) as session:  # a dry run decides everything, then rolls back
        book = book or segments.active_segments(session)
        campaign = by_name_or_id(session, campaign_key)
        if campaign is None:
            raise CampaignError([f"no campaign {campaign_key!r}"])
        report = Report(campaign.name, dry_run)
        segment = book.by_name(campaign.segment)
        if segment is None:
            raise CampaignError([f"segment {campaign.segment!r} is no longer in segments.yml"])
        names = [v["name"] for v in campaign.variants]
        texts = {v["name"]: render(v["text"], settings) for v in campaign.variants}
        spanish = {v["name"]: render(v["text_es"], settings) for v in campaign.variants if v.get("text_es")}
        already = {r.account_id: r for r in session.scalars(select(CampaignRecipient).where(
            CampaignRecipient.campaign_id == campaign.id))}
        # A one-off campaign has one round; each run of a recurring one is the next round, and a person already
        # in the campaign keeps the variant drawn the first time (the experiment compares people, not messages).
        round_ = (campaign.rounds or 0) + 1 if campaign.repeat_days else 1
        report.round = round_
        # The round's own time: when it fell due, if the job runs within ROUND_LAG after (it runs every 30
        # minutes), else now. The segment's weekly allowance counts back from it, so a weekly round is not refused
        # for the job's few minutes of lag, and a round run late never counts as older than it is.
        scheduled = campaign.next_run_at or campaign.starts_at
        round_at = scheduled if now - ROUND_LAG <= scheduled <= now else now
        this_round = set(session.scalars(select(CampaignSend.account_id).where(
            CampaignSend.campaign_id == campaign.id, CampaignSend.round == round_)))
        taken: dict[str, str] = {}
        members = segments.assign_all(session, book, now, segment=campaign.segment)
        # The order in force (bot/outreach_order.py): who comes first when the caps or shared addresses bite.
        for assignment in outreach_order.order(session, members, lambda a: a.facts.account_id, now):
            facts = assignment.facts
            address = facts.addresses.get(campaign.channel)
            decision = Decision(facts.account_ref, mask(campaign.channel, address), None, "skipped")
            report.decisions.append(decision)
            earlier = already.get(facts.account_id)
            if earlier is not None:
                decision.variant = earlier.variant
                if not campaign.repeat_days or earlier.variant is None:
                    decision.why = "already in this campaign"
                    continue
                if facts.account_id in this_round:
                    decision.why = f"already sent round {round_}"
                    continue
            if campaign.channel not in segment.treatment.channels:
                decision.why = f"the {segment.name} segment is not contacted by {campaign.channel}"
                continue
            if address is None:
                decision.why = f"no {'phone number' if campaign.channel == 'sms' else 'email address'} on file"
                continue
            key = address.strip().lower()
            if key in taken:
                decision.why = f"same address as {taken[key]}: one message per address"
                continue
            speaks = language.for_contact(session, campaign.channel, address,
                                          session.get(Account, facts.account_id).debtor_id)
            lacking = [n for n in ([earlier.variant] if earlier is not None and earlier.variant else names)
                       if n not in spanish]
            if speaks == wording.SPANISH and lacking:  # LANG-1: never English to someone served in Spanish
                decision.why = f"no Spanish text (variant {', '.join(lacking)}); this person reads Spanish"
                continue
            recent = _recent_campaign_messages(session, facts.account_id, round_at)
            if recent >= segment.treatment.per_7_days:
                decision.why = (f"the {segment.name} segment gets at most {segment.treatment.per_7_days} campaign "
                                f"message(s) per 7 days; {recent} already")
                continue
            taken[key] = facts.account_ref
            variant = earlier.variant if earlier is not None and earlier.variant else choose(names)
            # Round 1 keeps the id it always had; later rounds add theirs (the same round queued twice hits the key).
            key_parts = (campaign.id, facts.account_id) + ((f"round {round_}",) if round_ > 1 else ())
            message = outbox.schedule(session, account_id=facts.account_id, channel=campaign.channel,
                                      address=address, kind=KIND,
                                      text=spanish[variant] if speaks == wording.SPANISH else texts[variant],
                                      not_before=max(now, campaign.starts_at),
                                      message_id=message_id_for(KIND, *key_parts))
            # Its send time, which the segment's weekly allowance counts by: the round's, or the start it waits for.
            message.created_at = max(round_at, campaign.starts_at)
            if earlier is None:
                session.add(CampaignRecipient(campaign_id=campaign.id, account_id=facts.account_id,
                                              variant=variant, scheduled_message_id=message.id, assigned_at=now))
            session.add(CampaignSend(campaign_id=campaign.id, account_id=facts.account_id, round=round_,
                                     scheduled_message_id=message.id))
            decision.variant, decision.message_id = variant, message.id
            if not dry_run:
                decision.action = "queued"
                continue
            verdict = outbound_gate.check_initiated(session, message, max(now, campaign.starts_at))
            if verdict.allowed:
                message.status, message.sent_at = "sent", now  # counted by FREQ-1 for the next (rolled back)
            decision.action = "would-send" if verdict.allowed else (
                "would-defer" if verdict.defer_until else "would-block")
            account = session.get(Account, facts.account_id)
            decision.why = explain(verdict, account.debtor, now) if not verdict.allowed else \
                f"variant {variant}: {verdict.text}"
            session.flush()
        if dry_run:
            return report
        campaign.last_run_at, campaign.rounds = now, round_
        following = next_round_after(campaign, now)
        campaign.status, campaign.next_run_at = ("scheduled", following) if following else ("run", None)
        audit.record(session, "campaign_run", actor=actor,
                     detail={"campaign_id": campaign.id, "round": round_,
                             "next_run_at": following.isoformat() if following else None,
                             "queued": sum(d.action == "queued" for d in report.decisions),
                             "skipped": sum(d.action == "skipped" for d in report.decisions)})
    report.summary = process_due(engine, transport, now=now, channels=(campaign.channel,))
    _settle(engine, report)
    return report


def _settle(engine: Engine, report: Report) -> None:
    """What the outbox did with each message queued this run: sent, deferred (until when, which rule) or blocked."""
    with session_scope(engine) as session:
        for decision in report.decisions:
            if decision.action != "queued" or decision.message_id is None:
                continue
            message = session.get(ScheduledMessage, decision.message_id)
            rules = ", ".join(message.rule_ids or [])
            if message.status in HANDED_OVER:
                decision.action, decision.why = "sent", ""
            elif message.status == "pending":
                decision.action = "deferred"
                decision.why = f"until {message.not_before:%Y-%m-%d %H:%M} UTC ({rules}: {message.reason})" \
                    if rules else f"queued for {message.not_before:%Y-%m-%d %H:%M} UTC, the campaign's start"
            else:
                decision.action, decision.why = message.status, f"{rules}: {message.reason}"


# --- results ----------------------------------------------------------------------------------------------------------

@dataclass
class VariantResult:
    name: str
    text: str
    assigned: int = 0
    sent: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _ in METRICS})
    paid_cents: int = 0


@dataclass
class Results:
    campaign: Campaign
    variants: list[VariantResult]
    sentences: list[str]
    comparisons: dict[str, list[experiments.Comparison]]


def results(session: Session, campaign: Campaign, now: datetime | None = None) -> Results:
    """Per variant: people assigned, messages sent, and of those sent, how many replied, verified, promised
    (agreed a plan) and paid within the campaign's window after their message; then each variant against the
    first, metric by metric."""
    now = now or datetime.now(timezone.utc)
    by_name = {v["name"]: VariantResult(v["name"], v["text"]) for v in campaign.variants}
    rows = session.execute(select(CampaignRecipient, Account).join(Account, Account.id == CampaignRecipient.account_id)
                           .where(CampaignRecipient.campaign_id == campaign.id)).all()
    # Each person's first message that went out, whichever round it was: outcomes count from there.
    first_sent: dict[str, ScheduledMessage] = {}
    for account_id, message in session.execute(
            select(CampaignSend.account_id, ScheduledMessage)
            .join(ScheduledMessage, ScheduledMessage.id == CampaignSend.scheduled_message_id)
            .where(CampaignSend.campaign_id == campaign.id, ScheduledMessage.status.in_(HANDED_OVER),
                   ScheduledMessage.sent_at.is_not(None))
            .order_by(ScheduledMessage.sent_at, ScheduledMessage.id)).all():
        first_sent.setdefault(account_id, message)
    window = timedelta(days=campaign.result_days)
    for recipient, account in rows:
        result = by_name.get(recipient.variant or "")
        if result is None:
            continue
        result.assigned += 1
        message = first_sent.get(account.id)
        if message is None:
            continue
        result.sent += 1
        start, end = message.sent_at, min(message.sent_at + window, now)
        hit = {
            "reply": session.scalar(select(Message.id).join(Conversation, Conversation.id == Message.conversation_id)
                                    .where(Conversation.channel == message.channel,
                                           func.lower(Conversation.external_id) == message.address.lower(),
                                           Message.direction == "in", Message.created_at > start,
                                           Message.created_at <= end).limit(1)),
            "verification": session.scalar(select(Conversation.id).where(
                Conversation.debtor_id == account.debtor_id, Conversation.verified_at > start,
                Conversation.verified_at <= end).limit(1)),
            "promise": session.scalar(select(Plan.id).where(Plan.account_id == account.id, Plan.created_at > start,
                                                            Plan.created_at <= end).limit(1)),
        }
        paid = session.scalar(select(func.coalesce(func.sum(Payment.applied_cents), 0)).where(
            Payment.account_id == account.id, Payment.status == "succeeded", Payment.applied_at > start,
            Payment.applied_at <= end)) or 0
        hit["payment"] = paid or None
        result.paid_cents += int(paid)
        for key, found in hit.items():
            result.counts[key] += found is not None
    variants = list(by_name.values())
    sentences: list[str] = []
    comparisons: dict[str, list[experiments.Comparison]] = {}
    base = variants[0]
    for key, label in METRICS:
        # One family per metric: each variant against the first, corrected together (Holm–Bonferroni).
        comparisons[key] = experiments.corrected([
            experiments.two_proportion_test(base.counts[key], base.sent, other.counts[key], other.sent)
            for other in variants[1:]])
        for other, comparison in zip(variants[1:], comparisons[key], strict=True):
            sentences.append(experiments.verdict(f"variant {base.name}", f"variant {other.name}", label, comparison,
                                                 EVENTS[key]))
    return Results(campaign, variants, sentences, comparisons)


def accounts_reached(session: Session, campaign_id: str) -> set[str]:
    """The accounts a campaign's message (of any round) reached (sent), for the dashboard's per-campaign figures."""
    return set(session.scalars(select(CampaignSend.account_id)
                               .join(ScheduledMessage, ScheduledMessage.id == CampaignSend.scheduled_message_id)
                               .where(CampaignSend.campaign_id == campaign_id,
                                      ScheduledMessage.status.in_(HANDED_OVER))))


def messages_sent(session: Session, campaign_id: str, lo: datetime, hi: datetime) -> int:
    """This campaign's own messages, every round's, the outbox handed to a channel in [lo, hi)."""
    return session.scalar(select(func.count()).select_from(CampaignSend)
                          .join(ScheduledMessage, ScheduledMessage.id == CampaignSend.scheduled_message_id)
                          .where(CampaignSend.campaign_id == campaign_id,
                                 ScheduledMessage.status.in_(HANDED_OVER), ScheduledMessage.sent_at >= lo,
                                 ScheduledMessage.sent_at < hi)) or 0


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(campaign: Campaign) -> str:
    return _SAFE_NAME.sub("-", campaign.name)[:60] or "campaign"

"""Compliance-critical requests: opt-out, cease, attorney, bankruptcy, deceased, wrong person, hardship and
asking for a person. Each is recorded with its rule ID and takes effect on the accounts it concerns. Until the
conversation is verified the reply reveals nothing about a debt, collection, a plan or a payment (DISC-3, ID-1:
whoever holds the phone may not be the debtor); a verified debtor may get a fuller `verified_reply`.

Which accounts a request concerns: the verified debtor's; over SMS or email before verification, every account of
that phone number or email address (the stricter reading: a cease typed from a number stops contact on what that
number is about); otherwise none yet, and the handoff carries the request to a person who matches it.

A report that holds accounts (cease, attorney, bankruptcy, death, hardship) stays with the conversation: its audit
event is the record, and when someone verifies later in that conversation it is applied to their accounts before
anything about them is said (apply_earlier_reports, called by bot/identity.py). A death reported, or someone saying
they are not the debtor, hands the conversation to a person for good (ID-1: a spouse or executor goes to a human;
ID-4): a verification is withdrawn, none is started again, and nothing about the debt is said in it
(handed_to_a_person)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, handoff, wording
from bot import language as languages
from bot.agents import escalation, notices
from bot.agents import queue as agent_queue
from bot.agents.hours import AgentHours
from bot.compliance import cues, holds, keywords, person_request, report_denials, report_details
from bot.db.models import Account, AccountStatus, AuditEvent, Conversation, Debtor, ScheduledMessage


@dataclass(frozen=True)
class SensitiveRule:
    rule_id: str
    event: str
    reply: str  # DISC-3: content-neutral, the wording before verification (tests/test_compliance_replies.py)
    handoff_reason: str | None = None
    verified_reply: str | None = None  # the fuller wording for a verified debtor, if any
    key: str = ""  # the replies' catalogue key (bot/wording/): the one sent is in the conversation's language


def _rule(rule_id: str, event: str, key: str, handoff_reason: str | None = None, *,
          verified: bool = False) -> SensitiveRule:
    """A rule whose replies are the catalogue's `key` (and `key`_verified): English here, the debtor's language when
    sent (handle())."""
    return SensitiveRule(rule_id, event, wording.say(key) if key else "", handoff_reason,
                         wording.say(f"{key}_verified") if verified else None, key)


RULES: dict[str, SensitiveRule] = {
    # OPT-3: the confirmation carries nothing else (no balance, no link).
    "opt_out": SensitiveRule("OPT-2", "opt_out_requested", ""),
    "cease_contact": _rule("CEASE-1", "cease_requested", "cease_reply", "cease"),
    "attorney_represented": _rule("CEASE-2", "attorney_reported", "attorney_reply", "attorney"),
    "bankruptcy": _rule("CEASE-3", "bankruptcy_reported", "bankruptcy_reply", "bankruptcy", verified=True),
    "deceased": _rule("CEASE-4", "deceased_reported", "deceased_reply", "deceased"),
    "wrong_person": _rule("ID-4", "wrong_party_reported", "wrong_person_reply"),
    "hardship": _rule("VUL-2", "hardship_reported", "hardship_reply", verified=True),
    # Its rule and audit event are used as they are; the reply actually sent is written by
    # bot/agents/escalation.next_steps (the expected wait from the live queue, or callback times outside hours).
    "request_human": _rule("HO-1", "human_requested", "request_human_reply", "request_human"),
}

# Statuses that end collection; an account already further along (paid, closed) keeps its status.
_ENDING_STATUS = {"cease_contact": AccountStatus.CEASED, "attorney_represented": AccountStatus.ATTORNEY,
                  "bankruptcy": AccountStatus.BANKRUPT}
_PAUSE_REASON = {"hardship": "hardship", "deceased": holds.DECEASED_REPORTED}
# Reports that hold accounts, applied again when the conversation is verified later (apply_earlier_reports).
_HOLDING = ("cease_contact", "attorney_represented", "bankruptcy", "deceased", "hardship")
# Reports that say the person writing is not the debtor: the conversation goes to a person (handed_to_a_person).
_HANDS_OVER = ("wrong_person", "deceased")

CRISIS_LINE = wording.say("crisis_line")  # the English one; crisis_cue answers in the conversation's language
# VUL-1: what a debtor who mentions military service is told. It says nothing about a debt (safe before
# verification) and never mentions a commanding officer or their command.
MILITARY_REPLY = wording.say("military_reply")


def crisis_cue(session: Session, conversation_id: str, text: str) -> list[str]:
    """VUL-2: a self-harm cue gets the crisis line and a person, whatever the NLU makes of the message.
    Called by the inbound gate on every message, before NLU. The cues are in bot/compliance/cues.py."""
    if not cues.is_crisis(text):
        return []
    conversation = session.get(Conversation, conversation_id)
    accounts = accounts_in_scope(session, conversation)
    account_id = accounts[0].id if accounts else None
    for account in accounts:
        account.collection_paused_reason = account.collection_paused_reason or "hardship"
    _cancel_scheduled(session, accounts, "VUL-2")
    audit.record(session, "crisis_cue", rule_id="VUL-2", conversation_id=conversation_id, account_id=account_id)
    handoff.request(session, conversation_id, "crisis", rule_id="VUL-2", account_id=account_id)
    return [wording.say("crisis_line", languages.current(session, conversation) if conversation is not None else None)]


def military_cue(session: Session, conversation_id: str, text: str, support_contact: str) -> list[str]:
    """VUL-1: a military cue in any message is flagged (audit event `military_cue`, which raises a review flag)
    and handed to a person (reason "military"); the debtor is told so once per conversation. Meant for the
    inbound gate on every message, before NLU, next to crisis_cue. Returns [] when there is no cue, or when this
    conversation was already flagged (no repeated audit events or replies while they talk about a deployment)."""
    if not cues.military_cue(text):
        return []
    conversation = session.get(Conversation, conversation_id)
    accounts = accounts_in_scope(session, conversation)
    if not _flag_military(session, conversation_id, accounts[0].id if accounts else None):
        return []
    speaks = languages.current(session, conversation) if conversation is not None else None
    return [wording.say("military_reply", speaks, support=support_contact)]


def _flag_military(session: Session, conversation_id: str, account_id: str | None) -> bool:
    """VUL-1: flag and hand off, once per conversation; False when it was flagged already. Collection is not
    paused here: whether the SCRA applies (interest cap, default judgments) is for the person to decide."""
    already = session.scalar(select(AuditEvent.id).where(AuditEvent.conversation_id == conversation_id,
                                                         AuditEvent.kind == "military_cue").limit(1))
    if already is not None:
        # A new handoff still gets asked for if the earlier one was resolved; handoff.request adds to an open one.
        handoff.request(session, conversation_id, "military", rule_id="VUL-1", account_id=account_id)
        return False
    audit.record(session, "military_cue", rule_id="VUL-1", conversation_id=conversation_id, account_id=account_id)
    handoff.request(session, conversation_id, "military", rule_id="VUL-1", account_id=account_id)
    return True


def accounts_in_scope(session: Session, conversation: Conversation | None) -> list[Account]:
    if conversation is None:
        return []
    if conversation.verified_at is not None and conversation.debtor_id:
        return list(session.scalars(select(Account).where(Account.debtor_id == conversation.debtor_id)))
    if conversation.channel == "sms":
        return list(session.scalars(select(Account).join(Debtor).where(Debtor.phone == conversation.external_id)))
    if conversation.channel == "email":
        return list(session.scalars(select(Account).join(Debtor).where(
            func.lower(Debtor.email) == conversation.external_id.lower())))
    return []


def _cancel_scheduled(session: Session, accounts: list[Account], rule_id: str) -> None:
    if not accounts:
        return
    for message in session.scalars(select(ScheduledMessage).where(
        ScheduledMessage.account_id.in_([a.id for a in accounts]), ScheduledMessage.status == "pending",
        ScheduledMessage.kind.not_in(["cease_confirmation", "validation_notice"]),
    )):
        message.status, message.rule_ids, message.reason = "cancelled", [rule_id], "collection stopped"


def _hold(session: Session, intent: str, accounts: list[Account]) -> None:
    """The hold a report puts on these accounts: a status that ends collection or a pause, and nothing left
    scheduled on them (CEASE-1..4, VUL-2)."""
    if intent in _ENDING_STATUS:
        for account in accounts:
            if account.status in (AccountStatus.ACTIVE, AccountStatus.DISPUTED):
                account.status = _ENDING_STATUS[intent]
        _cancel_scheduled(session, accounts, RULES[intent].rule_id)
    if intent in _PAUSE_REASON:
        for account in accounts:
            account.collection_paused_reason = _PAUSE_REASON[intent]
        _cancel_scheduled(session, accounts, RULES[intent].rule_id)


def _withdraw_verification(session: Session, conversation: Conversation, intent: str, now: datetime) -> None:
    """ID-4: the person verified in this conversation says they are not the debtor (or reports the debtor's death,
    or says someone else is writing now): the conversation is no longer verified. The debtor stays linked, so the
    outbound gate still applies the accounts' holds, and a person's words about the debt are refused (ID-1)."""
    conversation.verified_at = None
    audit.record(session, "verification_withdrawn", rule_id="ID-4", conversation_id=conversation.id,
                 account_id=conversation.account_id, actor="debtor", at=now, detail={"intent": intent})
    if intent in ("wrong_person", THIRD_PARTY_WRITING):  # a death report asks for its own person ("deceased")
        handoff.request(session, conversation.id, "third_party", rule_id="ID-4", account_id=conversation.account_id)


# ID-1: the audit event of someone saying who they are to the debtor (a spouse, a child) after a verification;
# like a wrong_person report it hands the conversation to a person for good (handed_to_a_person).
THIRD_PARTY_WRITING = "third_party_writing"


def another_person_writing(session: Session, conversation: Conversation, text: str,
                           now: datetime | None = None) -> bool:
    """ID-1, ID-4: in a verified conversation, the message says someone else is writing now ("this is Maria now,
    Luis handed me the phone", "I'm his wife"; cues.speaker_change): the verification is withdrawn before anything
    else is read, so nothing more about the debt is said until the new writer verifies as themselves. A third party
    (a spouse, an executor) goes to a person and is never verified here again (ID-1); someone who only gave a name
    may be a debtor on file and may verify. The verified debtor giving their own name changes nothing. True when
    the verification was withdrawn; the caller makes the dialogue forget it too."""
    if conversation.verified_at is None:
        return False
    change = cues.speaker_change(text)
    if change is None:
        return False
    debtor = session.get(Debtor, conversation.debtor_id) if conversation.debtor_id else None
    if not change.third_party and change.name is not None and debtor is not None and \
            change.name == cues.normalise(debtor.first_name or ""):
        return False  # "this is Luis now" from Luis
    now = now or datetime.now(timezone.utc)
    if change.third_party:
        audit.record(session, THIRD_PARTY_WRITING, rule_id="ID-1", conversation_id=conversation.id,
                     account_id=conversation.account_id, actor="debtor", at=now)
    _withdraw_verification(session, conversation, THIRD_PARTY_WRITING if change.third_party else "new_speaker", now)
    return True


def third_party_asking(session: Session, conversation: Conversation, text: str, support_contact: str,
                       now: datetime | None = None) -> list[str]:
    """ID-1, ID-4: before any verification, a writer who says they ask about someone else's debt ("I'm calling on
    behalf of my son, what does he owe?", cues.asks_about_someone_elses_debt) or who they are to the debtor ("I'm
    Jordan's wife", cues.speaker_change) is a third party: audited (`third_party_writing`, ID-1), handed to a person
    (ID-4) and answered with the neutral handover (DISC-3). From then on no identity check starts in the
    conversation (handed_to_a_person), so answering the debtor's questions discloses nothing. Called by the inbound
    gate before the NLU; [] when the conversation is verified (another_person_writing reads that case) or the words
    hold no third party. The address is not marked wrong-party: a spouse or parent may write from the debtor's own
    phone, and a person decides (as after a verification)."""
    if conversation.verified_at is not None:
        return []
    change = cues.speaker_change(text)
    if not cues.asks_about_someone_elses_debt(text) and not (change is not None and change.third_party):
        return []
    if handed_to_a_person(session, conversation.id, "") is None:  # recorded once per conversation
        accounts = accounts_in_scope(session, conversation)
        account_id = accounts[0].id if accounts else None
        audit.record(session, THIRD_PARTY_WRITING, rule_id="ID-1", conversation_id=conversation.id,
                     account_id=account_id, actor="debtor", at=now, detail={"before_verification": True})
        handoff.request(session, conversation.id, "third_party", rule_id="ID-4", account_id=account_id)
    handed_over = handed_to_a_person(session, conversation.id, support_contact)
    return [handed_over] if handed_over else []


def apply_earlier_reports(session: Session, conversation: Conversation, now: datetime | None = None) -> None:
    """CEASE-1..4, VUL-2: what was reported in this conversation before it was verified (when no account was known
    yet) holds the accounts of whoever has just verified in it, each with its rule: status or pause, scheduled
    messages cancelled, an audit event, the handoff told which account. Called on verification, before any
    answer about the accounts."""
    accounts = accounts_in_scope(session, conversation)
    if not accounts:
        return
    events = {RULES[intent].event: intent for intent in _HOLDING} | {"crisis_cue": "hardship"}  # VUL-2 both
    reported = session.scalars(select(AuditEvent).where(
        AuditEvent.conversation_id == conversation.id, AuditEvent.kind.in_(list(events))).order_by(AuditEvent.id))
    for event in reported:
        intent = events[event.kind]
        covered = set((event.detail or {}).get("accounts") or [])
        newly = [a for a in accounts if a.id not in covered]
        if not newly:
            continue
        rule = RULES[intent]
        _hold(session, intent, newly)
        audit.record(session, "report_applied", rule_id=rule.rule_id, conversation_id=conversation.id,
                     account_id=newly[0].id, at=now,
                     detail={"intent": intent, "reported_event": event.id, "accounts": [a.id for a in newly]})
        if rule.handoff_reason:
            handoff.request(session, conversation.id, rule.handoff_reason, rule_id=rule.rule_id,
                            account_id=newly[0].id)


def handed_over_not_misunderstood(session: Session, conversation_id: str, replies: list[dict[str, Any]],
                                  support_contact: str) -> list[dict[str, Any]]:
    """ID-4, CEASE-4: in a conversation handed to a person for a third party or a reported death, a message the NLU
    could not read ("what did he owe you?") gets the handover, not "Sorry, I didn't catch that": the person is
    waiting for someone, not asked to rephrase. Other replies, and every reply elsewhere, are unchanged."""
    fallbacks = escalation.fallback_texts()
    if not any(reply.get("text") in fallbacks for reply in replies):
        return replies  # the usual case: no query
    handed_over = handed_to_a_person(session, conversation_id, support_contact)
    if handed_over is None:
        return replies
    kept = [reply for reply in replies if reply.get("text") not in fallbacks]
    return kept if any(reply.get("text") == handed_over for reply in kept) else [*kept, {"text": handed_over}]


def handed_to_a_person(session: Session, conversation_id: str, support_contact: str) -> str | None:
    """ID-4, CEASE-4 (ID-1: a spouse, guardian or executor goes to a human): once someone in this conversation said
    they are not the debtor, or reported the debtor's death, nothing about the debt is said in it and no identity
    check is started again: the answer to any request for it is this reply (content-neutral, DISC-3), in the
    conversation's language. None when neither was reported."""
    kinds = set(session.scalars(select(AuditEvent.kind).where(
        AuditEvent.conversation_id == conversation_id,
        AuditEvent.kind.in_([RULES[intent].event for intent in _HANDS_OVER] + [THIRD_PARTY_WRITING]))))
    if not kinds:
        return None
    conversation = session.get(Conversation, conversation_id)
    speaks = languages.current(session, conversation) if conversation is not None else None
    # CEASE-4: a bereaved person is never told, or led to think, that they must pay (1006.18; FTC 2011 policy).
    key = "deceased_handed_over" if RULES["deceased"].event in kinds else "third_party_handed_over"
    return wording.say(key, speaks, support=support_contact)


# CEASE-1 needs the consumer to ask that we stop communicating (1006.6(c)). "Don't call me at work" only says where not
# to reach them (an inconvenient place, 1006.6(b)(3)): a cease_contact reading of a message whose only such words
# name a place is overruled by the words; any cease words, or no place, keep the stricter reading.
_PLACE_ONLY = re.compile(r"\b(?:do not|don'?t|dont|never|no|please stop)\s+(?:call|calling|text|texting|contact|email|"
                         r"phone)(?:\s+me)?\s+(?:at|on)\s+(?:work|my (?:work|job|office|work phone))\b|"
                         r"\bno me (?:llamen|llame|escriban)\s+(?:al|en el)\s+trabajo\b")
_CEASE_WORDS = re.compile(r"\b(?:stop (?:contacting|calling|texting|emailing|messaging|writing|bothering)|"
                          r"leave me alone|cease|refuse to pay|not (?:going to |gonna )?pay(?:ing)?|won'?t pay|"
                          r"no more (?:calls|texts|"
                          r"messages|letters|contact)|stop all|(?:do not|don'?t|dont|never) (?:contact|call|text|email|"
                          r"write|message) (?:me|us)(?! (?:at|on) )|dejen de|no voy a pagar|no me (?:contacten|"
                          r"llamen|escriban)(?! (?:al|en el) trabajo))\b")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", (text or "").lower())
                   if not unicodedata.combining(c)).replace("\u2019", "'")


def asks_to_cease(text: str) -> bool:
    """CEASE-1: whether a message the NLU read as cease_contact asks that we stop communicating; False only when its
    one restriction is a place ("please don't call me at work") and no words ask us to stop."""
    plain = _plain(text)
    return bool(_CEASE_WORDS.search(plain)) or not _PLACE_ONLY.search(plain)


def note_place_restriction(session: Session, conversation_id: str, text: str, collector_address: str,
                           now: datetime | None = None) -> list[str]:
    """1006.6(b)(3): "don't call me at work" is recorded for a person (the contact preferences hold times only, and
    Settle places no calls itself), audited, and answered; the business's mailing address, which such messages ask
    for, goes with it. Content-neutral (DISC-3): said before verification too."""
    conversation = session.get(Conversation, conversation_id)
    accounts = accounts_in_scope(session, conversation)
    account_id = accounts[0].id if accounts else None
    audit.record(session, "contact_restriction_noted", rule_id="TIME-1", conversation_id=conversation_id,
                 account_id=account_id, actor="debtor", at=now, detail={"place": "work"})
    handoff.request(session, conversation_id, "contact_restriction", rule_id="TIME-1", account_id=account_id,
                    details={"place": "work"}, now=now)
    speaks = languages.current(session, conversation) if conversation is not None else None
    replies = [wording.say("work_calls_noted", speaks)]
    if re.search(r"\b(?:address|direccion)\b", _plain(text)):
        replies.append(wording.say("mailing_address", speaks, address=", ".join(
            line.strip() for line in collector_address.split(";"))))
    return replies


def handle(session: Session, conversation_id: str, intent: str, text: str, support_contact: str,
           now: datetime | None = None, hours: AgentHours | None = None, collector_address: str = "") -> list[str]:
    """Apply the request's rule and return the replies to send (never anything about a debt). `hours`: when
    people are there to pick up (AGENT_HOURS); None means always. `collector_address`: given to a place restriction
    read as a cease, which is no cease (CEASE-1)."""
    now = now or datetime.now(timezone.utc)
    if intent == "cease_contact" and not asks_to_cease(text):
        return note_place_restriction(session, conversation_id, text, collector_address, now)
    if intent == "opt_out" and keywords.asks_to_resume(text):
        return resume_requested(session, conversation_id, text)
    rule = RULES[intent]
    conversation = session.get(Conversation, conversation_id)
    accounts = accounts_in_scope(session, conversation)
    account_id = accounts[0].id if accounts else None
    audit.record(session, rule.event, rule_id=rule.rule_id, conversation_id=conversation_id, account_id=account_id,
                 actor="debtor", detail={"intent": intent, "accounts": [a.id for a in accounts]})
    replies: list[str] = []

    if cues.military_cue(text):
        _flag_military(session, conversation_id, account_id)  # VUL-1, the same as in the inbound gate

    if intent == "opt_out":
        # OPT-2: plain phrasing opts out just like the keyword; OPT-3: exactly one confirmation.
        contact_preferences.opt_out(session, conversation.channel, conversation.external_id,
                                    via="natural language", conversation_id=conversation_id, now=now)

        # One wording per language.
        return [keywords.stop_reply(conversation.channel, languages.current(session, conversation))]
    if intent == "wrong_person":
        contact_preferences.mark_wrong_party(session, conversation.channel, conversation.external_id,
                                             conversation_id=conversation_id, now=now)
    _hold(session, intent, accounts)
    if intent in _HANDS_OVER and conversation is not None and conversation.verified_at is not None:
        _withdraw_verification(session, conversation, intent, now)
    if intent == "request_human":
        # HO-1: say what happens next and the expected wait from the live queue, or outside agent hours offer
        # callback times (bot/agents/escalation.py); the handoff says why (a lockout, ID-3; a dispute, DSP-1).
        reason, rule_id = escalation.reason_for_request(session, conversation, accounts, now)
        queued = handoff.request(session, conversation_id, reason, rule_id=rule_id, account_id=account_id)
        text, _buttons = escalation.next_steps(session, queued, hours or AgentHours.parse(""), support_contact, now)
        return replies + [text]
    if rule.handoff_reason:
        handoff.request(session, conversation_id, rule.handoff_reason, rule_id=rule.rule_id, account_id=account_id)
    verified = conversation is not None and conversation.verified_at is not None
    key = f"{rule.key}_verified" if verified and rule.verified_reply else rule.key
    if intent == "hardship" and agent_queue.open_handoff(session, conversation_id) is not None:
        # VUL-2 with HO-1 already asked for: a person is on the way, so not "say 'talk to a person'" again.
        key = key.replace("hardship_reply", "hardship_reply_queued")
    language = languages.current(session, conversation) if conversation is not None else None
    replies.append(wording.say(key, language, support=support_contact))  # DISC-3: neutral in either language
    return replies


def resume_requested(session: Session, conversation_id: str, text: str) -> list[str]:
    """OPT-3: "please start sending me emails again" read as an opt-out. Nothing is opted out; the request is audited
    (the evidence a compliance reviewer lifts an email opt-out with) and the person is told what happens next."""
    conversation = session.get(Conversation, conversation_id)
    audit.record(session, "contact_resume_requested", rule_id="OPT-3", conversation_id=conversation_id,
                 actor="debtor", detail={"channel": conversation.channel if conversation is not None else None})
    language = languages.current(session, conversation) if conversation is not None else None
    return [wording.say("resume_request_noted", language)]


@dataclass(frozen=True)
class Denial:
    """What is said instead of a report the words deny (report_denials): `replies`, then the identity check goes on
    (`resume_check`, when it was asking) or the dialogue's own fallback is said (`fallback`)."""

    replies: list[str]
    resume_check: bool = False
    fallback: bool = False


def denied_report(session: Session, conversation_id: str, intent: str, text: str, support_contact: str, *,
                  asked_slot: str | None = None, business: str = "") -> Denial | None:
    """CEASE-1..4, ID-4: a report the NLU read in words that say the opposite ("I don't have a lawyer", "I never
    filed for bankruptcy", "keep texting me", "I don't know my SSN", "this is his mother, he's not home") takes no
    effect: no hold, no flag on the account, no handoff for it. It is audited (`report_overruled_by_words`, with the
    rule, for a reviewer) and answered helpfully. `asked_slot`: the identity question waiting when it was written
    (the check goes on). None when the words do not deny the report: the rule applies as usual (handle)."""
    if intent not in RULES or not report_denials.denies(intent, text):
        return None
    conversation = session.get(Conversation, conversation_id)
    speaks = languages.current(session, conversation) if conversation is not None else None
    audit.record(session, "report_overruled_by_words", rule_id=RULES[intent].rule_id, conversation_id=conversation_id,
                 actor="debtor", detail={"intent": intent})
    if intent == "deceased":
        if report_denials.answers_for_someone(text):
            # ID-1, ID-4: a relative answering for someone alive is a third party: no debt information, a person.
            replies = handle(session, conversation_id, "wrong_person", text, support_contact)
            handoff.request(session, conversation_id, "third_party", rule_id="ID-1",
                            account_id=conversation.account_id if conversation is not None else None)
            return Denial(replies)
        return Denial([], resume_check=asked_slot is not None, fallback=asked_slot is None)
    own_details = intent == "wrong_person"
    if own_details and report_details.is_question(text):
        replies = [wording.say("verify_cant_say_which", speaks)]  # ID-2: which factor failed is never said
    elif own_details and asked_slot == "id_secret":
        replies = [wording.say("verify_secret_unknown", speaks)]  # the ZIP route (bot/identity.py)
    elif own_details and asked_slot is None and not report_denials.is_bare_unknown(text):
        # "you have my address wrong, I moved": the debtor's own details, for a person to update.
        handoff.request(session, conversation_id, "details_update", rule_id="ID-4",
                        account_id=conversation.account_id if conversation is not None else None)
        replies = [wording.say("details_noted", speaks)]
    elif own_details:
        replies = []
    elif report_denials.asks_about_us(text):
        replies = [wording.say("who_we_are", speaks, business=business)]  # DISC-4: not a lawyer, automated
    else:
        verified = conversation is not None and conversation.verified_at is not None and asked_slot is None
        replies = [wording.say("report_denied_verified" if verified else "report_denied", speaks)]
    return Denial(replies, resume_check=asked_slot is not None, fallback=not replies and asked_slot is None)


def hardship_and_person(session: Session, conversation_id: str, text: str, support: str,
                        hours: AgentHours) -> list[str]:
    """VUL-2: pause and record the hardship; HO-1: queue a real handoff, marked as hardship so the person knows
    why, and say what happens next (the wait, or callback times outside agent hours)."""
    handle(session, conversation_id, "hardship", text, support, hours=hours)
    conversation = session.get(Conversation, conversation_id)
    accounts = accounts_in_scope(session, conversation)
    handoff.request(session, conversation_id, "hardship", rule_id="VUL-2",
                    account_id=accounts[0].id if accounts else None)
    # The text has been read once (the VUL-1 military cue) by the hardship call; the request itself needs none.
    said = wording.say("hardship_with_person",
                       languages.current(session, conversation) if conversation is not None else None)
    return [said] + handle(session, conversation_id, "request_human", "", support, hours=hours)


def hardship_cue(session: Session, conversation_id: str, text: str, support: str,
                 hours: AgentHours | None = None) -> list[str]:
    """VUL-2: a hardship told in the message's words (cues.is_hardship: "I just lost my job, can I pause my
    payments?") gets the hardship rule, whatever the NLU makes of it: collection and autopay paused (holds), the
    hardship reply, and a person when asked for in the same message (HO-1). Called by the inbound gate before NLU;
    [] when there is no cue."""
    if not cues.is_hardship(text):
        return []
    hours = hours or AgentHours.parse("")
    if person_request.asks_for_person(text):
        return hardship_and_person(session, conversation_id, text, support, hours)
    return handle(session, conversation_id, "hardship", text, support, hours=hours)


def by_words(session: Session, conversation_id: str, text: str, support: str,
             hours: AgentHours | None = None) -> list[str]:
    """The requests the inbound gate applies by their words before the NLU, whatever the model reads: a hardship
    (VUL-2), then an attorney named with their details (CEASE-2). [] when the words hold neither. While a person owns
    the conversation the gate calls while_owned instead."""
    replies = hardship_cue(session, conversation_id, text, support, hours)
    if not replies:
        replies = attorney_cue(session, conversation_id, text, support, hours)
    return replies


def while_owned(session: Session, conversation: Conversation, text: str, support: str,
                hours: AgentHours | None = None, *, withdrawn: bool = False,
                now: datetime | None = None) -> tuple[str, ...]:
    """The requests the words make while a person owns the conversation, applied with the same functions as when the
    bot has it, and each shown to that person in the conversation (bot/agents/notices.py) so they stop talking about
    the debt: a third party writing (ID-1, ID-4: third_party_asking), a hardship (VUL-2), an attorney (CEASE-2,
    attorney_cue; and a representation stated in plain words, attorney_in_words, which in a bot-owned chat goes to
    the dialogue's attorney form: there is no dialogue here, so the rule is applied and the details given are kept,
    and the person asks for the rest). `withdrawn`: another_person_writing has just withdrawn the verification.
    Nothing is said to the debtor (the person answers). Returns the requests applied, which the NLU reading of the
    message then does not apply again."""
    applied: list[str] = []
    if third_party_asking(session, conversation, text, support, now):
        applied.append("third_party")  # as in a bot-owned chat, nothing else in their words is applied
    else:
        applied += ["new_speaker"] if withdrawn else []
        if hardship_cue(session, conversation.id, text, support, hours):
            applied.append("hardship")
        details = attorney_in_words(text)
        if attorney_cue(session, conversation.id, text, support, hours):
            applied.append("attorney_represented")
        elif details is not None:
            handle(session, conversation.id, "attorney_represented", text, support, now, hours)
            capture(session, conversation.id, "attorney_represented", details)
            applied.append("attorney_represented")
    for intent in applied:
        notices.record(session, conversation.id, intent, RULES[intent].rule_id if intent in RULES else None,
                       {"by": "words"})
    return tuple(applied)


def attorney_cue(session: Session, conversation_id: str, text: str, support: str,
                 hours: AgentHours | None = None) -> list[str]:
    """CEASE-2: an attorney report with the lawyer's name or phone in its words (report_details.reports_own_attorney)
    gets the attorney rule whatever the NLU makes of it, and the details it gives are kept. Called by the inbound
    gate before NLU; [] when there is no such report."""
    if not report_details.reports_own_attorney(text):
        return []
    replies = handle(session, conversation_id, "attorney_represented", text, support, hours=hours)
    capture(session, conversation_id, "attorney_represented", report_details.attorney_details(text))
    return replies


# CEASE-2: the metadata key under which the gateway hands the dialogue the attorney's details read from the words of
# a report it sends as the attorney request (attorney_in_words), so the attorney form asks only for what is missing.
ATTORNEY_DETAILS = "attorney_details"


def attorney_in_words(text: str) -> dict[str, str] | None:
    """CEASE-2: the writer says they have an attorney (report_details.states_representation: "I have a lawyer now,
    please talk to him", "I have a lawyer, Susan Park, 555-201-3344"), whatever the model would read: the attorney's
    details the words give (name, phone; either, both or none), for the dialogue's attorney form, which records the
    report, hands off and asks only for what is missing. None when the words state no representation."""
    if not report_details.states_representation(text):
        return None
    return report_details.representation_details(text)


def capture(session: Session, conversation_id: str, intent: str, details: dict[str, str]) -> None:
    """Store only what the rule allows: an attorney's name and phone (CEASE-2), a case number (CEASE-3)."""
    allowed = {"attorney_represented": {"attorney_name", "attorney_phone"},
               "bankruptcy": {"bankruptcy_case_number"}}[intent]
    kept = {k: v for k, v in details.items() if k in allowed and v}
    handoff.add_details(session, conversation_id, kept)
    audit.record(session, "details_captured", rule_id=RULES[intent].rule_id, conversation_id=conversation_id,
                 detail={"fields": sorted(kept)})

"""One way out (bot/messaging): every kind of message Settle sends meets the same rules for the same recipient.

A reply answers the consumer only while their session is live (TIME-2); written later, any message starts a
contact and gets every rule of a bot-initiated one. The recipients live in Boston (area code 617, ZIP 02139,
America/New_York), so the time-zone and residence wiring is exercised with real signals, not 555 numbers."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot import contact_preferences, conversations, handoff, wording
from bot.agents import queue, replies, users
from bot.compliance import outbound_gate, sensitive_requests
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import Account, AccountStatus, AuditEvent, Handoff, Message, Payment, ScheduledMessage
from bot.gateway.live import InProcessHub
from bot.gateway.pipeline import Pipeline
from bot.gateway.rasa_client import RasaTurn
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from bot.messaging.outbox import Draft
from bot.payments.messages import tell_debtor
from tests.conftest import add_debtor

NIGHT = datetime(2026, 12, 2, 3, 30, tzinfo=timezone.utc)  # 22:30 in Boston: outside 08:00-20:59
NOON = datetime(2026, 12, 2, 17, 0, tzinfo=timezone.utc)  # 12:00 in Boston
_numbers = itertools.count(1000)

KINDS = ("bot_reply", "agent_reply", "handback", "payment_receipt", "refund_receipt", "reminder", "debit_notice")
RECIPIENTS = {  # what is true of the recipient -> the time it is, and the rule that must stop the message
    "opted_out": (NOON, "OPT-3", "blocked"),
    "wrong_party": (NOON, "ID-4", "blocked"),
    "night_time": (NIGHT, "TIME-1", "deferred"),
    "over_cap": (NOON, "FREQ-1", "deferred"),
}


def _recipient(session, state: str, now: datetime, *, zip_code: str = "02139") -> dict[str, Any]:
    """A verified Boston debtor whose last message was three hours ago (the session is over), in `state`."""
    n = next(_numbers)
    phone = f"+1617555{n:04d}"
    debtor, account = add_debtor(session, account_ref=f"SET-{n}", phone=phone, zip_code=zip_code)
    debtor.timezone = "America/New_York"
    conversation = conversations.get_or_create(session, "sms", phone)
    conversation.debtor_id, conversation.account_id = debtor.id, account.id
    conversation.verified_at = conversation.session_started_at = now - timedelta(hours=3)
    conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="ok thanks",
                                 at=now - timedelta(hours=3))
    contact_preferences.record_inbound(session, "sms", phone, now - timedelta(hours=3))  # ID-5 holds
    if state == "opted_out":
        contact_preferences.opt_out(session, "sms", phone, via="keyword:STOP", now=now - timedelta(hours=2))
    elif state == "wrong_party":
        contact_preferences.mark_wrong_party(session, "sms", phone, now=now - timedelta(hours=2))
    elif state == "over_cap":
        session.add(ScheduledMessage(account_id=account.id, channel="sms", address=phone, kind="reminder",
                                     text="earlier reminder", not_before=now - timedelta(hours=1), status="sent",
                                     sent_at=now - timedelta(hours=1)))
    session.flush()
    return {"phone": phone, "account": account, "conversation": conversation, "debtor": debtor}


def _post(session, kind: str, who: dict[str, Any], now: datetime, engine) -> tuple[str, tuple[str, ...]]:
    """Send one message of `kind` the way Settle sends it; (status, rule IDs) of the result."""
    conversation, account = who["conversation"], who["account"]
    if kind == "bot_reply":
        posted = outbox.post_reply(session, conversation, Draft("Is there anything else I can help with?"), now=now)
    elif kind in ("agent_reply", "handback"):
        agent = users.create_user(session, f"agent{next(_numbers)}", "correct horse battery", "agent",
                                  display_name="Ana")
        queued = handoff.request(session, conversation.id, "request_human", rule_id="HO-1", account_id=account.id)
        queue.claim(session, queued.id, agent)
        if kind == "agent_reply":
            posted = replies.record_reply(session, queued.id, agent, "Hi, this is Ana. Are you still there?", now=now)
        else:
            posted = replies.record_bot_notice(session, queue.hand_back(session, queued.id, agent), now=now)
    elif kind in ("payment_receipt", "refund_receipt"):
        payment = Payment(reference=f"PAY-{next(_numbers)}", account_id=account.id, conversation_id=conversation.id,
                          method="checkout", amount_cents=5000)
        session.add(payment)
        session.flush()
        [posted] = tell_debtor(session, payment, "Thanks, we got your payment of $50.00.", kind, now).posted
    else:
        queued_message = outbox.schedule(session, account_id=account.id, channel="sms", address=who["phone"],
                                         kind=kind, text="Your next payment is due soon.",
                                         not_before=now - timedelta(minutes=1))
        session.commit()
        outbound_queue.process_due(engine, outbound_queue.local_transport(engine), now=now)
        session.expire_all()
        stored = session.get(ScheduledMessage, queued_message.id)
        return ("deferred" if stored.status == "pending" else stored.status), tuple(stored.rule_ids or ())
    return posted.status, posted.rule_ids


@pytest.mark.parametrize("state", RECIPIENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_message_meets_the_recipients_rule(sqlite_engine, kind, state):
    """The issue's acceptance test: a bot reply, an agent reply, the hand-back notice, a receipt, a refund receipt,
    a reminder and a notice, each at an opted-out (OPT-3), a wrong-party (ID-4), a night-time (TIME-1) and an
    over-cap (FREQ-1) recipient whose session is over: each is blocked or deferred with its rule ID.
    Mutations tried: `consumer_started` always True (the late reply, hand-back and receipts went out at night and
    over the cap); the suppression check removed from check_initiated (every opted-out and wrong-party case sent)."""
    now, rule, outcome = RECIPIENTS[state]
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, state, now)
        status, rule_ids = _post(session, kind, who, now, sqlite_engine)
    assert status == outcome and rule in rule_ids, (kind, state, status, rule_ids)


def test_TIME_2_a_reply_in_a_session_the_consumer_started_goes_out_at_night(sqlite_engine):
    """TIME-2: the consumer wrote a minute ago at 22:30; the answer goes now, uncapped."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "over_cap", NIGHT)
        conversations.record_message(session, who["conversation"], direction="in", sender_role="debtor",
                                     text="what do I owe?", at=NIGHT - timedelta(minutes=1))
        posted = outbox.post_reply(session, who["conversation"], Draft("Here's your balance."), now=NIGHT)
    assert posted.sent and posted.rule_ids == ()


def test_FREQ_1_one_person_with_three_accounts_gets_one_text_a_day(sqlite_engine):
    """FREQ-1 counts per person and phone, not per account. Mutation tried: counting only the message's own
    account (the old query) -> the second account's reminder went out the same day."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "fresh", NOON)
        others = [Account(debtor_id=who["debtor"].id, account_ref=f"SET-X{next(_numbers)}", creditor="Beta Card",
                          balance_cents=9900) for _ in range(2)]
        session.add_all(others)
        session.flush()
        first = outbox.schedule(session, account_id=who["account"].id, channel="sms", address=who["phone"],
                                kind="reminder", text="A reminder.", not_before=NOON - timedelta(minutes=5))
        second = outbox.schedule(session, account_id=others[0].id, channel="sms", address=who["phone"],
                                 kind="reminder", text="Another reminder.", not_before=NOON - timedelta(minutes=1))
    outbound_queue.process_due(sqlite_engine, outbound_queue.local_transport(sqlite_engine), now=NOON)
    with session_scope(sqlite_engine) as session:
        assert session.get(ScheduledMessage, first.id).status == "sent"
        later = session.get(ScheduledMessage, second.id)
        assert later.status == "pending" and later.rule_ids == ["FREQ-1"] and later.not_before > NOON


def test_FREQ_1_the_massachusetts_cap_follows_where_the_person_lives(sqlite_engine):
    """A Boston resident (ZIP 02139) on an account opened in Texas: Massachusetts allows 2 texts in 7 days, the
    default 3. Mutation tried: `residence_state` returning the account's state -> the third text went out."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "fresh", NOON)
        who["account"].state = "TX"
        for days in (2, 4):
            session.add(ScheduledMessage(account_id=who["account"].id, channel="sms", address=who["phone"],
                                         kind="reminder", text="earlier", not_before=NOON - timedelta(days=days),
                                         status="sent", sent_at=NOON - timedelta(days=days)))
        third = outbox.schedule(session, account_id=who["account"].id, channel="sms", address=who["phone"],
                                kind="reminder", text="A reminder.", not_before=NOON - timedelta(minutes=1))
    outbound_queue.process_due(sqlite_engine, outbound_queue.local_transport(sqlite_engine), now=NOON)
    with session_scope(sqlite_engine) as session:
        assert session.get(ScheduledMessage, third.id).rule_ids == ["FREQ-1"]
    assert outbound_gate.residence_state(who["debtor"], who["account"]) == "MA"


def test_OPT_3_a_consumer_who_writes_after_stop_is_answered_once(sqlite_engine):
    """OPT-3: after STOP nothing goes until the consumer writes; then one answer, and nothing more until START.
    Mutation tried: dropping the 'answered once already' half of `_reply_suppression` -> the second reply went."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "opted_out", NOON)
        conversation = who["conversation"]
        before = outbox.post_reply(session, conversation, Draft("Anything else?"), now=NOON)
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text="why did you text me", at=NOON - timedelta(seconds=30))
        first = outbox.post_reply(session, conversation, Draft("You're unsubscribed."), now=NOON)
        second = outbox.post_reply(session, conversation, Draft("Anything else?"), now=NOON + timedelta(seconds=1))
    assert before.status == "blocked" and before.rule_ids == ("OPT-3",)
    assert first.sent
    assert second.status == "blocked" and second.rule_ids == ("OPT-3",)


def _writing_at_an_inconvenient_time(session, text: str, language: str | None = None) -> tuple[dict, Any]:
    """A recipient who marked 12:00-13:00 (Boston) inconvenient and wrote `text` two minutes before noon, in a
    session that started then: (the recipient, their conversation)."""
    who = _recipient(session, "fresh", NOON)
    conversation = who["conversation"]
    conversation.language = language
    contact_preferences.preference_for(session, "sms", who["phone"]).inconvenient_times = [
        {"weekday": None, "start": "12:00", "end": "13:00", "zone": "America/New_York"}]
    conversation.session_started_at = NOON - timedelta(minutes=2)
    conversations.record_message(session, conversation, direction="in", sender_role="debtor", text=text,
                                 at=NOON - timedelta(minutes=2))
    return who, conversation


def test_TIME_2_at_an_inconvenient_time_one_answer_asks_and_the_rest_waits(sqlite_engine):
    """TIME-2: the consumer marked 12:00-13:00 inconvenient and writes at 12:00: one turn is answered, with the
    question; a second turn waits until 13:00. Mutation tried: `_inconvenient_time` returning allowed -> the second
    answer went at once."""
    with session_scope(sqlite_engine) as session:
        who, conversation = _writing_at_an_inconvenient_time(session, "hi")
        first = outbox.post_reply(session, conversation, Draft("Hello! How can I help?"), now=NOON)
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="balance",
                                     at=NOON - timedelta(minutes=1))
        second = outbox.post_reply(session, conversation, Draft("Please verify first."), now=NOON)
    assert first.sent and outbound_gate.INCONVENIENT_TIME_QUESTION in first.text
    assert second.status == "deferred" and second.rule_ids == ("TIME-2",)
    assert second.not_before == datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)  # 13:00 in Boston


def test_TIME_2_LANG_1_the_inconvenient_time_question_is_asked_in_spanish_and_a_si_lifts_it(sqlite_engine):
    """TIME-2 in the conversation's language (LANG-1): a Spanish speaker writing at a time they marked inconvenient
    gets the question in Spanish, and "sí" right after it lifts the designation. Mutations tried: the question said
    without the language (English under a Spanish answer); the revoke check knowing only the English question."""
    with session_scope(sqlite_engine) as session:
        who, conversation = _writing_at_an_inconvenient_time(session, "hola", language="es")
        first = outbox.post_reply(session, conversation, Draft("¡Hola! ¿En qué le puedo ayudar?"), now=NOON)
        assert first.sent and first.text.endswith(wording.say("inconvenient_time_question", "es"))
        assert outbound_gate.INCONVENIENT_TIME_QUESTION not in first.text
        si = conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="sí",
                                          at=NOON + timedelta(minutes=1))
        assert outbound_gate.revokes_inconvenient_time(session, conversation, si.id, "sí")
        assert contact_preferences.preference_for(session, "sms", who["phone"]).inconvenient_times is None


def test_ID_1_DISC_3_an_agent_says_nothing_about_a_debt_before_verification(sqlite_engine):
    """Mutation tried: removing the unverified-conversation check from `_person_rules` -> the balance went out to
    whoever holds the phone."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "fresh", NOON)
        conversation = who["conversation"]
        conversation.verified_at = None
        conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="hello",
                                     at=NOON - timedelta(minutes=1))
        debt = outbox.post_reply(session, conversation, Draft("Your balance is $1,234.56.", "agent_reply",
                                                              sender_role="agent", sender_name="Ana"), now=NOON)
        creditor = outbox.post_reply(session, conversation, Draft("This is about Acme Bank.", "agent_reply",
                                                                  sender_role="agent", sender_name="Ana"), now=NOON)
        neutral = outbox.post_reply(session, conversation, Draft("Hi, can you confirm your date of birth?",
                                                                 "agent_reply", sender_role="agent",
                                                                 sender_name="Ana"), now=NOON)
    assert debt.status == "blocked" and "ID-1" in debt.rule_ids
    assert creditor.status == "blocked" and "ID-1" in creditor.rule_ids
    assert neutral.sent and not neutral.text.startswith("This message is from a debt collector")  # DISC-3


def test_CEASE_1_an_agent_cannot_talk_about_the_debt_after_a_cease(sqlite_engine):
    """CEASE-1: any mention of the debt, not only a payment ask. Mutation tried: the CEASE branch of
    `_person_rules` removed -> "about your balance" went out."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "fresh", NOON)
        who["account"].status = AccountStatus.CEASED
        conversations.record_message(session, who["conversation"], direction="in", sender_role="debtor",
                                     text="leave me alone", at=NOON - timedelta(minutes=1))
        talk = outbox.post_reply(session, who["conversation"], Draft(
            "I can explain your balance if you like.", "agent_reply", sender_role="agent"), now=NOON)
        close = outbox.post_reply(session, who["conversation"], Draft(
            "Understood. We'll stop contacting you.", "agent_reply", sender_role="agent"), now=NOON)
    assert talk.status == "blocked" and "CEASE-1" in talk.rule_ids
    assert close.sent


def test_TONE_1_button_titles_and_an_agents_name_are_linted_too(sqlite_engine):
    """What the debtor reads with a message is checked: a button's title, and the name an agent signs with.
    Mutation tried: linting `text` alone in check_reply -> both went out."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "fresh", NOON)
        conversations.record_message(session, who["conversation"], direction="in", sender_role="debtor",
                                     text="options?", at=NOON - timedelta(minutes=1))
        button = outbox.post_reply(session, who["conversation"], Draft(
            "What would you like to do?", payload={"buttons": [{"title": "Pay now or go to jail", "payload": "/x"}]}),
            now=NOON)
        named = outbox.post_reply(session, who["conversation"], Draft(
            "Hello there.", "agent_reply", sender_role="agent", sender_name="our attorney Ana"), now=NOON)
    assert button.status == "blocked" and "TONE-1" in button.rule_ids
    assert named.status == "blocked" and "TONE-1" in named.rule_ids


class _Rasa:
    """A Rasa that offers a plan to anything: the pipeline must not ask it when the rule answers first."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        self.asked.append(text)
        return RasaTurn([{"text": "I can set up a smaller plan for you."}], "hardship", 0.9)

    async def parse(self, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        return {"text": text, "intent": {"name": "out_of_scope", "confidence": 0.99}}


def _pipeline(sqlite_url: str, rasa: _Rasa) -> Pipeline:
    settings = Settings(database_url=sqlite_url, support_contact="help@example.com")
    return Pipeline(get_engine(sqlite_url), rasa, settings, hub=InProcessHub())  # type: ignore[arg-type]


def test_VUL_2_a_crisis_cue_gets_988_first_and_no_plan_offer(sqlite_url):
    """VUL-2 on every message, crisis first: the 988 line and a person, and nothing from the dialogue.
    Mutation tried: the crisis-first branch in `_receive` removed (crisis as a prefix again) -> Rasa was asked and
    the plan offer followed the 988 line."""
    rasa = _Rasa()
    result = asyncio.run(_pipeline(sqlite_url, rasa).handle("rest", "crisis-1", "I can\u2019t go on like this"))
    assert [p.text for p in result.sent] == [sensitive_requests.CRISIS_LINE] and rasa.asked == []
    with session_scope(get_engine(sqlite_url)) as session:
        assert session.scalar(select(Handoff.reason).where(Handoff.conversation_id == result.conversation_id)) \
            == "crisis"


def test_VUL_1_a_military_cue_in_any_message_is_flagged_and_handed_off(sqlite_url):
    """VUL-1 on every message, whatever the NLU reads. Mutation tried: the military_cue call removed from
    `_receive` -> no handoff, no flag."""
    rasa = _Rasa()
    result = asyncio.run(_pipeline(sqlite_url, rasa).handle("rest", "mil-1", "I'm deployed with the army until May"))
    texts = [p.text for p in result.sent]
    assert texts[0] == sensitive_requests.MILITARY_REPLY.format(support="help@example.com")
    with session_scope(get_engine(sqlite_url)) as session:
        assert session.scalar(select(AuditEvent.rule_id).where(
            AuditEvent.conversation_id == result.conversation_id, AuditEvent.kind == "military_cue")) == "VUL-1"
        assert session.scalar(select(Handoff.reason).where(Handoff.conversation_id == result.conversation_id)) \
            == "military"


def test_TIME_2_yes_to_the_question_lifts_the_inconvenient_time(sqlite_url):
    """TIME-2: the consumer answers YES to "is now fine after all?" and the designation is lifted (audited).
    Mutation tried: `outbound_gate.revokes_inconvenient_time` returning False -> the designation stayed."""
    engine = get_engine(sqlite_url)
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "rest", "time2-yes")
        contact_preferences.preference_for(session, "rest", "time2-yes").inconvenient_times = [
            {"weekday": None, "start": "00:00", "end": "00:00", "zone": "UTC"}]
        conversations.record_message(session, conversation, direction="out", sender_role="bot", status="sent",
                                     text=f"Hello.\n\n{outbound_gate.INCONVENIENT_TIME_QUESTION}")
    rasa = _Rasa()
    result = asyncio.run(_pipeline(sqlite_url, rasa).handle("rest", "time2-yes", "yes"))
    with session_scope(engine) as session:
        assert contact_preferences.preference_for(session, "rest", "time2-yes").inconvenient_times is None
        assert session.scalar(select(AuditEvent.rule_id).where(AuditEvent.kind == "inconvenient_time_revoked")) \
            == "TIME-2"
    assert rasa.asked == [] and result.sent[0].text.startswith("Thanks, we'll keep talking now")


def test_a_turn_result_names_the_stored_inbound_message_and_each_reply(sqlite_url):
    """The pipeline hands channels what it stored (ids), not dicts to match up by text."""
    result = asyncio.run(_pipeline(sqlite_url, _Rasa()).handle("rest", "ids-1", "hello"))
    with session_scope(get_engine(sqlite_url)) as session:
        inbound = session.get(Message, result.inbound_id)
        assert (inbound.direction, inbound.text) == ("in", "hello")
        assert [session.get(Message, p.message_id).text for p in result.sent] == [p.text for p in result.sent]




def test_DISC_3_the_hand_back_notice_names_no_balance_before_verification(sqlite_engine):
    """The hand-back menu names balance and payments, so an unverified conversation hears the neutral wording.
    Mutation tried: choosing HANDED_BACK_TEXT whatever the verification -> the menu went to a stranger."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "fresh", NOON)
        who["conversation"].verified_at = None
        conversations.record_message(session, who["conversation"], direction="in", sender_role="debtor",
                                     text="hello", at=NOON - timedelta(minutes=1))
        agent = users.create_user(session, f"agent{next(_numbers)}", "correct horse battery", "agent")
        queued = handoff.request(session, who["conversation"].id, "request_human", rule_id="HO-1")
        queue.claim(session, queued.id, agent)
        notice = replies.record_bot_notice(session, queue.hand_back(session, queued.id, agent), now=NOON)
    assert notice.sent and notice.text == replies.HANDED_BACK_NEUTRAL


def test_ID_4_the_wrong_party_report_is_confirmed_once_and_then_nothing_goes(sqlite_engine):
    """ID-4: the turn that reports a wrong number gets its one confirmation; nothing more goes until the person
    writes again. Mutation tried: dropping the `confirmed` condition -> the confirmation itself was blocked (the red
    team's wrong-number case got no answer)."""
    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "fresh", NOON)
        conversation = who["conversation"]
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text="wrong number", at=NOON - timedelta(seconds=5))
        contact_preferences.mark_wrong_party(session, "sms", who["phone"], now=NOON - timedelta(seconds=4))
        confirmation = outbox.post_reply(session, conversation, Draft("Sorry for the mix-up."), now=NOON)
        more = outbox.post_reply(session, conversation, Draft("Anything else?"), now=NOON + timedelta(seconds=1))
    assert confirmation.sent
    assert more.status == "blocked" and more.rule_ids == ("ID-4",)


def test_OPT_3_a_turn_of_several_replies_after_stop_sends_one_and_reads_the_preference_once(sqlite_engine):
    """OPT-3 over one turn's replies (post_replies): the consumer wrote after STOP, so the first reply goes and the
    rest are blocked; the address's preference is read once for the whole turn, not once per reply. Mutation
    tried: post_replies leaving each reply to read it (the count) and passing None for it (the OPT-3 blocks)."""
    from sqlalchemy import event

    with session_scope(sqlite_engine) as session:
        who = _recipient(session, "opted_out", NOON)
        conversation = who["conversation"]
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text="why did you text me", at=NOON - timedelta(seconds=30))
        session.flush()
        reads: list[str] = []

        def count(_conn, _cursor, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "FROM contact_preferences" in statement:
                reads.append(statement)

        event.listen(sqlite_engine, "before_cursor_execute", count)
        try:
            posted = outbox.post_replies(session, conversation, [Draft("You're unsubscribed."), Draft("Anything else?"),
                                                                 Draft("Goodbye.")], now=NOON)
        finally:
            event.remove(sqlite_engine, "before_cursor_execute", count)
    assert [(p.status, p.rule_ids) for p in posted] == [("sent", ()), ("blocked", ("OPT-3",)), ("blocked", ("OPT-3",))]
    assert len(reads) == 1

"""Compliance-critical requests take effect, are recorded with their rule ID, and reveal nothing about a debt."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from actions import sensitive as sensitive_actions
from actions import verification
from bot import contact_preferences, conversations, disputes, wording
from bot.agents import replies as agent_replies
from bot.compliance import holds, neutral, outbound_gate, sensitive_requests
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, AuditEvent, Dispute, Handoff, ScheduledMessage
from bot.gateway import pipeline, texts
from bot.gateway.pipeline import stop_reply
from tests.conftest import add_debtor

DEBT_WORDS = ("debt", "balance", "$", "owe", "Acme")
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)


def _verified(session, **debtor):
    debtor_row, account = add_debtor(session, **debtor)
    conv = conversations.get_or_create(session, "rest", "web-1")
    conv.debtor_id, conv.account_id, conv.verified_at = debtor_row.id, account.id, NOW
    return conv, account


def _reminder(session, account, address="+15555550101"):
    message = ScheduledMessage(account_id=account.id, channel="sms", address=address, kind="reminder",
                               text="A payment is due soon.", not_before=NOW + timedelta(days=1))
    session.add(message)
    session.flush()
    return message


@pytest.mark.parametrize("intent", sorted(sensitive_requests.RULES))
def test_each_request_is_audited_with_its_rule_and_reveals_nothing(sqlite_engine, intent):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        replies = sensitive_requests.handle(session, conv.id, intent, "some text", "help@example.com")
        rule = sensitive_requests.RULES[intent]
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == rule.event)).one()
    assert event.rule_id == rule.rule_id
    assert replies and not any(word in reply for reply in replies for word in DEBT_WORDS)


def test_OPT_3_natural_language_opt_out_gives_one_bare_confirmation(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        replies = sensitive_requests.handle(session, conv.id, "opt_out", "stop texting me", "x@example.com")
        assert contact_preferences.suppression(session, "sms", "+15555550101") == "OPT-3"
    assert replies == [stop_reply("sms")]
    assert "http" not in replies[0] and "$" not in replies[0] and "START" in replies[0]


@pytest.mark.parametrize("text", ["Please start sending me emails again, I want my notices by email",
                                  "please start sending me texts", "can you opt me back in", "text me again please",
                                  "por favor vuelvan a mandarme correos", "envíenme los mensajes otra vez"])
def test_OPT_3_a_request_for_messages_again_read_as_an_opt_out_opts_nothing_out(sqlite_engine, text):
    """Exploratory pass: "Please start sending me emails again" was read as opt_out, and the chat was opted out.
    It opts nothing out, is audited for the reviewer who lifts an email opt-out, and says what happens next.
    Mutation tried: the asks_to_resume branch removed from sensitive_requests.handle -> opted out: fails."""
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "web", "resume-1")
        replies = sensitive_requests.handle(session, conv.id, "opt_out", text, "x@example.com")
        assert contact_preferences.suppression(session, "web", "resume-1") is None
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == conv.id)).all()
        assert (event.kind, event.rule_id) == ("contact_resume_requested", "OPT-3")
    assert replies == [wording.say("resume_request_noted")] and "START" in replies[0]


@pytest.mark.parametrize("text", ["stop texting me and start emailing me", "don't text me again",
                                  "never text me again", "stop sending me emails", "no more texts, email me again",
                                  "ya no me manden mensajes otra vez"])
def test_OPT_2_a_message_that_stops_anything_still_opts_out(sqlite_engine, text):
    """The resume reading never takes a stop away (OPT-2: the safe side). Mutation tried: the _STOPS_TOO check
    removed from keywords.asks_to_resume -> "stop texting me and start emailing me" opted nothing out: fails."""
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "sms", "+15555550102")
        sensitive_requests.handle(session, conv.id, "opt_out", text, "x@example.com")
        assert contact_preferences.suppression(session, "sms", "+15555550102") == "OPT-3"


def test_CEASE_1_cease_ends_collection_empties_the_scheduler_and_hands_off(engine):
    """'leave me alone, not paying' -> one closing message, account ceased, nothing left scheduled."""
    with session_scope(engine) as session:
        conv, account = _verified(session)
        reminder = _reminder(session, account)
        replies = sensitive_requests.handle(session, conv.id, "cease_contact", "leave me alone, not paying", "x")
        assert len(replies) == 1
        assert session.get(Account, account.id).status == AccountStatus.CEASED
        assert session.get(ScheduledMessage, reminder.id).status == "cancelled"
        assert session.get(ScheduledMessage, reminder.id).rule_ids == ["CEASE-1"]
        assert holds.hold_rule(session, session.get(Account, account.id)) == "CEASE-1"
        assert session.scalars(select(Handoff.reason)).one() == "cease"


def test_CEASE_1_a_cease_from_a_phone_before_verification_covers_that_numbers_accounts(engine):
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        sensitive_requests.handle(session, conv.id, "cease_contact", "stop contacting me", "x")
        assert session.get(Account, account.id).status == AccountStatus.CEASED


def test_CEASE_2_only_the_attorneys_name_and_phone_are_captured(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        sensitive_requests.handle(session, conv.id, "attorney_represented", "my lawyer handles this", "x")
        sensitive_requests.capture(session, conv.id, "attorney_represented",
                                   {"attorney_name": "Pat Doe", "attorney_phone": "+15555550199",
                                    "ssn": "123-45-6789"})
        handoff_row = session.scalars(select(Handoff)).one()
        assert session.get(Account, account.id).status == AccountStatus.ATTORNEY
    assert handoff_row.details == {"attorney_name": "Pat Doe", "attorney_phone": "+15555550199"}
    assert handoff_row.rule_id == "CEASE-2"


def test_CEASE_3_bankruptcy_halts_and_keeps_only_the_case_number(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        sensitive_requests.handle(session, conv.id, "bankruptcy", "i filed chapter 7", "x")
        sensitive_requests.capture(session, conv.id, "bankruptcy", {"bankruptcy_case_number": "24-12345"})
        assert session.get(Account, account.id).status == AccountStatus.BANKRUPT
        assert session.scalars(select(Handoff.details)).one() == {"bankruptcy_case_number": "24-12345"}


def test_CEASE_4_a_reported_death_pauses_collection_without_a_demand(engine):
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        replies = sensitive_requests.handle(session, conv.id, "deceased", "my husband passed away", "x@example.com")
        assert session.get(Account, account.id).collection_paused_reason == "deceased_reported"
        assert session.scalars(select(Handoff.reason)).one() == "deceased"
    assert not any(word in r.lower() for r in replies for word in ("pay", "owe", "estate must"))


def test_ID_4_a_wrong_person_marks_the_number_and_cancels_what_was_scheduled(engine):
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        reminder = _reminder(session, account)
        conv = conversations.get_or_create(session, "sms", "+15555550101")
        sensitive_requests.handle(session, conv.id, "wrong_person", "wrong number", "x")
        assert contact_preferences.suppression(session, "sms", "+15555550101") == "ID-4"
        assert session.get(ScheduledMessage, reminder.id).status == "cancelled"


def test_VUL_2_hardship_pauses_collection_and_offers_a_person(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        replies = sensitive_requests.handle(session, conv.id, "hardship", "i lost my job", "x")
        assert session.get(Account, account.id).collection_paused_reason == "hardship"
        assert holds.hold_rule(session, session.get(Account, account.id)) == "VUL-2"
    assert "talk to a person" in replies[-1]


@pytest.mark.parametrize("text", ["i cant go on", "I want to end my life", "thinking about killing myself",
                                  "i'd be better off dead"])
def test_VUL_2_self_harm_cues_get_988_and_a_person_whatever_the_intent(engine, text):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        replies = sensitive_requests.crisis_cue(session, conv.id, text)
        assert session.scalars(select(Handoff.reason)).one() == "crisis"
        assert session.get(Account, account.id).collection_paused_reason == "hardship"
    assert replies == [sensitive_requests.CRISIS_LINE] and "988" in replies[0]


def test_VUL_2_ordinary_messages_get_no_crisis_line(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        assert sensitive_requests.crisis_cue(session, conv.id, "can i go on a payment plan") == []


def test_VUL_1_military_cues_are_flagged_and_handed_off(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        replies = sensitive_requests.handle(session, conv.id, "hardship", "I'm deployed overseas", "x@example.com")
        assert session.scalars(select(AuditEvent.rule_id).where(AuditEvent.kind == "military_cue")).one() == "VUL-1"
        assert session.scalars(select(Handoff.reason)).one() == "military"
    assert not any("command" in r.lower() for r in replies)


@pytest.mark.parametrize("text", ["I can\u2019t go on", "I want to die", "giving up on everything",
                                  "I'll die before I pay"])
def test_VUL_2_crisis_cue_uses_the_shared_patterns_curly_apostrophes_and_all(engine, text):
    """VUL-2: the phrasings the reviewer found missing now get 988 and a person (patterns in cues.py)."""
    with session_scope(engine) as session:
        conv, account = _verified(session)
        assert sensitive_requests.crisis_cue(session, conv.id, text) == [sensitive_requests.CRISIS_LINE]
        assert session.get(Account, account.id).collection_paused_reason == "hardship"


def test_VUL_1_a_military_cue_in_any_message_is_flagged_handed_off_and_answered_once(engine):
    """VUL-1: military_cue (for the inbound gate, any intent) flags with VUL-1, hands off as "military" and
    answers once per conversation, never mentioning a command. Mutation tried: `_flag_military` returned True
    without checking for an earlier `military_cue` event: the second message was answered again and audited
    twice, and this test failed."""
    with session_scope(engine) as session:
        conv, account = _verified(session)
        replies = sensitive_requests.military_cue(session, conv.id, "I\u2019m stationed in Germany", "help@x.com")
        again = sensitive_requests.military_cue(session, conv.id, "still deployed, sorry", "help@x.com")
        none = sensitive_requests.military_cue(session, conv.id, "an army of bill collectors", "help@x.com")
        events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "military_cue")).all()
        assert [(e.rule_id, e.account_id) for e in events] == [("VUL-1", account.id)]
        handoff_row = session.scalars(select(Handoff)).one()
        assert (handoff_row.reason, handoff_row.rule_id) == ("military", "VUL-1")
        # Flagging does not pause collection: whether the SCRA applies is a person's call.
        assert session.get(Account, account.id).collection_paused_reason is None
    assert replies == [sensitive_requests.MILITARY_REPLY.format(support="help@x.com")] and again == [] and none == []
    assert "command" not in replies[0].lower() and not any(word in replies[0] for word in DEBT_WORDS)


def test_VUL_1_the_intent_handler_and_the_inbound_gate_flag_a_message_once(sqlite_engine):
    """VUL-1: handle() reuses the same flag, so a message seen by both records one military_cue event."""
    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        sensitive_requests.military_cue(session, conv.id, "I'm on active duty", "x")
        sensitive_requests.handle(session, conv.id, "hardship", "I'm on active duty", "x")
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.kind == "military_cue")).all()) == 1


def test_DSP_1_a_dispute_is_recorded_with_time_and_portion_and_holds_the_account(engine):
    """DSP-1: recorded with timestamp and disputed portion, confirmed in writing; DSP-2: the account is held."""
    with session_scope(engine) as session:
        conv, account = _verified(session, balance_cents=5000)
        receipts = disputes.record_dispute(session, conv.id, "amount", correct_cents=2000, now=NOW)
        dispute = session.scalars(select(Dispute)).one()
        assert (dispute.kind, dispute.disputed_cents, dispute.created_at) == ("amount", 3000, NOW)
        assert holds.hold_rule(session, session.get(Account, account.id)) == "DSP-2"
        text = disputes.confirmation(receipts)
    assert "$30.00" in text and "November 22, 2026" in text and "ending 0001" in text


def test_DSP_2_the_hold_lifts_only_when_a_person_records_verification(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        receipt = disputes.record_dispute(session, conv.id, "not_mine", now=NOW)[0]
        disputes.record_verification_sent(session, receipt.dispute_id, by="agent:pat", now=NOW)
        assert holds.hold_rule(session, session.get(Account, account.id)) is None
        assert session.get(Account, account.id).status == AccountStatus.ACTIVE


def test_DSP_3_do_i_have_to_pay_gets_the_dispute_right_and_its_end_date(engine):
    with session_scope(engine) as session:
        conv, account = _verified(session)
        account.validation_period_ends_at = NOW + timedelta(days=20)
        answer = disputes.must_i_pay_answer(session, conv.id, now=NOW)
        disputes.record_dispute(session, conv.id, "all", now=NOW)
        after = disputes.must_i_pay_answer(session, conv.id, now=NOW)
    assert "right to dispute" in answer and "December 12, 2026" in answer
    assert "won't ask you for any payment" in after
    assert "48" not in answer + after and "immediately" not in answer + after  # no overshadowing


# --- DISC-3: everything that can be said before verification ---------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# Responses Rasa can only utter to a verified debtor, and why. Every other response, and every variation not
# conditioned on `verified: true`, can reach whoever holds the phone.
VERIFIED_ONLY_RESPONSES = {
    "utter_ask_dispute_correct_amount": "dispute_form starts only when verified (data/rules/disputes.yml, "
                                        "actions/answers.py)",
}
# Texts said before verification by code this change may not edit (bot/gateway/pipeline.py,
# bot/compliance/outbound_gate.py, bot/agents/): known DISC-3 gaps, reported to their owners and listed in
# docs/compliance.md. Not silently skipped: the test fails once one of them is neutral, so it moves to the checked set.


def _verified_only(variation: dict) -> bool:
    return any(c.get("type") == "slot" and c.get("name") == "verified" and c.get("value") is True
               for c in variation.get("condition") or [])


def _unverified_domain_texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        for name, variations in ((yaml.safe_load(path.read_text()) or {}).get("responses") or {}).items():
            if name in VERIFIED_ONLY_RESPONSES:
                continue
            for n, variation in enumerate(variations):
                if not _verified_only(variation):
                    texts[f"{path.name}:{name}[{n}]"] = " ".join(
                        [variation.get("text") or ""] + [b["title"] for b in variation.get("buttons") or []])
    return texts


def _widget_intro() -> str:
    """The greeting the widget shows before anything is said, in every language (bot/gateway/texts)."""
    return " ".join(texts.section("widget", language)["intro"] for language in wording.LANGUAGES)


def test_DISC_3_everything_said_before_verification_is_content_neutral(sqlite_engine):
    """DISC-3 / ID-1: every bot text that can reach someone before right-party verification (every domain response
    variation not conditioned on `verified: true`, every sensitive-request reply, the action prompts, the web
    widget's intro, the gateway's own neutral replies, and what sensitive_requests.handle actually says to an
    unverified web chat and to an unverified phone that has an account) passes one detector,
    bot/compliance/neutral.debt_content: no debt, collection, balance, payment, plan, amount or creditor.

    Mutations tried: "balance" put back in utter_greet's unverified variation -> fails on
    conversation.yml:utter_greet[1]; the `verified` condition removed from utter_default's menu variation -> fails;
    sensitive_requests.handle choosing `verified_reply` regardless of verification -> fails on
    handle:bankruptcy:rest and handle:hardship:sms."""
    texts = _unverified_domain_texts()
    # the greeting a stranger gets is in the set, in English and in Spanish (domain/conversation.yml)
    assert {"conversation.yml:utter_greet[2]", "conversation.yml:utter_greet[3]"} <= set(texts)
    for intent, rule in sensitive_requests.RULES.items():
        texts[f"RULES[{intent}].reply"] = rule.reply
    texts |= {
        "CRISIS_LINE": sensitive_requests.CRISIS_LINE,
        "verification.VERIFY_FIRST": verification.VERIFY_FIRST, "verification.VERIFY_START": verification.VERIFY_START,
        "verification.LOCKED_MESSAGE": verification.LOCKED_MESSAGE,
        "verification.RETRY_MESSAGE": verification.RETRY_MESSAGE,
        "verification.ASK_DOB_AGAIN": verification.ASK_DOB_AGAIN,
        "verification.ASK_SECRET_AGAIN": verification.ASK_SECRET_AGAIN,
        "verification.ASK_LOCATOR_AGAIN": verification.ASK_LOCATOR_AGAIN,
        "sensitive.HARDSHIP_WITH_PERSON": sensitive_actions.HARDSHIP_WITH_PERSON,
        "sensitive.DETAILS_THANKS": sensitive_actions.DETAILS_THANKS,
        "widget.js intro": _widget_intro(),
        "pipeline.UNAVAILABLE_REPLY": pipeline.UNAVAILABLE_REPLY,
        "pipeline.stop_reply": pipeline.stop_reply("sms") + " " + pipeline.stop_reply("rest"),
        "pipeline.start_reply": pipeline.start_reply("sms") + " " + pipeline.start_reply("rest"),
        "pipeline.help_reply": pipeline.help_reply(Settings()),
        "agents.replies.HANDED_BACK_NEUTRAL": agent_replies.HANDED_BACK_NEUTRAL,
        "pipeline.EMPTY_MESSAGE_REPLY": pipeline.EMPTY_MESSAGE_REPLY,
        "pipeline.CARD_WARNING": pipeline.CARD_WARNING,
        "outbound_gate.SAFE_REPLY": outbound_gate.SAFE_REPLY,
    }
    # What the requests really answer when nobody is verified: on the web (no account in scope) and over SMS from
    # a number that has an account (accounts in scope, paused or ceased, but still not verified).
    creditors = ["Acme Bank"]
    for channel, address in (("rest", "web-neutral"), ("sms", "+15555550101")):
        for intent in sensitive_requests.RULES:
            with session_scope(sqlite_engine) as session:
                add_debtor(session)
                conv = conversations.get_or_create(session, channel, address)
                replies = sensitive_requests.handle(session, conv.id, intent, "text", "help@example.com", now=NOW)
            texts[f"handle:{intent}:{channel}"] = " ".join(replies)
            _empty_tables(sqlite_engine)

    revealing = {name: found for name, text in texts.items() if (found := neutral.debt_content(text, creditors))}
    assert revealing == {}, revealing
    assert set(VERIFIED_ONLY_RESPONSES) <= set(_all_response_names())


def _all_response_names() -> list[str]:
    return [name for path in (ROOT / "domain").glob("*.yml")
            for name in ((yaml.safe_load(path.read_text()) or {}).get("responses") or {})]


def _empty_tables(engine) -> None:
    from tests.conftest import _empty

    _empty(engine)


@pytest.mark.parametrize("text", [
    "Hi, I'm an automated assistant. You can say 'balance', 'payment plan', 'pay now' or 'talk to a person'.",
    "Thanks for telling me. We've stopped collection, and a person on our team will review it.",
    "A person on our team can talk through options with you, like a smaller plan.",
    "Your account ending 0001 with Acme Bank is $1,234.56.", "You owe 200 dollars.", "I note that you dispute it.",
])
def test_DISC_3_the_detector_catches_what_the_review_found(text):
    assert not neutral.is_neutral(text, ["Acme Bank"])


def test_DISC_3_a_verified_debtor_gets_the_fuller_wording(engine):
    with session_scope(engine) as session:
        conv, _ = _verified(session)
        replies = sensitive_requests.handle(session, conv.id, "bankruptcy", "i filed chapter 7", "x", now=NOW)
    assert replies == [sensitive_requests.RULES["bankruptcy"].verified_reply]


def test_TONE_1_TBD_1_the_answer_to_a_legal_or_credit_question_threatens_nothing_and_offers_a_person():
    """N5: "will you sue me?", "are you going to take me to court?", "will this hurt my credit score?"
    (ask_consequences) get utter_ask_consequences in both languages: no banned claim even on a time-barred account
    (TBD-1: no suit, court or legal action), no invented credit consequence, nothing about a debt (it may be said
    before verification, DISC-3), and a person as the next step. Mutation tried: "We may take legal action if you don't
    pay." added to the English text -> tone.lint finds "legal action" -> fails."""
    from bot.compliance import tone

    variations = yaml.safe_load((ROOT / "domain" / "conversation.yml").read_text())["responses"][
        "utter_ask_consequences"]
    assert len(variations) == 2  # Spanish (conditioned on the language slot) and English
    for variation in variations:
        text = variation["text"]
        assert tone.lint(text, time_barred=True) == [], text
        assert not re.search(r"sue|court|credit|corte|demand|cr[eé]dito|legal", text, re.IGNORECASE), text
        assert "talk to a person" in text or "hablar con una persona" in text


def test_VUL_2_HO_1_hardship_told_while_a_person_is_already_asked_for_does_not_say_ask_for_one(sqlite_engine):
    """Exploratory pass: "I need to talk to a real person" (queued), then "I lost my job and can't pay right now"
    got "...Say 'talk to a person' to reach them". The person is on the way: the reply says so. Mutation tried:
    the open_handoff test removed from sensitive_requests.handle -> "Say 'talk to a person'": fails."""
    from bot import handoff

    with session_scope(sqlite_engine) as session:
        conv = conversations.get_or_create(session, "web", "queued-hardship")
        handoff.request(session, conv.id, "request_human", rule_id="HO-1")
        replies = sensitive_requests.handle(session, conv.id, "hardship", "I lost my job", "x@example.com")
        assert session.scalars(select(AuditEvent.kind).where(AuditEvent.kind == "hardship_reported")).one()
    assert replies == [wording.say("hardship_reply_queued")]
    assert "talk to a person" not in replies[0] and "already on the way" in replies[0]

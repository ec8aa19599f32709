"""Bot-initiated messages pass the outbound gate: deferred, blocked or sent with the right additions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot import contact_preferences, conversations, disputes
from bot.compliance import outbound_gate
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, ContactPreference, Message, ScheduledMessage
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from tests.conftest import add_debtor

PHONE = "+15555550101"  # a 555 number has no area-code zone: the debtor's America/Los_Angeles decides
# Tuesday 2026-11-17 12:00 Pacific = 20:00 UTC.
NOON_PACIFIC = datetime(2026, 11, 17, 20, 0, tzinfo=timezone.utc)


def _setup(session, *, consent=True, text="Your payment of $50.00 is due on Friday.", **debtor):
    _, account = add_debtor(session, **debtor)
    if consent:
        session.add(ContactPreference(channel="sms", address=PHONE, last_inbound_at=NOON_PACIFIC - timedelta(days=3)))
    message = outbox.schedule(session, account_id=account.id, channel="sms", address=PHONE,
                                      kind="reminder", text=text, not_before=NOON_PACIFIC - timedelta(hours=1))
    return account, message


def _run(engine, now):
    return outbound_queue.process_due(engine, outbound_queue.local_transport(engine), now=now)


def test_OPT_1_DISC_2_a_sent_reminder_carries_the_notice_and_the_opt_out_line(engine):
    with session_scope(engine) as session:
        _, message = _setup(session)
    assert _run(engine, NOON_PACIFIC).sent == 1
    with session_scope(engine) as session:
        sent = session.get(ScheduledMessage, message.id)
        delivered = session.scalars(select(Message).where(Message.direction == "out")).one()
    assert sent.status == "sent" and delivered.text == sent.text
    assert sent.text.startswith("This message is from a debt collector.")
    assert sent.text.endswith("Reply STOP to opt out.")


def test_TIME_1_a_job_at_21_05_local_is_deferred_to_08_00_not_dropped(engine):
    late = datetime(2026, 11, 18, 5, 5, tzinfo=timezone.utc)  # 21:05 Pacific
    with session_scope(engine) as session:
        _, message = _setup(session)
    assert _run(engine, late).deferred == 1
    with session_scope(engine) as session:
        deferred = session.get(ScheduledMessage, message.id)
        assert deferred.status == "pending" and deferred.rule_ids == ["TIME-1"]
        assert deferred.not_before == datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)  # 08:00 Pacific
    assert _run(engine, datetime(2026, 11, 18, 16, 0, tzinfo=timezone.utc)).sent == 1


def test_FREQ_1_a_fourth_sms_in_seven_days_is_held_back(engine):
    with session_scope(engine) as session:
        account, _ = _setup(session)
        for days in (1, 3, 5):
            old = outbox.schedule(session, account_id=account.id, channel="sms", address=PHONE,
                                          kind="reminder", text="old", not_before=NOON_PACIFIC)
            old.status, old.sent_at = "sent", NOON_PACIFIC - timedelta(days=days)
    summary = _run(engine, NOON_PACIFIC)
    assert (summary.sent, summary.deferred) == (0, 1)
    with session_scope(engine) as session:
        held = session.scalars(select(ScheduledMessage).where(ScheduledMessage.status == "pending")).one()
    assert held.rule_ids == ["FREQ-1"] and held.not_before > NOON_PACIFIC


def test_OPT_3_after_stop_the_next_sms_is_blocked_but_email_is_unaffected(engine):
    with session_scope(engine) as session:
        account, sms = _setup(session)
        email = outbox.schedule(session, account_id=account.id, channel="email",
                                        address="jordan@example.com", kind="reminder",
                                        text="A payment is due Friday.", not_before=NOON_PACIFIC)
        contact_preferences.opt_out(session, "sms", PHONE, via="keyword:STOP")
        assert session.get(ScheduledMessage, sms.id).status == "cancelled"
        later = outbox.schedule(session, account_id=account.id, channel="sms", address=PHONE,
                                        kind="reminder", text="Reminder.", not_before=NOON_PACIFIC)
    summary = _run(engine, NOON_PACIFIC)
    with session_scope(engine) as session:
        assert session.get(ScheduledMessage, later.id).status == "blocked"
        assert session.get(ScheduledMessage, later.id).rule_ids == ["OPT-3"]
        assert session.get(ScheduledMessage, email.id).status == "sent"
    assert (summary.sent, summary.blocked) == (1, 1)


def test_ID_5_a_number_with_no_recent_text_consent_or_check_is_not_texted(engine):
    with session_scope(engine) as session:
        _, message = _setup(session, consent=False)
        session.add(ContactPreference(channel="sms", address=PHONE, last_inbound_at=NOON_PACIFIC - timedelta(days=90)))
    assert _run(engine, NOON_PACIFIC).blocked == 1
    with session_scope(engine) as session:
        assert session.get(ScheduledMessage, message.id).rule_ids == ["ID-5"]


def test_DSP_2_a_payment_reminder_on_a_disputed_account_is_blocked(engine):
    with session_scope(engine) as session:
        account, message = _setup(session, text="Pay now to keep your plan on track.")
        conv = conversations.get_or_create(session, "rest", "web-1")
        conv.debtor_id, conv.account_id, conv.verified_at = account.debtor_id, account.id, NOON_PACIFIC
        disputes.record_dispute(session, conv.id, "all", now=NOON_PACIFIC)
    assert _run(engine, NOON_PACIFIC).blocked == 1
    with session_scope(engine) as session:
        assert session.get(ScheduledMessage, message.id).rule_ids == ["DSP-2"]


def test_DSP_3_the_answer_to_must_i_pay_after_a_dispute_is_not_taken_for_a_payment_ask(engine):
    """Issue 21 (the README's dispute walkthrough): "do I have to pay now?" after a dispute said "we won't ask you
    to pay it", which DSP-2 read as a payment ask on the held account, so the debtor got SAFE_REPLY instead.
    Mutation: that wording back in bot/disputes.py fails this test."""
    with session_scope(engine) as session:
        _, account = add_debtor(session)
        conv = conversations.get_or_create(session, "rest", "web-1")
        conv.debtor_id, conv.account_id, conv.verified_at = account.debtor_id, account.id, NOON_PACIFIC
        disputes.record_dispute(session, conv.id, "all", now=NOON_PACIFIC)
        answer = disputes.must_i_pay_answer(session, conv.id, now=NOON_PACIFIC)
        verdict = outbound_gate.check_reply(session, conv, answer, now=NOON_PACIFIC)
    assert answer.startswith("No. You've disputed this debt")
    assert verdict.allowed, verdict


@pytest.mark.parametrize("status, rule", [(AccountStatus.CEASED, "CEASE-1"), (AccountStatus.ATTORNEY, "CEASE-2"),
                                          (AccountStatus.BANKRUPT, "CEASE-3"), (AccountStatus.DECEASED, "CEASE-4")])
def test_CEASE_nothing_goes_to_an_account_whose_collection_ended(engine, status, rule):
    with session_scope(engine) as session:
        account, message = _setup(session)
        session.get(Account, account.id).status = status
    assert _run(engine, NOON_PACIFIC).blocked == 1
    with session_scope(engine) as session:
        assert session.get(ScheduledMessage, message.id).rule_ids == [rule]


def test_TONE_1_a_threatening_message_never_goes_out(engine):
    with session_scope(engine) as session:
        _, message = _setup(session, text="Pay today or we will have you arrested.")
    assert _run(engine, NOON_PACIFIC).blocked == 1
    with session_scope(engine) as session:
        assert "TONE-1" in session.get(ScheduledMessage, message.id).rule_ids


def test_TBD_1_a_time_barred_account_never_hears_about_suit(engine):
    with session_scope(engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        debtor, account = add_debtor(session)
        account.time_barred = True
        conv.debtor_id, conv.account_id, conv.verified_at = debtor.id, account.id, NOON_PACIFIC
        verdict = outbound_gate.check_reply(session, conv, "We won't take legal action over this.")
    assert not verdict.allowed and "TBD-1" in verdict.rule_ids


def test_TIME_2_a_live_reply_is_allowed_at_any_hour(engine):
    with session_scope(engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        verdict = outbound_gate.check_reply(session, conv, "Sorry, I didn't catch that.")
    assert verdict.allowed


def test_TONE_2_an_agent_reply_with_a_typed_in_figure_is_not_sent(engine):
    with session_scope(engine) as session:
        conv = conversations.get_or_create(session, "rest", "web-1")
        debtor, account = add_debtor(session, balance_cents=123456)
        conv.debtor_id, conv.account_id, conv.verified_at = debtor.id, account.id, NOON_PACIFIC
        wrong = outbound_gate.check_reply(session, conv, "Your balance is $1,000.00.", sender_role="agent")
        right = outbound_gate.check_reply(session, conv, "Your balance is $1,234.56.", sender_role="agent")
    assert not wrong.allowed and wrong.rule_ids == ("TONE-2",)
    assert right.allowed


def test_DISC_3_a_first_contact_text_stays_neutral_and_one_that_is_not_is_blocked(engine):
    with session_scope(engine) as session:
        account, neutral = _setup(session, text="Hi, this is Settle Services. Please reply when you have a moment.")
        neutral.kind = "first_contact"
        leaky = outbox.schedule(session, account_id=account.id, channel="sms", address=PHONE,
                                        kind="first_contact", text="You owe Acme Bank $1,234.56.",
                                        not_before=NOON_PACIFIC)
    outbound_queue.process_due(engine, outbound_queue.local_transport(engine), now=NOON_PACIFIC)
    with session_scope(engine) as session:
        sent = session.get(ScheduledMessage, neutral.id)
        blocked = session.get(ScheduledMessage, leaky.id)
    assert sent.status == "sent" and "debt collector" not in sent.text.lower()
    assert blocked.status == "blocked" and "DISC-3" in blocked.rule_ids


def test_two_runners_at_once_send_a_message_once(engine):
    """The queue's claim has one winner on SQLite and PostgreSQL alike, even while the first runner is sending."""
    import threading
    import time

    with session_scope(engine) as session:
        _setup(session)
    deliveries: list[str] = []

    def slow_transport(channel: str, address: str, text: str, kind: str) -> str:
        deliveries.append(text)
        time.sleep(0.3)  # the other runner looks while this one is still sending
        return "ok"

    runs = [threading.Thread(target=outbound_queue.process_due, args=(engine, slow_transport),
                             kwargs={"now": NOON_PACIFIC}) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(deliveries) == 1

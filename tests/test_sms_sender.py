"""bot/sms.py: segments, splitting on word boundaries, numbered choices, and the real twilio SDK against the local
stand-in (tests/twilio_standin.py): retries, final refusals, delivery records and status callbacks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import conversations, sms
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent, ContactPreference, Message, ScheduledMessage
from bot.messaging import outbox
from bot.messaging import queue as outbound_queue
from tests.conftest import add_debtor
from tests.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

PHONE = "+15555550101"


@pytest.fixture
def twilio():
    with TwilioStandIn() as standin:
        yield standin


def _sender(twilio: TwilioStandIn, **kwargs) -> sms.TwilioSender:
    options = {"api_url": twilio.url, "timeout": 0.5, "backoff": 0.0,
               "status_callback": "https://settle.example.com/webhooks/twilio/status", **kwargs}
    return sms.TwilioSender(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, **options)


# --- segments ---------------------------------------------------------------------------------------------------


def test_segment_limits_gsm7_and_ucs2():
    assert sms.segment_count("a" * 160) == 1 and sms.segment_count("a" * 161) == 2
    assert sms.segment_count("a" * 306) == 2 and sms.segment_count("a" * 307) == 3  # 153 per concatenated part
    assert sms.encoding("Payment of $50.00 is due") == "gsm7"
    assert sms.segment_count("€" * 80) == 1 and sms.segment_count("€" * 81) == 2  # extension chars count twice
    assert sms.encoding("Thanks 🙂") == "ucs2"
    assert sms.segment_count("é" * 160) == 1  # é is in GSM-7
    assert sms.segment_count("ş" * 70) == 1 and sms.segment_count("ş" * 71) == 2
    assert sms.segment_count("ş" * 134) == 2 and sms.segment_count("ş" * 135) == 3  # 67 per concatenated part
    assert sms.segment_count("🙂" * 35) == 1 and sms.segment_count("🙂" * 36) == 2  # surrogate pairs: 2 units


def test_an_escape_pair_never_straddles_two_segments():
    # 152 plain septets then "€" (2 septets): it cannot start at septet 153 of the first segment.
    assert sms.segment_count("a" * 152 + "€" + "a" * 152) == 3
    assert sms.segment_count("a" * 151 + "€" + "a" * 153) == 2


def test_smart_punctuation_stays_gsm7():
    assert sms.sms_text("You\u2019re set \u2014 \u201cthanks\u201d\u2026") == "You're set - \"thanks\"..."
    assert sms.encoding(sms.sms_text("It\u2019s done.")) == "gsm7"


# --- splitting (property tests) ---------------------------------------------------------------------------------

_WORD = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz$.,'€é🙂ş0123456789"), min_size=1, max_size=30)
_SPACE = st.sampled_from([" ", " ", " ", "\n", "  "])
_TEXT = st.lists(st.tuples(_WORD, _SPACE), max_size=120).map(lambda pairs: "".join(w + s for w, s in pairs))
_ANY_TEXT = st.one_of(_TEXT, st.text(max_size=800))


def _words_with_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]


@settings(max_examples=300, deadline=None)
@given(text=_ANY_TEXT, max_segments=st.sampled_from([1, 2, 3, 10]))
def test_split_gives_the_text_back_and_no_piece_is_over_the_limit(text, max_segments):
    pieces = sms.split_for_sms(text, max_segments)
    assert "".join(pieces) == text
    assert all(sms.segment_count(p) <= max_segments for p in pieces)
    assert all(p for p in pieces) or pieces == [""]


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, max_segments=st.sampled_from([1, 2, 10]))
def test_split_breaks_no_word_unless_it_is_longer_than_a_piece(text, max_segments):
    pieces = sms.split_for_sms(text, max_segments)
    cuts, position = set(), 0
    for piece in pieces[:-1]:
        position += len(piece)
        cuts.add(position)
    for start, end, word in _words_with_spans(text):
        if sms.fits(word, max_segments):
            assert not any(start < cut < end for cut in cuts), (word, pieces)


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=12), min_size=40, max_size=200))
def test_a_long_reply_is_split_on_word_boundaries_into_single_segments(words):
    text = " ".join(words)
    bodies = sms.send_pieces(text, 1)
    assert all(len(b) <= 160 for b in bodies)
    assert " ".join(bodies).split() == text.split()  # every word intact, in order
    if len(text) > 160:
        assert len(bodies) > 1


def test_a_word_longer_than_a_segment_is_cut():
    pieces = sms.split_for_sms("x" * 400, 1)
    assert [len(p) for p in pieces] == [160, 160, 80]


# --- numbered choices -----------------------------------------------------------------------------------------


def test_buttons_become_numbered_lines():
    text = sms.render_reply("Which part do you dispute?", [
        {"title": "All of it", "payload": "All of it"}, {"title": "It's not mine", "payload": "/not_mine"}])
    assert text == "Which part do you dispute?\n1. All of it\n2. It's not mine"


def test_buttons_already_listed_in_the_text_are_not_repeated():
    text = "Here are your options:\n1. Six payments of $50.00\n2. Twelve payments of $25.00\nReply 1 or 2."
    buttons = [{"title": "1. Six payments of $50.00", "payload": "/choose_option{\"plan_choice\":\"1\"}"},
               {"title": "2. Twelve payments of $25.00", "payload": "/choose_option{\"plan_choice\":\"2\"}"},
               {"title": "Talk to a person", "payload": "/human_handoff"}]
    assert sms.render_reply(text, buttons) == text + "\n3. Talk to a person"


# --- the real SDK against the stand-in --------------------------------------------------------------------------


def test_a_500_from_twilio_is_retried_and_the_third_attempt_succeeds(twilio):
    twilio.fail_next(2, status=500)
    result = _sender(twilio).send(PHONE, "Hello")
    assert result.ok and result.attempts == 3 and result.sid.startswith("SM")
    assert len(twilio.requests) == 3 and len(twilio.messages) == 1
    assert twilio.messages[0]["_status_callback"] == "https://settle.example.com/webhooks/twilio/status"


def test_three_500s_give_up_as_a_transient_failure_with_backoff_between_attempts(twilio):
    slept: list[float] = []
    twilio.fail_next(3)
    result = _sender(twilio, backoff=0.5, sleep=slept.append).send(PHONE, "Hello")
    assert not result.ok and result.transient and result.attempts == 3 and result.error_code == 20500
    assert slept == [0.5, 1.0]  # exponential backoff, none after the last attempt


def test_a_timeout_is_retried(twilio):
    twilio.stall_next(1, seconds=1.5)
    result = _sender(twilio, timeout=0.3).send(PHONE, "Hello")
    assert result.ok and result.attempts == 2


def test_a_4xx_is_final_and_not_retried(twilio):
    twilio.unsubscribed.add(PHONE)
    result = _sender(twilio).send(PHONE, "Hello")
    assert not result.ok and not result.transient and result.error_code == 21610
    assert len(twilio.requests) == 1


def test_wrong_credentials_are_not_retried(twilio):
    result = sms.TwilioSender(ACCOUNT_SID, "wrong-token", FROM_NUMBER, api_url=twilio.url, backoff=0).send(PHONE, "x")
    assert not result.ok and result.error_code == 20003 and len(twilio.requests) == 1


def test_no_keys_means_no_sender():
    assert sms.sender_from_settings(Settings()) is None
    assert not sms.twilio_configured(Settings(twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN))


# --- the outbound queue's transport (database on both backends) -------------------------------------------------


def _settings(db_url: str, twilio: TwilioStandIn, **kwargs) -> Settings:
    return Settings(database_url=db_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                    twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url, twilio_timeout_seconds=0.5,
                    sms_retry_backoff_seconds=0.0, public_base_url="https://settle.example.com", **kwargs)


NOON_PACIFIC = datetime(2026, 3, 3, 20, 0, tzinfo=timezone.utc)


def _queue_reminder(engine) -> str:
    with session_scope(engine) as session:
        _, account = add_debtor(session, phone=PHONE)
        session.add(ContactPreference(channel="sms", address=PHONE, last_inbound_at=NOON_PACIFIC - timedelta(days=2)))
        return outbox.schedule(session, account_id=account.id, channel="sms", address=PHONE,
                                       kind="installment_reminder", text="Your payment of $50.00 is due Friday.",
                                       not_before=NOON_PACIFIC).id


def test_a_reminder_goes_through_twilio_and_is_recorded_in_the_thread(engine, db_url, twilio):
    message_id = _queue_reminder(engine)
    transport = sms.sms_transport(engine, _settings(db_url, twilio))
    assert outbound_queue.process_due(engine, transport, now=NOON_PACIFIC).sent == 1
    assert len(twilio.messages) == 1
    body = twilio.messages[0]["body"]
    assert body.startswith("This message is from a debt collector.") and body.endswith("Reply STOP to opt out.")
    with session_scope(engine) as session:
        stored = session.scalars(select(Message).where(Message.direction == "out")).one()
        assert stored.text == body and stored.payload["sms"]["parts"][0]["sid"] == twilio.messages[0]["sid"]
        assert session.get(ScheduledMessage, message_id).status == "sent"


def test_a_reminder_stays_queued_when_twilio_is_down(engine, db_url, twilio):
    message_id = _queue_reminder(engine)
    twilio.fail_next(3)
    transport = sms.sms_transport(engine, _settings(db_url, twilio))
    with pytest.raises(sms.SmsUnavailable):
        outbound_queue.process_due(engine, transport, now=NOON_PACIFIC)
    with session_scope(engine) as session:
        assert session.get(ScheduledMessage, message_id).status == "pending"  # goes out on the next run
        assert session.scalars(select(Message)).all() == []
    assert outbound_queue.process_due(engine, transport, now=NOON_PACIFIC).sent == 1


def test_OPT_3_twilio_saying_the_number_unsubscribed_records_our_opt_out(engine, db_url, twilio):
    _queue_reminder(engine)
    twilio.unsubscribed.add(PHONE)
    transport = sms.sms_transport(engine, _settings(db_url, twilio))
    outbound_queue.process_due(engine, transport, now=NOON_PACIFIC)
    with session_scope(engine) as session:
        preference = session.scalars(select(ContactPreference).where(ContactPreference.address == PHONE)).one()
        assert preference.opted_out_at is not None and preference.opted_out_via == "twilio:21610"
        kinds = set(session.scalars(select(AuditEvent.kind)))
        assert {"sms_send_failed", "opted_out"} <= kinds
        stored = session.scalars(select(Message).where(Message.direction == "out")).one()
        assert stored.payload["sms"]["status"] == "failed"


def test_email_and_keyless_sms_go_to_the_local_outbox(engine, db_url):
    transport = sms.sms_transport(engine, Settings(database_url=db_url))
    assert transport("sms", PHONE, "Hello").startswith("local-")
    assert transport("email", "jordan@example.com", "Hello").startswith("local-")


def test_status_callbacks_move_a_message_forward_never_back(engine):
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "sms", PHONE)
        message = conversations.record_message(
            session, conversation, direction="out", sender_role="bot", text="Hi", status="sent",
            payload={"sms": {"status": "queued", "parts": [{"sid": "SM1", "status": "queued"},
                                                           {"sid": "SM2", "status": "queued"}]}})
    assert sms.record_status(engine, PHONE, "SM1", "delivered")
    assert sms.record_status(engine, PHONE, "SM1", "sent")  # late and out of order: ignored
    assert sms.record_status(engine, PHONE, "SM2", "sent")
    assert not sms.record_status(engine, PHONE, "SM-unknown", "delivered")
    with session_scope(engine) as session:
        stored = session.get(Message, message.id)
        assert [p["status"] for p in stored.payload["sms"]["parts"]] == ["delivered", "sent"]
        assert stored.payload["sms"]["status"] == "sent"  # the slowest piece
        assert stored.status == "sent"  # the gate's verdict is untouched (digits pick buttons by it)
    sms.record_status(engine, PHONE, "SM2", "undelivered", 30003)
    with session_scope(engine) as session:
        assert session.get(Message, message.id).payload["sms"]["status"] == "undelivered"
        assert session.scalars(select(AuditEvent.kind)).all() == ["sms_delivery_failed"]


def _queue_long(engine) -> str:
    lines = [f"Payment {n}: $50.00 on Friday, March {n + 5}, from the card ending 4242." for n in range(1, 13)]
    with session_scope(engine) as session:
        _, account = add_debtor(session, phone=PHONE)
        session.add(ContactPreference(channel="sms", address=PHONE, last_inbound_at=NOON_PACIFIC - timedelta(days=2)))
        return outbox.schedule(session, account_id=account.id, channel="sms", address=PHONE, kind="receipt",
                               text="We received your payment of $50.00. Your plan's next payments:\n"
                                    + "\n".join(lines), not_before=NOON_PACIFIC).id


def test_a_long_queued_text_goes_as_its_short_form_with_a_link_to_the_whole_not_in_pieces(engine, db_url, twilio):
    """The last note's gap: a long text sent later through the queue (a receipt held until 8 a.m.) was cut into
    several texts, which may arrive out of order. It now goes as a reply does (sms.as_sent): one text within
    REPLY_SEGMENTS, the notice and the STOP line whole (DISC-1, OPT-1), and a link that names the stored message,
    which keeps the whole text. Mutation tried: the send_long branch removed -> 2 texts: fails."""
    from bot.mail import links

    _queue_long(engine)
    settings = _settings(db_url, twilio)
    assert outbound_queue.process_due(engine, sms.sms_transport(engine, settings), now=NOON_PACIFIC).sent == 1
    [sent] = twilio.messages
    body = sent["body"]
    assert sms.segment_count(body) <= sms.REPLY_SEGMENTS
    assert body.startswith("This message is from a debt collector.") and body.endswith("Reply STOP to opt out.")
    token = re.search(r"https://settle\.example\.com/texts/(\S+)", body).group(1)
    with session_scope(engine) as session:
        stored = session.scalars(select(Message).where(Message.direction == "out")).one()
        assert links.text_of(settings.email_link_secret, token) == stored.id
        assert "Payment 12: $50.00" in stored.text and "Payment 12" not in body  # the whole is behind the link
        assert stored.payload["sms"]["short_form"] is True
        assert stored.payload["sms"]["parts"][0]["sid"] == sent["sid"]


def test_a_long_queued_text_twilio_could_not_take_is_kept_as_failed_and_sent_again_with_its_own_link(
        engine, db_url, twilio):
    """Stored before it goes (its link names it): a try Twilio could not take stays on record as a failed delivery,
    the queue keeps the message pending, and the next run's text links to the message that did go."""
    from bot.mail import links

    message_id = _queue_long(engine)
    settings = _settings(db_url, twilio)
    transport = sms.sms_transport(engine, settings)
    twilio.fail_next(3)
    with pytest.raises(sms.SmsUnavailable):
        outbound_queue.process_due(engine, transport, now=NOON_PACIFIC)
    with session_scope(engine) as session:
        assert session.get(ScheduledMessage, message_id).status == "pending"
    assert outbound_queue.process_due(engine, transport, now=NOON_PACIFIC).sent == 1
    token = re.search(r"/texts/(\S+)", twilio.messages[-1]["body"]).group(1)
    with session_scope(engine) as session:
        failed, sent = session.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).all()
        assert failed.payload["sms"]["status"] == "failed" and sent.payload["sms"]["status"] != "failed"
        assert links.text_of(settings.email_link_secret, token) == sent.id

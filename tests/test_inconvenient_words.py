"""TIME-1: the times (and places) a debtor says not to reach them, read from their words in English and Spanish,
and the PLAN-2 words that stop automatic payments (bot/payments/autopay.asks_to_stop)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import contact_preferences, conversations, wording
from bot.compliance import contact_window, inconvenient_words, outbound_gate
from bot.compliance.contact_window import InconvenientTime
from bot.compliance.inconvenient_words import parse_hour, read
from bot.db import session_scope
from bot.db.models import AuditEvent, Handoff
from bot.messaging import outbox
from bot.messaging.outbox import Draft
from bot.payments.autopay import asks_to_stop
from bot.sms import segment_count
from tests.conftest import add_debtor

MIDNIGHT = time(0, 0)


def _hours(text: str) -> list[tuple[str, str]]:
    reading = read(text)
    assert reading is not None, text
    return [(b.start.strftime("%H:%M"), b.end.strftime("%H:%M")) for b in reading.blocks]


@pytest.mark.parametrize(("text", "blocks"), [
    ("please dont text me before noon or after 6pm, I work nights", [("00:00", "12:00"), ("18:00", "00:00")]),
    ("Don't call me after 8:30 p.m.", [("20:30", "00:00")]),
    ("do not text me between 9am and 5pm", [("09:00", "17:00")]),
    ("only text me between 1 and 5pm", [("00:00", "13:00"), ("17:00", "00:00")]),
    ("no me escriba antes de las 12 ni después de las 6 de la tarde", [("00:00", "12:00"), ("18:00", "00:00")]),
    ("por favor no me llamen por la mañana", [("00:00", "12:00")]),
    ("solo llámeme después de las 5", [("00:00", "17:00")]),
    ("don't text me in the evenings", [("18:00", "00:00")]),
    ("don't call me in the mornings, I work nights", [("00:00", "12:00")]),
])
def test_TIME_1_the_times_a_debtor_names_are_read_as_blocks(text: str, blocks: list[tuple[str, str]]) -> None:
    """TIME-1: each phrasing gives the blocks the gate applies. Mutation tried: `_REASON` not stripped -> "I work
    nights" added an evening block to "mornings" that the debtor never asked for."""
    assert _hours(text) == blocks


def test_TIME_1_days_and_places_are_read_and_plain_refusals_are_left_to_opt_out() -> None:
    """TIME-1 covers days ("on Sundays") and places ("at work", noted for a person); "don't text me" with no time
    is OPT-2's (None here, the dialogue takes it), and "I got no calls" reports, it asks nothing. Mutations tried:
    `_REPORT` not checked -> "i got no calls from you on monday" marked every Monday; `read` returning an empty
    reading when nothing is named -> "dont text me" answered as a time preference, never opted out."""
    sunday = read("don't text me on sundays")
    assert sunday is not None and sunday.blocks == (InconvenientTime.all_day(6),)
    weekend = read("no me escriban los fines de semana")
    assert weekend is not None and {b.weekday for b in weekend.blocks} == {5, 6}
    work = read("please don't call me at work")
    assert work is not None and work.place and work.blocks == ()
    assert read("dont text me") is None and read("stop texting me") is None
    assert read("what time do you close?") is None and read("after 6pm is fine") is None
    assert read("i got no calls from you on monday") is None  # a report, not a request


@given(st.integers(0, 23), st.integers(0, 59))
def test_TIME_1_a_24_hour_time_reads_as_itself(hour: int, minute: int) -> None:
    """Mutation tried: the "no am/pm means afternoon" shift applied to "13:30"-style times -> 13:30 read as 01:30
    next day (25:30 refused)."""
    said = f"{hour}:{minute:02d}"
    expected = time(hour + 12, minute) if 1 <= hour <= 7 else time(hour, minute)
    assert parse_hour(said) == expected


@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "a.m.", "AM", "pm", "p.m.", "PM"]))
def test_TIME_1_twelve_hour_times_follow_their_am_or_pm(hour: int, minute: int, meridiem: str) -> None:
    """Mutation tried: `hour == 12` left alone for am -> "12:15 am" read as a quarter past noon."""
    parsed = parse_hour(f"{hour}:{minute:02d} {meridiem}")
    afternoon = meridiem.lower().startswith("p")
    assert parsed == time((hour % 12) + (12 if afternoon else 0), minute)


@given(st.integers(24, 99))
def test_TIME_1_an_hour_that_is_no_time_is_not_read(hour: int) -> None:
    assert parse_hour(str(hour)) is None and parse_hour(f"{hour % 13 + 13}pm") is None


def test_TIME_1_a_marked_time_is_stored_on_every_address_of_a_verified_debtor_and_a_place_goes_to_a_person(
        sqlite_engine) -> None:
    """TIME-1: the times are the debtor's, so a web chat's marking reaches their phone and email too; a place is
    audited and queued for a person. Mutation tried: only the conversation's own address stored -> the phone's
    preference empty, a 10:00 text allowed."""
    now = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, account_ref="SET-T1", phone="+12125550199", zip_code="10001")
        debtor.email, debtor.timezone = "t1@example.com", "America/New_York"
        conversation = conversations.get_or_create(session, "web", "web-t1")
        conversation.debtor_id, conversation.verified_at = debtor.id, now
        said = inconvenient_words.answer(session, conversation, "please don't text me before noon, or at work",
                                         now, "en")
        assert said == ["Got it. We won't text or call you before noon, your time.",
                        "Thanks for telling me. I've noted it for our team, and a person will see it. How else can "
                        "I help?"]
        for channel, address in (("sms", "+12125550199"), ("email", "t1@example.com"), ("web", "web-t1")):
            blocks = outbound_gate.inconvenient_times(contact_preferences.find(session, channel, address))
            assert blocks == [InconvenientTime(None, MIDNIGHT, time(12, 0))]
            ten_am = datetime(2026, 12, 3, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
            assert not contact_window.allowed_now(ten_am, ("America/New_York",), blocks)
        assert session.query(Handoff).filter_by(conversation_id=conversation.id, rule_id="TIME-1").count() == 1
        kinds = {e.kind for e in session.query(AuditEvent).filter_by(conversation_id=conversation.id)}
        assert {"inconvenient_time_marked", "inconvenient_place_noted"} <= kinds


def test_TIME_2_the_confirmation_of_a_marking_made_now_is_answered_even_late_in_a_session(sqlite_engine) -> None:
    """TIME-2's one answer counts from the marking: a debtor who marks "before noon" at 10:00, after several answers
    in the session, still reads the confirmation (with the YES question). Mutation tried: `_marked_at` ignored ->
    the confirmation deferred to noon, the debtor told nothing."""
    ten = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York
    with session_scope(sqlite_engine) as session:
        debtor, account = add_debtor(session, account_ref="SET-T2", phone="+12125550198", zip_code="10001")
        debtor.timezone = "America/New_York"
        conversation = conversations.get_or_create(session, "sms", "+12125550198")
        conversation.debtor_id, conversation.verified_at = debtor.id, ten - timedelta(minutes=5)
        conversation.session_started_at = ten - timedelta(minutes=5)
        for minutes in (5, 4, 3):
            conversations.record_message(session, conversation, direction="in", sender_role="debtor", text="hi",
                                         at=ten - timedelta(minutes=minutes))
            assert outbox.post_reply(session, conversation, Draft("Hello."), now=ten - timedelta(minutes=minutes)).sent
        marking = conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                               text="dont text me before noon", at=ten)
        replies = inconvenient_words.answer(session, conversation, marking.text, ten, "en")
        posted = outbox.post_reply(session, conversation, Draft(replies[0]), now=ten)
    assert posted.sent and posted.text.startswith("Got it. We won't text or call you before noon")


@pytest.mark.parametrize(("text", "asked"), [
    ("stop the automatic payments please", "autopay"),
    ("cancel autopay", "autopay"),
    ("turn off auto pay", "autopay"),
    ("please stop charging my card every month", "autopay"),
    ("no quiero pagos automáticos", "autopay"),
    ("quiero cancelar los cargos automáticos", "autopay"),
    ("dejen de cobrar a mi tarjeta", "autopay"),
    ("quiero cancelar mi plan", "plan"),
    ("I want to cancel my payment plan", "plan"),
    ("please don't stop my autopay", None),
    ("stop texting me", None),
    ("pay now", None),
    ("what is autopay?", None),
])
def test_PLAN_2_the_words_that_stop_automatic_payments(text: str, asked: str | None) -> None:
    """PLAN-2: the words decide. Mutation tried: the negation guard `_NOT` removed -> "please don't stop my
    autopay" revoked it."""
    assert asks_to_stop(text) == asked


SMS_BUDGET_SEGMENTS = 2  # VOICE.md: most replies fit in one or two SMS segments


@pytest.mark.parametrize("language", ["en", "es"])
def test_VOICE_the_autopay_and_inconvenient_time_answers_fit_two_sms_segments(language: str) -> None:
    """Counted as Twilio counts them (bot/sms.segment_count): an accent makes a Spanish text UCS-2, 67 characters a
    segment. Filled with the longest realistic values. Mutation tried: the old Spanish autopay_none (155
    characters) -> 3 segments."""
    texts = [
        wording.say("autopay_revoked", language, reference="PLN-K26HPB"),
        wording.say("autopay_revoked_next", language, amount="$12,885.60",
                    date=wording.say("day_2", language) + ", 30 de septiembre"),
        wording.say("autopay_revoked_plan_person", language),
        wording.say("autopay_none", language),
        wording.say("inconvenient_marked", language, times=inconvenient_words.describe(
            read("dont text me before 9:30am or after 6:30pm").blocks, language)),
        wording.say("inconvenient_place", language),
    ]
    assert [t for t in texts if segment_count(t) > SMS_BUDGET_SEGMENTS] == []

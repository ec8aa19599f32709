"""Escalation (HO-1): what the bot says when a person is asked for (the expected wait from the live queue, or
callback times outside agent hours), two fallbacks in a row, why the person is needed (ID-3 lockout, DSP-1
dispute), and ownership in the pipeline: while a person owns a conversation the bot says nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot import audit, conversations, disputes, handoff
from bot.agents import auth, canned, escalation, queue, users
from bot.agents.hours import DAYS, AgentHours, AgentHoursError
from bot.compliance import inconvenient_words, sensitive_requests
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent, Conversation, Handoff, Message
from bot.gateway.live import InProcessHub
from bot.gateway.pipeline import CARD_WARNING, Pipeline
from bot.gateway.rasa_client import RasaTurn
from tests.conftest import add_debtor

PASSWORD = "correct horse battery"
SUPPORT = "help@example.com"
# A Monday, 15:00 UTC = 10:00 in New York.
MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
OFFICE = AgentHours.parse("mon-fri 09:00-17:00 America/New_York")


# --- agent hours --------------------------------------------------------------------------------------------------

def test_agent_hours_are_read_in_their_own_time_zone():
    assert OFFICE.is_open(MONDAY)
    assert not OFFICE.is_open(MONDAY + timedelta(hours=8))  # 18:00 in New York
    assert not OFFICE.is_open(MONDAY - timedelta(days=1))  # Sunday
    assert OFFICE.describe() == "Monday to Friday, 9 AM to 5 PM Eastern time"
    assert AgentHours.parse("").always and AgentHours.parse("always").is_open(MONDAY)
    two = AgentHours.parse("mon-fri 09:00-17:00, sat 10:00-14:00 America/Chicago")
    assert two.describe() == "Monday to Friday, 9 AM to 5 PM; Saturday, 10 AM to 2 PM Central time"


@pytest.mark.parametrize("spec", ["mon-fri 09:00-17:00", "mon-fri 17:00-09:00 UTC", "someday 09:00-17:00 UTC",
                                  "mon-fri 9-5 UTC", "mon-fri 09:00-17:00 Mars/Olympus"])
def test_bad_agent_hours_are_refused_with_a_reason(spec):
    with pytest.raises(AgentHoursError, match="AGENT_HOURS"):
        AgentHours.parse(spec)


def test_callback_windows_are_the_next_blocks_of_opening_hours():
    friday_evening = datetime(2026, 11, 27, 23, 30, tzinfo=timezone.utc)  # 18:30 Friday in New York
    windows = OFFICE.callback_windows(friday_evening, zones=("America/New_York",))
    assert [w.label for w in windows] == [
        "Monday, November 30, 9 AM to 1 PM Eastern time",
        "Monday, November 30, 1 PM to 5 PM Eastern time",
        "Tuesday, December 1, 9 AM to 1 PM Eastern time",
    ]
    assert windows[0].start == datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)


# --- what the bot says --------------------------------------------------------------------------------------------

def _conversation(session, external_id: str = "w-esc", channel: str = "web") -> Conversation:
    return conversations.get_or_create(session, channel, external_id)


def _available_agent(session, now: datetime, name: str = "ana") -> Any:
    """An agent with the console open (a session seen at `now`), available unless switched away."""
    agent = users.create_user(session, name, PASSWORD, "agent")
    auth.start(session, agent, lifetime=timedelta(hours=8), now=now)
    return agent


def test_HO_1_asking_for_a_person_says_what_happens_next_and_the_expected_wait(engine):
    with session_scope(engine) as session:
        _available_agent(session, MONDAY + timedelta(hours=1))
        for n in range(2):
            handoff.request(session, _conversation(session, f"ahead{n}").id, "request_human")
        conversation = _conversation(session)
        replies = sensitive_requests.handle(session, conversation.id, "request_human", "a person please", SUPPORT,
                                            hours=OFFICE, now=MONDAY + timedelta(hours=1))
        queued = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation.id)).one()
    assert replies == ["I've asked a person on our team to join. There are 2 people ahead of you, and the wait is "
                       "about 25 minutes. They'll reply right here. You can also reach them at help@example.com."]
    assert (queued.reason, queued.rule_id, queued.status) == ("request_human", "HO-1", "waiting")


def test_HO_1_in_agent_hours_with_no_one_available_the_bot_says_so_instead_of_quoting_a_wait(engine):
    """Mutation tried: `expected_wait_minutes` counting every signed-in worker again (dropping the
    `User.available` filter) -> the away agent counts and the bot quotes "about 10 minutes": this test fails."""
    now = MONDAY + timedelta(hours=1)  # 11:00 in New York: open
    with session_scope(engine) as session:
        away = _available_agent(session, now)
        users.set_available(session, away, False, now=now)
        conversation = _conversation(session, "+12125550101", "sms")
        replies = sensitive_requests.handle(session, conversation.id, "request_human", "agent", SUPPORT,
                                            hours=OFFICE, now=now)
        buttons = escalation.offer_buttons(session, conversation.id)
        # Back from lunch: the next request is quoted a wait again, and the earlier callback offer is withdrawn.
        users.set_available(session, away, True, now=now)
        again = sensitive_requests.handle(session, conversation.id, "request_human", "agent", SUPPORT,
                                          hours=OFFICE, now=now)
        after = escalation.offer_buttons(session, conversation.id)
    assert replies == ["I've asked a person on our team to join, but no one is available right now, so I can't say "
                       "how long it will be. They'll reply by text as soon as someone is free. You can also reach "
                       "them at help@example.com. Or choose a time for a person to get back to you:"]
    assert "wait is" not in replies[0]
    assert [b["title"] for b in buttons] == ["Monday, November 23, 11 AM to 3 PM Eastern time",
                                             "Monday, November 23, 3 PM to 5 PM Eastern time",
                                             "Tuesday, November 24, 9 AM to 1 PM Eastern time"]
    assert "the wait is about" in again[0] and after == []


def test_HO_1_with_agent_hours_unset_and_no_one_available_the_bot_says_so_and_offers_callback_times(engine):
    """HO-1: a live handoff or a callback. With AGENT_HOURS unset ("always", the demo) and nobody available the debtor
    was told no one is free and offered nothing. Now the same honest reply offers callback times in the debtor's
    daytime (TIME-1: a number of unknown location may be anywhere in the US, so 1 PM to 9 PM Eastern), the handoff
    stays in the queue (they may wait), and a pick is stored on it.
    Mutation: AgentHours.callback_windows returning [] whenever `self.always` (as before) -> no buttons, and the
    text ends at the support address: fails."""
    with session_scope(engine) as session:
        conversation = _conversation(session, "+15555550101", "sms")
        replies = sensitive_requests.handle(session, conversation.id, "request_human", "agent", SUPPORT,
                                            hours=AgentHours.parse(""), now=MONDAY)  # 10 AM in New York
        buttons = escalation.offer_buttons(session, conversation.id)
        picked = escalation.callback_pick(session, conversation, "callback 1", SUPPORT, now=MONDAY)
        queued = queue.open_handoff(session, conversation.id)
    assert replies == ["I've asked a person on our team to join, but no one is available right now, so I can't say "
                       "how long it will be. They'll reply by text as soon as someone is free. You can also reach "
                       "them at help@example.com. Or choose a time for a person to get back to you:"]
    assert [b["title"] for b in buttons] == ["Monday, November 23, 1 PM to 5 PM Eastern time",
                                             "Monday, November 23, 5 PM to 9 PM Eastern time",
                                             "Tuesday, November 24, 1 PM to 5 PM Eastern time"]
    assert picked[0].startswith("Thanks. A person will get back to you Monday, November 23, 1 PM to 5 PM")
    assert queued.status == "waiting" and queued.callback_at == datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)


def test_HO_1_LANG_1_callback_times_with_agent_hours_unset_are_on_the_debtors_clock_and_in_their_language(engine):
    """The debtor's own zone once known (a Los Angeles debtor: 8 AM, Pacific time), in Spanish. Someone available
    means no callback offer: the wait is quoted (the rule for "available": escalation's docstring).
    Mutation: the labels in AgentHours' zone (UTC when "always") instead of the debtor's -> "... UTC": fails."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)  # America/Los_Angeles
        conversation = _conversation(session)
        conversation.debtor_id, conversation.language = debtor.id, "es"
        sensitive_requests.handle(session, conversation.id, "request_human", "una persona", SUPPORT,
                                  hours=AgentHours.parse(""), now=MONDAY)  # 7 AM in Los Angeles
        buttons = escalation.offer_buttons(session, conversation.id)
        _available_agent(session, MONDAY)
        other = _conversation(session, "w-esc-2")
        other.debtor_id = debtor.id
        later = sensitive_requests.handle(session, other.id, "request_human", "agent", SUPPORT,
                                          hours=AgentHours.parse(""), now=MONDAY)
        offered = escalation.offer_buttons(session, other.id)
    assert buttons[0]["title"] == "lunes, 23 de noviembre, de 8 a.m. a 12 p.m., hora del Pacífico"
    assert "the wait is about" in later[0] and offered == []


def test_HO_1_outside_agent_hours_the_bot_offers_callback_times_and_records_the_pick(engine):
    evening = MONDAY + timedelta(hours=9)  # 19:00 in New York
    with session_scope(engine) as session:
        conversation = _conversation(session, "+12125550101", "sms")
        replies = sensitive_requests.handle(session, conversation.id, "request_human", "agent", SUPPORT,
                                            hours=OFFICE, now=evening)
        buttons = escalation.offer_buttons(session, conversation.id)
        assert "away right now" in replies[0] and "Monday to Friday, 9 AM to 5 PM Eastern time" in replies[0]
        assert [b["title"] for b in buttons][0] == "Tuesday, November 24, 9 AM to 1 PM Eastern time"
        assert [b["payload"] for b in buttons] == ["callback 1", "callback 2", "callback 3"]
        picked = escalation.callback_pick(session, conversation, "callback 2", SUPPORT, now=evening)
        queued = queue.open_handoff(session, conversation.id)
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "callback_requested")).one()
        assert escalation.offer_buttons(session, conversation.id) == []  # picked: no longer on offer
    assert picked == ["Thanks. A person will get back to you Tuesday, November 24, 1 PM to 5 PM Eastern time. "
                      "Until then, I'm here if you need me."]
    assert queued.callback_at == datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)
    assert event.rule_id == "HO-1" and queued.details["callback"].startswith("Tuesday")


def test_ID_3_a_locked_out_debtor_who_asks_for_help_is_queued_as_a_lockout(engine):
    with session_scope(engine) as session:
        conversation = _conversation(session)
        audit.record(session, "identity_locked", rule_id="ID-3", conversation_id=conversation.id)
        sensitive_requests.handle(session, conversation.id, "request_human", "help me", SUPPORT)
        queued = queue.open_handoff(session, conversation.id)
    assert (queued.reason, queued.rule_id) == ("verification_lockout", "ID-3")


def test_DSP_1_a_debtor_in_a_dispute_who_asks_for_a_person_is_queued_as_a_dispute(engine):
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        conversation = _conversation(session)
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, MONDAY
        disputes.record_dispute(session, conversation.id, "not_mine")
        sensitive_requests.handle(session, conversation.id, "request_human", "I need a person", SUPPORT)
        queued = queue.open_handoff(session, conversation.id)
    assert (queued.reason, queued.rule_id, queued.account_id) == ("dispute", "DSP-1", account.id)


# --- the pipeline: two fallbacks, ownership -----------------------------------------------------------------------

class FakeRasa:
    """Stands in for the Rasa server: answers with the given texts and remembers what it was asked."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.parsed: list[str] = []

    async def parse(self, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        """NLU only (conversations a person owns): nothing compliance-critical in these tests' messages."""
        self.parsed.append(text)
        return {"text": text, "intent": {"name": "out_of_scope", "confidence": 0.99}}

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any],
                   message_id: str | None = None) -> RasaTurn:
        self.asked.append(text)
        answer = self.answers.pop(0) if self.answers else "OK."
        return RasaTurn([answer] if isinstance(answer, dict) else [{"text": answer}], "out_of_scope", 0.42)

    async def close(self) -> None:
        return None


def _closed_now() -> str:
    """Agent hours that are closed today, whatever today is."""
    return f"{DAYS[(datetime.now(timezone.utc).weekday() + 2) % 7]} 09:00-17:00 UTC"


def _pipeline(sqlite_url: str, rasa: FakeRasa, agent_hours: str = "") -> Pipeline:
    settings = Settings(database_url=sqlite_url, support_contact=SUPPORT, agent_hours=agent_hours)
    from bot.db import get_engine

    return Pipeline(get_engine(sqlite_url), rasa, settings, hub=InProcessHub())  # type: ignore[arg-type]


def _say(pipeline: Pipeline, text: str, sender: str = "p1", channel: str = "rest") -> list[str]:
    return [p.text for p in asyncio.run(pipeline.handle(channel, sender, text)).sent]


def test_HO_1_two_fallbacks_in_a_row_hand_the_conversation_to_a_person(sqlite_engine, sqlite_url):
    with session_scope(sqlite_engine) as session:
        _available_agent(session, datetime.now(timezone.utc))
    fallback = sorted(escalation.fallback_texts())[0]
    pipeline = _pipeline(sqlite_url, FakeRasa(fallback, fallback, fallback))
    assert _say(pipeline, "blorp") == [fallback]
    second = _say(pipeline, "zzzt")
    assert len(second) == 1 and second[0].startswith("Sorry, I'm still not getting it. I've asked a person")
    assert "wait is about" in second[0]
    assert _say(pipeline, "qqq") == [fallback]  # already queued: no second handoff, no repeated promise
    with session_scope(sqlite_engine) as session:
        queued = session.scalars(select(Handoff)).one()
    assert (queued.reason, queued.rule_id) == ("repeated_fallback", "HO-1")


def test_REC_1_each_inbound_message_is_stored_with_what_the_nlu_read_it_as(sqlite_engine, sqlite_url):
    pipeline = _pipeline(sqlite_url, FakeRasa("OK."))
    _say(pipeline, "hello there")
    with session_scope(sqlite_engine) as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).one()
    assert (inbound.text, inbound.intent, inbound.intent_confidence) == ("hello there", "out_of_scope", 0.42)


def test_HO_1_after_two_fallbacks_outside_hours_a_typed_number_books_the_callback(sqlite_engine, sqlite_url):
    fallback = sorted(escalation.fallback_texts())[0]
    pipeline = _pipeline(sqlite_url, FakeRasa(fallback, fallback), agent_hours=_closed_now())
    _say(pipeline, "blorp", channel="sms", sender="+12125550199")
    offer = _say(pipeline, "zzzt", channel="sms", sender="+12125550199")
    assert "When should a person get back to you?" in offer[0]
    picked = _say(pipeline, "1", channel="sms", sender="+12125550199")  # the first numbered choice
    assert picked[0].startswith("Thanks. A person will get back to you")
    assert pipeline.rasa.asked == ["blorp", "zzzt"]  # the pick never reached Rasa
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(Handoff)).one().callback_at is not None


def test_HO_1_while_a_person_owns_the_conversation_the_bot_says_nothing(sqlite_engine, sqlite_url):
    rasa = FakeRasa("Hi! I'm the bot.", "Hi! I'm the bot again.")
    pipeline = _pipeline(sqlite_url, rasa)
    _say(pipeline, "hello", channel="sms", sender="+15555550101")
    with session_scope(sqlite_engine) as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
        agent = users.create_user(session, "ana", PASSWORD, "agent")
        queued = handoff.request(session, conversation_id, "request_human", rule_id="HO-1")
        queue.claim(session, queued.id, agent)

    assert _say(pipeline, "what's my balance? card 4111 1111 1111 1111", channel="sms",
                sender="+15555550101") == [CARD_WARNING]
    assert _say(pipeline, "are you there?", channel="sms", sender="+15555550101") == []
    assert _say(pipeline, "HELP", channel="sms", sender="+15555550101")[0].startswith("Settle Services: for help")
    assert rasa.asked == ["hello"]  # nothing reached Rasa's dialogue while Ana owned it
    assert rasa.parsed == ["what's my balance? card [REDACTED]", "are you there?"]  # NLU only, redacted
    with session_scope(sqlite_engine) as session:
        inbound = session.scalars(select(Message.text).where(Message.direction == "in").order_by(Message.id)).all()
        assert "4111" not in " ".join(inbound)  # PCI-2: still redacted
        assert "are you there?" in inbound
        queue.hand_back(session, queued.id, session.get(type(agent), agent.id))
    assert _say(pipeline, "hi", channel="sms", sender="+15555550101") == ["Hi! I'm the bot again."]
    assert rasa.asked == ["hello", "hi"]


def test_the_pipeline_wakes_the_console_after_each_message(sqlite_engine, sqlite_url):
    pipeline = _pipeline(sqlite_url, FakeRasa("Hello."))

    async def run() -> list[dict[str, Any]]:
        async with pipeline.hub.subscribe("console:queue") as events:
            await pipeline.handle("rest", "p9", "hi")
            return [await asyncio.wait_for(events.__aiter__().__anext__(), 1)]

    assert asyncio.run(run()) == [{"type": "changed"}]


# --- canned responses ---------------------------------------------------------------------------------------------

def test_TONE_1_TONE_2_every_canned_response_passes_the_lint_at_load():
    loaded = canned.load()
    assert len(loaded) >= 5 and len({c.id for c in loaded}) == len(loaded)
    assert "Ana" in next(c for c in loaded if c.id == "greeting").render("Ana")


@pytest.mark.parametrize("text,problem", [
    ("Pay now or we will sue you.", "TONE-1"),
    ("Your balance is $200.", "TONE-2"),
    ("Hi {name}", "placeholder"),
])
def test_a_canned_response_with_a_banned_claim_an_amount_or_an_unknown_placeholder_is_refused(text, problem):
    with pytest.raises(canned.CannedError, match=problem):
        canned.parse({"responses": [{"id": "bad", "title": "Bad", "text": text, "text_es": "Hola."}]})
    with pytest.raises(canned.CannedError, match=problem):  # the Spanish is held to the same checks
        canned.parse({"responses": [{"id": "bad", "title": "Bad", "text": "Hello.", "text_es": text}]})


def test_HO_1_the_next_steps_follow_the_debtors_spanish_when_the_conversation_has_no_language_of_its_own(engine):
    """bot/language.current, not conversation.language: a new conversation of a debtor known to read Spanish is
    told what happens next in Spanish. Mutation tried: next_steps reading conversation.language (English, failed)."""
    evening = MONDAY + timedelta(hours=9)
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        debtor.language = "es"
        conversation = _conversation(session, "+15555550101", "sms")
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        assert conversation.language is None
        replies = sensitive_requests.handle(session, conversation.id, "request_human", "una persona por favor",
                                            SUPPORT, hours=OFFICE, now=evening)
    assert replies[0].startswith("Nuestro equipo no está ahora.")


def test_HO_1_a_spanish_conversation_gets_the_hours_callback_times_and_the_booking_in_spanish(engine):
    """What happens next, the team's hours, the callback times and their booking follow the conversation's
    language (issue 23). Mutation tried: next_steps' hours.describe() without the language (English hours inside
    the Spanish sentence: failed)."""
    evening = MONDAY + timedelta(hours=9)  # 19:00 in New York
    with session_scope(engine) as session:
        conversation = _conversation(session, "+12125550101", "sms")
        conversation.language = "es"
        replies = sensitive_requests.handle(session, conversation.id, "request_human", "una persona por favor",
                                            SUPPORT, hours=OFFICE, now=evening)
        buttons = escalation.offer_buttons(session, conversation.id)
        picked = escalation.callback_pick(session, conversation, "callback 2", SUPPORT, now=evening)
    assert replies == ["Nuestro equipo no está ahora. Atiende de lunes a viernes, de 9 a.m. a 5 p.m., hora del Este. "
                       "También puede escribir a help@example.com. ¿Cuándo quiere que una persona le responda? Elija "
                       "una hora:"]
    assert buttons[0]["title"] == "martes, 24 de noviembre, de 9 a.m. a 1 p.m., hora del Este"
    assert picked == ["Gracias. Una persona le va a responder el martes, 24 de noviembre, de 1 p.m. a 5 p.m., hora "
                      "del Este. Mientras tanto, aquí estoy si me necesita."]


# --- TIME-1: every callback time offered is one a person may call at ------------------------------------------------

def test_TIME_1_HO_1_callback_times_in_agent_hours_suit_every_zone_the_debtor_may_be_in(engine):
    """With AGENT_HOURS set, the times offered were the agents' hours alone: "Tuesday, 9 AM to 1 PM Eastern time" to
    a number whose zone is unknown is 4 AM in Hawaii. A number of unknown location may be anywhere in the US, so a
    callback is offered only from 1 PM Eastern (08:00 in Hawaii in winter), and never after 5 PM, the agents' close.
    Mutation: callback_windows taking each opening whole instead of contact_window.allowed_periods(...) -> the
    first block is 9 AM to 1 PM: failed."""
    evening = MONDAY + timedelta(hours=9)  # 19:00 in New York
    with session_scope(engine) as session:
        conversation = _conversation(session, "+15555550177", "sms")  # 555: no zone known
        sensitive_requests.handle(session, conversation.id, "request_human", "agent", SUPPORT, hours=OFFICE,
                                  now=evening)
        buttons = escalation.offer_buttons(session, conversation.id)
    assert [b["title"] for b in buttons] == ["Tuesday, November 24, 1 PM to 5 PM Eastern time",
                                             "Wednesday, November 25, 1 PM to 5 PM Eastern time",
                                             "Thursday, November 26, 1 PM to 5 PM Eastern time"]


@pytest.mark.parametrize(("language", "said", "first", "second"), [
    ("en", "please don't call me before noon", "Tuesday, November 24, 12 PM to 4 PM Eastern time",
     "Tuesday, November 24, 4 PM to 5 PM Eastern time"),
    ("es", "por favor no me llame antes del mediodía", "martes, 24 de noviembre, de 12 p.m. a 4 p.m., hora del Este",
     "martes, 24 de noviembre, de 4 p.m. a 5 p.m., hora del Este"),
])
def test_TIME_1_HO_1_LANG_1_callback_times_skip_the_hours_the_debtor_marked_inconvenient(engine, language, said,
                                                                                       first, second):
    """"Don't call me before noon" (inconvenient_words) was kept by the outbound gate but not by the callback offer:
    "Tuesday, 9 AM to 1 PM" was offered. The offer now starts at noon, in English and in Spanish.
    Mutation: callback_windows passing () for `inconvenient` to contact_window.allowed_periods -> "9 AM to 1 PM"
    first: failed."""
    evening = MONDAY + timedelta(hours=9)  # 19:00 in New York
    with session_scope(engine) as session:
        conversation = _conversation(session, f"+1212555017{len(language)}", "sms")  # New York
        conversation.language = language
        assert inconvenient_words.answer(session, conversation, said, evening, language)
        sensitive_requests.handle(session, conversation.id, "request_human", "agent", SUPPORT, hours=OFFICE,
                                  now=evening)
        buttons = escalation.offer_buttons(session, conversation.id)
    assert [b["title"] for b in buttons][:2] == [first, second]


def test_TIME_1_the_console_refuses_a_callback_at_a_time_the_debtor_marked_inconvenient(engine):
    """The console's callback field (queue.DebtorClock, the same clock the bot's offers keep) checked only 08:00-20:59:
    a callback at 10 AM was saved for a debtor who said "don't call me before noon". It is refused with the reason;
    noon is accepted.
    Mutation: DebtorClock.allows calling contact_window.allowed_now without self.inconvenient -> 10 AM saved: failed."""
    evening = MONDAY + timedelta(hours=9)
    with session_scope(engine) as session:
        conversation = _conversation(session, "+12125550179", "sms")  # New York
        inconvenient_words.answer(session, conversation, "please don't call me before noon", evening, "en")
        queued = handoff.request(session, conversation.id, "request_human")
        agent = _available_agent(session, evening)
        queue.claim(session, queued.id, agent, now=evening)
        with pytest.raises(queue.QueueError, match="marked inconvenient"):
            queue.resolve(session, queued.id, agent, "callback", callback_at=datetime(2026, 11, 24, 15, 0,
                                                                                      tzinfo=timezone.utc), now=evening)
        done = queue.resolve(session, queued.id, agent, "callback",
                             callback_at=datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc), now=evening)
        assert done.callback_at == datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc)


# --- the rules the NLU reads while a person owns the conversation -------------------------------------------------

class ReadingRasa(FakeRasa):
    """Rasa's parse as the model gives it: the FallbackClassifier (config.yml) already applied."""

    def __init__(self, intent: str, confidence: float) -> None:
        super().__init__()
        self.intent, self.confidence = intent, confidence

    async def parse(self, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        self.parsed.append(text)
        return {"text": text, "intent": {"name": self.intent, "confidence": self.confidence}}


@pytest.mark.parametrize(("text", "intent", "confidence", "applied"), [
    ("quit bugging me", "cease_contact", 0.52, ["CEASE-1"]),  # over config.yml's 0.5: the dialogue acts on it
    ("quit bugging me", "nlu_fallback", 0.5, []),  # under it: the parse says so, and neither path acts
    ("I don't have a lawyer", "attorney_represented", 0.92, []),  # the denial reader stays in front
])
def test_CEASE_1_CEASE_2_a_request_typed_to_an_agent_acts_from_the_dialogues_own_reading(
        sqlite_engine, sqlite_url, text, intent, confidence, applied):
    """While a person owns the chat, a rule intent applied only at 0.8 or more, though the dialogue acts on it from
    config.yml's FallbackClassifier threshold (0.5). The owned path now acts on what the parse names, which is that
    same reading (below the threshold Rasa names it nlu_fallback): no threshold of its own. A denial ("I don't have
    a lawyer") still takes no effect.
    Mutation: the owned path comparing the confidence with 0.8 again -> the 0.52 cease is not applied: failed.
    Mutation: the `denied_by_words` check removed -> "I don't have a lawyer" is applied: failed."""
    rasa = ReadingRasa(intent, confidence)
    pipeline = _pipeline(sqlite_url, rasa)
    _say(pipeline, "hello", channel="sms", sender="+15555550102")
    with session_scope(sqlite_engine) as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
        agent = users.create_user(session, "ana", PASSWORD, "agent")
        queue.claim(session, handoff.request(session, conversation_id, "request_human", rule_id="HO-1").id, agent)
    _say(pipeline, text, channel="sms", sender="+15555550102")
    with session_scope(sqlite_engine) as session:
        rules = session.scalars(select(AuditEvent.rule_id).where(
            AuditEvent.conversation_id == conversation_id, AuditEvent.kind == "rule_applied_while_agent_owned")).all()
    assert rasa.parsed == [text] and list(rules) == applied

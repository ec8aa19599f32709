"""HO-1 through the running stack: a debtor who asks for a person when nobody is available gets the truth and a
callback to choose, over SMS (the buttons are numbered lines), with AGENT_HOURS unset as in the demo."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot import wording
from bot.agents import auth
from bot.compliance import contact_window
from bot.db import get_engine, session_scope
from bot.db.models import AgentSession, Conversation, Handoff
from tests.integration.test_sms import Handset

pytestmark = pytest.mark.integration


def test_HO_1_nobody_available_says_so_and_offers_callback_times_the_debtor_can_pick_by_number(
        sms_gateway, running_stack):
    """HO-1 wants a live handoff or a callback. With AGENT_HOURS unset ("always") and nobody available in the console
    the debtor was told no one is free and left waiting with nothing offered. Now the same reply offers callback
    times (numbered over SMS); the debtor may still wait (the handoff stays in the queue), or pick one by its number,
    which is stored on the handoff for the person who picks it up.
    Mutation: AgentHours.callback_windows returning [] whenever `self.always` (as before) -> the reply ends at the
    support address, no times: fails."""
    engine = get_engine(running_stack.config.database_url)
    with session_scope(engine) as session:
        # The demo's state: nobody has the console open. Earlier tests on this stack may have signed people in.
        session.execute(update(AgentSession).where(AgentSession.revoked_at.is_(None))
                        .values(revoked_at=datetime.now(timezone.utc)))
    with session_scope(engine) as session:
        assert auth.available_workers(session) == 0
    client, twilio = sms_gateway
    phone = Handset(client, twilio, f"+1555{secrets.randbelow(10**7):07d}")
    said = "\n".join(phone.text("can I talk to a real person?"))
    assert "no one is available right now" in said, said
    assert wording.say("handoff_choose_time") in said, said
    assert re.search(r"^1\. .+ to .+ Eastern time$", said, re.MULTILINE), said  # the number's zone is unknown
    with session_scope(engine) as session:
        handoff = session.scalars(select(Handoff).join(Conversation, Conversation.id == Handoff.conversation_id)
                                  .where(Conversation.external_id == phone.number)).one()
        assert handoff.status == "waiting"  # still in line: waiting stays a choice
    booked = " ".join(phone.text("1"))
    assert booked.startswith("Thanks. A person will get back to you"), booked
    with session_scope(engine) as session:
        handoff = session.get(Handoff, handoff.id)
        assert handoff.callback_at is not None and handoff.callback_at > datetime.now(timezone.utc)


def test_TIME_1_HO_1_callback_times_offered_skip_the_days_the_debtor_said_not_to_call(sms_gateway, running_stack):
    """TIME-1: "please don't call me on <day>" is recorded (inconvenient_words) and the outbound gate keeps it, but
    the callback times offered when nobody is available were only checked against 08:00-20:59: a block on that day
    was offered. Every time offered must now be one a person may call at, at every moment of it. The day is
    tomorrow in UTC, which is never today in a US zone, so this message is not itself at an inconvenient time (a
    TIME-2 hold would keep back the next answer) and the next three days' offers would reach it.
    Mutation: hours.callback_windows calling contact_window.allowed_periods with () for `inconvenient` -> a block
    on that day is offered: failed."""
    engine = get_engine(running_stack.config.database_url)
    with session_scope(engine) as session:
        session.execute(update(AgentSession).where(AgentSession.revoked_at.is_(None))
                        .values(revoked_at=datetime.now(timezone.utc)))
    client, twilio = sms_gateway
    phone = Handset(client, twilio, f"+1555{secrets.randbelow(10**7):07d}")
    day = (datetime.now(timezone.utc) + timedelta(days=1)).weekday()
    day_name = ("mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays")[day]
    marked = " ".join(phone.text(f"please don't call me on {day_name}"))
    assert day_name[:-1].capitalize() in marked, marked
    said = "\n".join(phone.text("can I talk to a real person?"))
    assert wording.say("handoff_choose_time") in said, said
    not_that_day = [contact_window.InconvenientTime.all_day(day)]
    with session_scope(engine) as session:
        handoff = session.scalars(select(Handoff).join(Conversation, Conversation.id == Handoff.conversation_id)
                                  .where(Conversation.external_id == phone.number)).one()
        offer = handoff.details["callback_offer"]
    assert offer, said
    for window in offer:
        start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
        for moment in (start, end - timedelta(minutes=1)):
            assert contact_window.allowed_now(moment, contact_window.UNKNOWN_LOCATION_ZONES, not_that_day), window
        assert window["label"] in said

"""OPT-3, EMAIL-2: the way back from an email opt-out. START by email stays refused (a From line is easy to forge);
a compliance reviewer lifts the opt-out on the debtor's own request made in a conversation where they verified who
they are, picking that message as the evidence, with who, when and what in the chained audit trail (REC-1).
Through the real app, its login and CSRF, on SQLite."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import contact_preferences, conversations
from bot.agents import users
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import AuditEvent
from bot.gateway.app import create_app
from bot.records.verification import verify
from tests.conftest import add_debtor
from tests.test_agents_console import PASSWORD, _closed_port, _login

EMAIL = "grace@example.com"
START = datetime.now(timezone.utc) - timedelta(hours=3)


@pytest.fixture
def client(sqlite_engine, sqlite_url):
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{_closed_port()}",
                        widget_secret="test-secret")
    with session_scope(sqlite_engine) as session:
        for name, role in (("ana", "agent"), ("sue", "supervisor"), ("cat", "compliance")):
            users.create_user(session, name, PASSWORD, role, display_name=name.capitalize())
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _opted_out_debtor_asks_again(engine, channel: str = "web", verified: bool = True) -> tuple[str, int]:
    """A debtor who opted out of email, then, in a `channel` conversation (verified or not), asks for email again."""
    with session_scope(engine) as session:
        debtor, account = add_debtor(session)
        debtor.email = EMAIL
        contact_preferences.opt_out(session, "email", EMAIL, via="email_reply", now=START)
        conversation = conversations.get_or_create(session, channel, f"{channel}-grace" if channel != "email"
                                                   else EMAIL)
        conversation.debtor_id, conversation.account_id = debtor.id, account.id
        conversation.verified_at = START + timedelta(hours=1) if verified else None
        asked = conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                             text="Can you send me emails again please?",
                                             at=START + timedelta(hours=2))
        return conversation.id, asked.id


def _still_opted_out(engine) -> bool:
    with session_scope(engine) as session:
        return contact_preferences.suppression(session, "email", EMAIL) == "OPT-3"


def test_OPT_3_EMAIL_2_a_reviewer_lifts_an_email_opt_out_on_the_debtors_verified_request(client, sqlite_engine):
    """The reviewer sees the opt-out on the conversation page, picks the debtor's message as the request, and
    email is allowed again; the audit trail, chained in the transcript, says who, when and on what evidence.
    Mutation tried: reenable_email_on_request leaving opted_out_at set -> still suppressed (OPT-3), this fails."""
    conversation_id, asked_id = _opted_out_debtor_asks_again(sqlite_engine)
    token = _login(client, "cat")
    page = client.get(f"/compliance/c/{conversation_id}").text
    assert "This debtor's email is opted out since" in page
    assert re.search(rf'<option value="{asked_id}">[^<]*Can you send me emails again please\?</option>', page)
    done = client.post(f"/compliance/c/{conversation_id}/email-opt-in",
                       data={"csrf_token": token, "message_id": str(asked_id), "text": "Asked in the web chat"})
    assert done.status_code == 200 and "Saved." in done.text and 'id="email-opt-out"' not in done.text
    assert not _still_opted_out(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "opted_in")).all()
        assert (event.actor, event.rule_id, event.conversation_id) == ("compliance:cat", "OPT-3", conversation_id)
        assert event.detail["evidence_message_id"] == asked_id and event.detail["note"] == "Asked in the web chat"
        assert EMAIL not in str(event.detail)
        assert verify(session, [conversation_id]).intact  # the audit event is in the chain (REC-1)


def test_OPT_3_an_agent_or_a_supervisor_cannot_lift_an_email_opt_out(client, sqlite_engine):
    """Only the compliance console does this, and only its reviewers reach it. Mutation tried: the route outside
    _reviewer's role check (the signed-in user taken as it is) -> the agent's post lifts the opt-out, fails."""
    conversation_id, asked_id = _opted_out_debtor_asks_again(sqlite_engine)
    for name in ("ana", "sue"):
        token = _login(client, name)
        refused = client.post(f"/compliance/c/{conversation_id}/email-opt-in",
                              data={"csrf_token": token, "message_id": str(asked_id), "text": "she asked"})
        assert refused.status_code == 403, name
    assert _still_opted_out(sqlite_engine)


@pytest.mark.parametrize(("channel", "verified", "said"), [
    ("email", True, "A request by email cannot lift an email opt-out: anyone can forge a From line (OPT-3)."),
    ("web", False, "The debtor did not verify who they are in this conversation"),
])
def test_OPT_3_a_request_by_email_or_without_verification_is_refused_saying_why(client, sqlite_engine, channel,
                                                                                verified, said):
    """The From line of an email proves nothing, and an unverified chat could be anyone. Both stay opted out, with
    the reason on the page (a 400), and the page offers no message as evidence. Mutation tried:
    _evidence_problem returning None for every message -> the opt-out is lifted, this fails."""
    conversation_id, asked_id = _opted_out_debtor_asks_again(sqlite_engine, channel, verified)
    token = _login(client, "cat")
    refused = client.post(f"/compliance/c/{conversation_id}/email-opt-in",
                          data={"csrf_token": token, "message_id": str(asked_id), "text": "she asked"})
    assert refused.status_code == 400 and said in refused.text.replace("&#39;", "'")
    assert "No message here can show that request" in refused.text
    assert _still_opted_out(sqlite_engine)

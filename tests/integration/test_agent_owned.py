"""While a person owns a conversation the bot says nothing, yet a legal request typed to them still takes effect."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import select

from bot import wording
from bot.agents import notices, queue, users
from bot.db.models import Account, AccountStatus, AuditEvent, ContactPreference, Handoff, Message
from bot.gateway.pipeline import stop_reply
from tests.integration.chat import Chat, letters

pytestmark = pytest.mark.integration


PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _owned(running_stack, verified: bool = True) -> Chat:
    """A conversation a person has taken from the queue (its agent's username is `chat.agent`)."""
    chat = Chat(running_stack, "owned")
    if verified:
        chat.verify_as_new_debtor()
    else:
        chat.new_debtor()
    chat.say("i want to talk to a person")
    with chat.session() as session:
        agent = users.create_user(session, f"agent{letters()}", PASSWORD, "agent")
        handoff = queue.open_handoff(session, chat.conversation(session).id)
        queue.claim(session, handoff.id, agent)
        chat.agent, chat.handoff_id = agent.username, handoff.id
    return chat


def _agent_page(running_stack, chat: Chat) -> str:
    """The conversation as its agent reads it on the console (logged in over HTTP, logged out after: a session left
    open would count the agent as available to every later test's handoff). Unescaped, as a person reads it."""
    with httpx.Client(base_url=running_stack.config.gateway_url, timeout=30) as browser:
        form = browser.get("/agent/login")
        queue_page = browser.post("/agent/login", data={"username": chat.agent, "password": PASSWORD,
                                                        "csrf_token": CSRF.search(form.text).group(1)},
                                  follow_redirects=True)
        assert queue_page.url.path == "/agent", queue_page.text[:300]
        page = browser.get(f"/agent/h/{chat.handoff_id}")
        browser.post("/agent/logout", data={"csrf_token": CSRF.search(page.text).group(1)})
    assert page.status_code == 200
    return html.unescape(page.text)


def test_CEASE_1_a_cease_typed_to_an_agent_ends_collection_with_the_one_closing_message(running_stack):
    """CEASE-1: "one closing message", as in a bot-owned chat (the exploratory pass: the account was ceased but the
    debtor heard nothing). The agent sees it in the transcript. Mutation tried: CONFIRMED_WHILE_OWNED without
    cease_contact -> no reply, and this fails."""
    chat = _owned(running_stack)
    assert chat.say("Stop contacting me. I refuse to pay this.") == [wording.say("cease_reply")]
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert session.get(Account, conversation.account_id).status == AccountStatus.CEASED
        applied = session.scalars(select(AuditEvent.rule_id).where(
            AuditEvent.conversation_id == conversation.id, AuditEvent.kind == "rule_applied_while_agent_owned")).all()
    assert applied == ["CEASE-1"]
    with chat.session() as session:  # what the agent reads: the debtor's words, then the confirmation
        said = session.scalars(select(Message.text).where(Message.conversation_id == conversation.id)
                               .order_by(Message.id.desc()).limit(2)).all()
    assert said == [wording.say("cease_reply"), "Stop contacting me. I refuse to pay this."]


def test_OPT_3_an_opt_out_typed_to_an_agent_is_confirmed_once(running_stack):
    chat = _owned(running_stack)
    assert chat.say("stop texting me please") == [stop_reply("rest")]
    with chat.session() as session:
        preference = session.scalars(select(ContactPreference).where(
            ContactPreference.address == chat.sender)).one()
    assert preference.opted_out_at is not None



def _kinds(chat: Chat) -> list[str]:
    with chat.session() as session:
        return list(session.scalars(select(AuditEvent.kind).where(
            AuditEvent.conversation_id == chat.conversation(session).id).order_by(AuditEvent.id)))


def test_CEASE_2_an_attorney_stated_in_plain_words_to_an_agent_holds_the_account_and_the_agent_is_told(
        running_stack):
    """CEASE-2 whoever owns the chat: "I have a lawyer now, Susan Park 555-201-3344" (the model reads it as
    attorney_represented at about 0.64, under the owned path's 0.8, so nothing happened: the exploratory pass) puts
    the account on the attorney hold, keeps the name and phone given (the name was lost: report_details read only
    the phone), says nothing to the debtor (the person answers) and shows the agent a notice in the conversation so
    they stop discussing the debt.
    Mutation: the `elif details is not None` branch of sensitive_requests.while_owned removed -> the account stays
    active and no notice: fails. Mutation: report_details.attorney_name without the reader of a name right after
    the attorney ("lawyer now, Susan Park") and before the phone -> no attorney_name: failed."""
    chat = _owned(running_stack)
    assert chat.say("I have a lawyer now, Susan Park 555-201-3344") == []
    with chat.session() as session:
        conversation = chat.conversation(session)
        assert session.get(Account, conversation.account_id).status == AccountStatus.ATTORNEY
        details = session.get(Handoff, chat.handoff_id).details
        assert (details["attorney_name"], details["attorney_phone"]) == ("Susan Park", "+15552013344")
    assert notices.TEXTS["attorney_represented"] in _agent_page(running_stack, chat)


@pytest.mark.parametrize("verified", [True, False], ids=["verified", "before_verification"])
def test_ID_1_ID_4_a_third_party_writing_to_an_agent_is_recorded_and_the_agent_is_told(running_stack, verified):
    """ID-1, ID-4 whoever owns the chat: "this is his mother, he's not home" is a third party (the same words check
    as a bot-owned chat, third_party_asking): recorded, the handoff says so, and the agent reads a notice to say
    nothing about the debt. Before verification nothing of it took effect while owned (the exploratory pass).
    Mutation: the third_party_asking call in sensitive_requests.while_owned replaced by False -> before
    verification no third_party_writing event and no notice; verified, no notice: both fail."""
    chat = _owned(running_stack, verified=verified)
    assert chat.say("this is his mother, he's not home") == []
    assert "third_party_writing" in _kinds(chat)
    with chat.session() as session:
        assert "third_party" in session.get(Handoff, chat.handoff_id).details["reasons"]
        assert chat.conversation(session).verified_at is None
    assert notices.TEXTS["third_party"] in _agent_page(running_stack, chat)


@pytest.mark.parametrize("text,status,intent", [
    ("I filed for bankruptcy last month", AccountStatus.BANKRUPT, "bankruptcy"),
    ("leave me alone, not paying", AccountStatus.CEASED, "cease_contact"),
])
def test_CEASE_1_3_a_hold_typed_to_an_agent_is_shown_to_them_in_the_conversation(running_stack, text, status,
                                                                                  intent):
    """CEASE-1, CEASE-3: the hold took effect while owned, but the agent saw only one more line and could carry on
    about the debt; now a notice in the conversation says what happened and what not to do.
    Mutation: notices.record in Pipeline._rules_while_owned replaced by `pass` -> no notice: fails."""
    chat = _owned(running_stack)
    chat.say(text)
    with chat.session() as session:
        assert session.get(Account, chat.conversation(session).account_id).status == status
    page = _agent_page(running_stack, chat)
    assert notices.TEXTS[intent] in page
    assert page.index(text) < page.index(notices.TEXTS[intent])  # after the message that caused it


def test_OPT_2_a_STOP_typed_to_an_agent_is_shown_to_them_in_the_conversation(running_stack):
    """OPT-2, OPT-3: STOP opts out whoever owns the chat (one confirmation), and the agent is told in the
    conversation that nothing more can go to the debtor here.
    Mutation: the `if owned: notices.record(...)` after the STOP keyword in Pipeline._keyword removed -> no notice:
    fails."""
    chat = _owned(running_stack)
    assert chat.say("STOP") == [stop_reply("rest")]
    assert notices.TEXTS["opt_out"] in _agent_page(running_stack, chat)


def test_CEASE_1_a_request_the_dialogue_acts_on_is_not_weaker_typed_to_an_agent(running_stack):
    """"quit bugging me" is read as cease_contact at about 0.52: the dialogue acts on it (config.yml's
    FallbackClassifier threshold, 0.5), but typed to an agent it needed 0.8, so nothing happened there. The owned
    path now acts from the dialogue's own threshold, read from config.yml (bot/nlu_threshold.py): the same request
    ends collection with the one closing message whoever owns the chat.
    Mutation: pipeline._rules_while_owned comparing with 0.8 again -> the account stays active: failed."""
    bot_owned = Chat(running_stack, "quitbot")
    bot_owned.verify_as_new_debtor()
    bot_owned.say("quit bugging me")
    chat = _owned(running_stack)
    said = chat.say("quit bugging me")
    for each in (bot_owned, chat):
        with each.session() as session:
            conversation = each.conversation(session)
            assert session.get(Account, conversation.account_id).status == AccountStatus.CEASED, each.sender
    assert said == [wording.say("cease_reply")]

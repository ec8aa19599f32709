"""The debtor's language in the agent console, and who answers in which language (issue 23, HO-1), in headless
Chromium against the real gateway on SQLite (no Rasa: conversations are queued through bot/handoff.py, as the bot
queues them):

* a supervisor sets an agent's languages on the Team page (validated, audited with the supervisor's name);
* the queue and the conversation show the debtor's language;
* with a colleague who answers in Spanish available, an English-only agent who tries to take a Spanish conversation
  is told to leave it, on screen; the Spanish-speaking colleague takes it. The setting made on the page is the one
  the routing reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot import conversations, handoff, language
from bot.agents import users
from bot.db import session_scope
from bot.db.models import AuditEvent, Handoff
from tests.browser.conftest import serve_gateway

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple"
LEAVE_IT = "This conversation is in Spanish, and a colleague who speaks it is available. Leave it for them."
NOT_HERS = ("This conversation is in Spanish, which you do not answer in. A supervisor can assign it to someone who "
            "speaks it, or to you.")


@pytest.fixture
def console_url(sqlite_engine, sqlite_url) -> Iterator[str]:
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "sue", PASSWORD, "supervisor", display_name="Sue")
        users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
        users.create_user(session, "lupe", PASSWORD, "agent", display_name="Lupe")
    with serve_gateway(sqlite_url) as url:
        yield url


def _spanish_waiting(engine) -> str:
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, "web", "web-console-es")
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text="quiero hablar con una persona por favor")
        language.set_language(session, conversation, "es", confirmed=True)
        return handoff.request(session, conversation.id, "request_human", rule_id="HO-1").id


def _log_in(page: Page, url: str, name: str) -> None:
    page.goto(url + "/agent/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def _row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))


def test_HO_1_a_supervisor_sets_languages_on_the_team_page_and_the_spanish_conversation_waits_for_the_speaker(
        new_page, console_url, sqlite_engine):
    """Mutations tried: the Team page's POST not calling users.set_languages (Lupe's Spanish box came back unticked
    and Ana could take the conversation); queue._check_language's refusal removed (Ana took it); the colleague
    test in queue.take_refusals removed (Ana was offered "Take")."""
    handoff_id = _spanish_waiting(sqlite_engine)

    sue = new_page()
    _log_in(sue, console_url, "sue")
    sue.get_by_role("link", name="Team").click()
    expect(sue.get_by_role("heading", name="Team")).to_be_visible()
    lupe_row = _row(sue, "Lupe (lupe)")
    expect(lupe_row.get_by_role("checkbox", name="English")).to_be_checked()
    expect(lupe_row.get_by_role("checkbox", name="Spanish")).not_to_be_checked()
    lupe_row.get_by_role("checkbox", name="Spanish").check()
    lupe_row.get_by_role("button", name="Save Lupe's languages").click()
    expect(sue.get_by_role("status")).to_have_text("Languages saved.")
    expect(_row(sue, "Lupe (lupe)").get_by_role("checkbox", name="Spanish")).to_be_checked()

    # At least one language: unticking all is refused with the reason, and nothing changes.
    ana_row = _row(sue, "Ana (ana)")
    ana_row.get_by_role("checkbox", name="English").uncheck()
    ana_row.get_by_role("button", name="Save Ana's languages").click()
    expect(sue.get_by_role("alert")).to_have_text("Not changed: a person answers in at least one language.")
    expect(_row(sue, "Ana (ana)").get_by_role("checkbox", name="English")).to_be_checked()

    with session_scope(sqlite_engine) as session:
        assert users.languages(users.by_username(session, "lupe")) == ("en", "es")
        assert users.languages(users.by_username(session, "ana")) == ("en",)
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.kind == "user_languages_changed")).all()
        assert event.actor == "supervisor:sue" and event.rule_id == "REC-2"
        assert (event.detail["username"], event.detail["after"]) == ("lupe", ["en", "es"])

    # Lupe is on shift (signed in, available). Ana sees the debtor's language in the queue and on the conversation.
    lupe = new_page()
    _log_in(lupe, console_url, "lupe")
    ana = new_page()
    _log_in(ana, console_url, "ana")
    waiting = ana.locator(f'tr[data-handoff-id="{handoff_id}"]')
    expect(waiting.locator(".language")).to_have_text("Spanish")
    # She is not offered "Take" (take_refusals): the reason is shown instead, in the queue and on the conversation.
    expect(waiting.get_by_role("button", name="Take")).to_have_count(0)
    expect(waiting.locator(".take-refused")).to_have_text(LEAVE_IT)
    ana.goto(f"{console_url}/agent/h/{handoff_id}")
    expect(ana.locator("strong.language")).to_have_text("speaks Spanish")
    expect(ana.get_by_role("button", name="Take this conversation")).to_have_count(0)
    expect(ana.locator("#take-refused")).to_have_text(LEAVE_IT)

    lupe.goto(f"{console_url}/agent/h/{handoff_id}")
    expect(lupe.locator("strong.language")).to_have_text("speaks Spanish")
    lupe.get_by_role("button", name="Take this conversation").click()
    expect(lupe.get_by_role("status")).to_contain_text("You own this conversation now")


def test_only_a_supervisor_reaches_the_team_page(new_page, console_url, sqlite_engine):
    ana = new_page()
    _log_in(ana, console_url, "ana")
    expect(ana.get_by_role("link", name="Team")).to_have_count(0)
    response = ana.goto(console_url + "/agent/team")
    assert response.status == 403
    expect(ana.get_by_text("Only supervisors set who answers in which language.")).to_be_visible()
    with session_scope(sqlite_engine) as session:
        lupe_id = users.by_username(session, "lupe").id
    # A forged post from an agent's session changes nothing (the role is checked on the server, not by the page).
    status = ana.evaluate("""async (url) => (await fetch(url, {method: "POST",
        headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "languages=es"})).status""",
                          f"{console_url}/agent/team/{lupe_id}/languages")
    assert status == 403
    with session_scope(sqlite_engine) as session:
        assert users.languages(users.by_username(session, "lupe")) == ("en",)


def test_HO_1_LANG_1_an_english_only_agent_is_not_offered_take_on_a_spanish_conversation_and_a_supervisor_assigns_it(
        new_page, console_url, sqlite_engine):
    """Exploratory pass: with nobody who speaks Spanish on shift, Ana (English only) saw "Take" on a Spanish
    conversation and took it. Now, while Sue (a supervisor) is on shift, Ana is not offered "Take", in the queue or
    on the conversation, she reads why, and a forged claim is refused with the same words (the server's rule, not
    only the page's); Sue can give it to her. (With no supervisor on shift either, anyone may take it:
    tests/test_agents_language.py.)
    Mutation: the agent's refusal in queue.take_refusals removed (`elif users.can_reassign(user)` made always
    true): Ana saw "Take" and her claim went through; this failed."""
    handoff_id = _spanish_waiting(sqlite_engine)
    sue = new_page()
    _log_in(sue, console_url, "sue")  # on shift
    ana = new_page()
    _log_in(ana, console_url, "ana")
    row = ana.locator(f'tr[data-handoff-id="{handoff_id}"]')
    expect(row.locator(".language")).to_have_text("Spanish")
    expect(row.locator(".take-refused")).to_have_text(NOT_HERS)
    expect(row.get_by_role("button", name="Take")).to_have_count(0)
    url = f"{console_url}/agent/h/{handoff_id}"
    ana.goto(url)
    expect(ana.locator("#take-refused")).to_have_text(NOT_HERS)
    expect(ana.get_by_role("button", name="Take this conversation")).to_have_count(0)
    token = ana.locator('input[name="csrf_token"]').first.input_value()
    forged = ana.request.post(f"{url}/claim", form={"csrf_token": token}, max_redirects=0)
    assert forged.status == 403 and NOT_HERS in forged.text()

    sue.goto(url)
    sue.get_by_label("Give to").select_option(label="Ana (agent) · English · available")
    sue.get_by_role("button", name="Reassign").click()
    expect(sue.get_by_role("status")).to_contain_text("Reassigned.")
    with session_scope(sqlite_engine) as session:
        assert session.get(Handoff, handoff_id).claimed_by == users.by_username(session, "ana").id

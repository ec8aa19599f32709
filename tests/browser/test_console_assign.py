"""Who a supervisor can give a conversation to (HO-1), in headless Chromium against the real gateway on SQLite: only
people who can log in and answer it. A switched-off account or one locked out after too many wrong passwords is not
in the "Give to" list, and a forged reassignment to either is refused with the reason."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from bot import conversations, handoff
from bot.agents import users
from bot.db import session_scope
from bot.db.models import Handoff
from tests.browser.conftest import serve_gateway

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def console_url(sqlite_engine, sqlite_url) -> Iterator[str]:
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "sue", PASSWORD, "supervisor", display_name="Sue")
        users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
        users.create_user(session, "lou", PASSWORD, "agent", display_name="Lou")
        users.create_user(session, "dot", PASSWORD, "agent", display_name="Dot")
    with serve_gateway(sqlite_url) as url:
        yield url


def _log_in(page: Page, url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(url + "/agent/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_HO_1_a_supervisor_cannot_give_a_conversation_to_a_locked_out_or_switched_off_person(
        new_page, console_url, sqlite_engine):
    """Exploratory pass: Sue gave a conversation to Lou, locked out after five wrong passwords, and the debtor
    waited on someone who could not log in. Lou (locked out through the login page itself) and Dot (switched off)
    are not offered; a forged reassignment to either is refused with why; Ana, who can log in, takes it.
    Mutations: the refusal in queue.reassign removed (users.why_not_assignable not asked) -> the forged
    reassignment to Lou went through (303), this failed; the locked-out test in users.why_not_assignable removed ->
    Lou was listed, failed; the filter in users.assignable removed -> Lou listed, failed."""
    with session_scope(sqlite_engine) as session:
        conversation = conversations.get_or_create(session, "web", "web-assign-1")
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text="can I talk to someone")
        handoff_id = handoff.request(session, conversation.id, "request_human", rule_id="HO-1").id
        users.by_username(session, "dot").active = False
        ids = {name: users.by_username(session, name).id for name in ("ana", "lou", "dot")}
    lou = new_page()
    for _ in range(users.MAX_FAILED_LOGINS):  # Lou mistypes the password until the account locks
        _log_in(lou, console_url, "lou", "not the password at all")
    _log_in(lou, console_url, "lou")
    expect(lou.get_by_role("alert")).to_be_visible()  # locked: even the right password is refused
    with session_scope(sqlite_engine) as session:
        assert users.by_username(session, "lou").locked_until > datetime.now(timezone.utc)

    sue = new_page()
    _log_in(sue, console_url, "sue")
    url = f"{console_url}/agent/h/{handoff_id}"
    sue.goto(url)
    choices = sue.get_by_label("Give to").locator("option").all_inner_texts()
    # Each with the languages they answer in and whether they are here now (Ana has not signed in).
    assert choices == ["Ana (agent) · English · away", "Sue (supervisor) · English · available"]
    token = sue.locator('input[name="csrf_token"]').first.input_value()
    for name, why in (("lou", "Lou is locked out after too many wrong passwords, so they cannot answer it now. "
                               "Pick someone else."),
                      ("dot", "Dot's account is switched off, so they cannot answer it. Pick someone else.")):
        forged = sue.request.post(f"{url}/reassign", form={"csrf_token": token, "user_id": ids[name]},
                                  max_redirects=0)
        assert forged.status == 403 and why in html.unescape(forged.text()), name
    with session_scope(sqlite_engine) as session:
        assert session.get(Handoff, handoff_id).status == "waiting"

    sue.get_by_label("Give to").select_option(label="Ana (agent) · English · away")
    sue.get_by_role("button", name="Reassign").click()
    expect(sue.get_by_role("status")).to_contain_text("Reassigned.")
    with session_scope(sqlite_engine) as session:
        assert session.get(Handoff, handoff_id).claimed_by == ids["ana"]
    # The lock ends on its own: Lou is offered again once it has (LOCKOUT later).
    with session_scope(sqlite_engine) as session:
        assert users.why_not_assignable(users.by_username(session, "lou"),
                                        datetime.now(timezone.utc) + users.LOCKOUT + timedelta(seconds=1)) is None

"""The compliance console in headless Chromium (REC-1, REC-2): a reviewer searches for the disputed conversation,
opens it with its rule events, annotates it, marks it reviewed, downloads the export and opens the printable
transcript, which says "chain intact". Only the gateway runs (in a thread, on SQLite): the console needs no Rasa."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import expect

from bot import audit, conversations
from bot.agents import users
from bot.config import Settings
from bot.db import session_scope
from bot.gateway.app import create_app
from tests.conftest import free_port

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def console_url(sqlite_engine, sqlite_url) -> Iterator[str]:
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "cat", PASSWORD, "compliance", display_name="Cat")
        disputed = conversations.get_or_create(session, "sms", "+15555550101")
        conversations.record_message(session, disputed, direction="in", sender_role="debtor", text="not my debt")
        audit.record(session, "dispute_recorded", rule_id="DSP-1", conversation_id=disputed.id)
        calm = conversations.get_or_create(session, "web", "widget-1")
        conversations.record_message(session, calm, direction="in", sender_role="debtor", text="hello")
    port = free_port()
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{free_port()}", widget_secret="t")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_REC_2_a_reviewer_finds_reads_annotates_marks_reviewed_and_exports_in_the_browser(new_page, console_url):
    page = new_page()
    page.goto(console_url + "/agent/login")
    page.get_by_label("Username").fill("cat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Compliance review").click()
    expect(page.get_by_role("heading", name="Compliance review")).to_be_visible()
    page.get_by_label("Flag").select_option("dispute")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 conversation ")).to_be_visible()
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("table")).to_contain_text("DSP-1")
    expect(page.locator("#chain")).to_contain_text("chain intact")
    page.get_by_label("Note").fill("Validation notice checked.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("#review-status")).to_have_text("reviewed")
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON").click()
    exported = json.loads(open(download.value.path()).read())
    assert exported["conversations"][0]["review_status"] == "reviewed"
    page.get_by_role("link", name="Printable transcript").click()
    expect(page.locator("#chain")).to_contain_text("chain intact")

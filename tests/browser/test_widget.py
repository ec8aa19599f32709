"""The web widget in headless Chromium against the real three processes: the demo page, a chat through
verification to the balance, a reload, a gateway restart with a message typed while it was down, keyboard-only use,
a phone-sized screen, a person's messages, and bot text that must stay text."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot import conversations
from bot.config import PROJECT_ROOT
from bot.db import get_engine, session_scope
from bot.db.models import Conversation, Message
from tests.browser.conftest import start_gateway, stop_gateway

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SCREENSHOTS = PROJECT_ROOT / "bench" / "out"
HOST = "#settle-chat-widget"


def _open_demo(page: Page, stack) -> None:
    page.goto(stack.config.gateway_url + "/")
    expect(page.get_by_role("heading", name="Questions about your account?")).to_be_visible()
    expect(page.locator(HOST)).to_be_attached()


def _chat_log(page: Page):
    return page.get_by_role("log", name="Chat messages")


def _say(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Type your message")
    box.fill(text)
    box.press("Enter")


def _focused(page: Page) -> str | None:
    """What has the keyboard focus inside the widget: the element's id or class, or None if outside it."""
    return page.evaluate("""(sel) => {
        const host = document.querySelector(sel);
        if (document.activeElement !== host || !host.shadowRoot.activeElement) return null;
        const el = host.shadowRoot.activeElement;
        return el.id || el.className;
    }""", HOST)


def _conversation_id(page: Page, stack) -> str:
    """The conversation behind this browser's widget: from the token the server gave it."""
    origin = stack.config.gateway_url
    token = json.loads(page.evaluate("(k) => localStorage.getItem(k)", f"settle.widget:{origin}:token"))
    external_id = token.split(".")[1]
    with session_scope(get_engine(stack.config.database_url)) as session:
        return session.scalars(select(Conversation.id).where(Conversation.channel == "web",
                                                             Conversation.external_id == external_id)).one()


def test_chat_to_the_balance_reload_and_survive_a_gateway_restart(running_stack, new_page):
    page = new_page()
    _open_demo(page, running_stack)
    expect(page.get_by_text("SET-100001")).to_be_visible()  # the demo debtor's details are on the page

    page.get_by_role("button", name="Open chat").click()
    panel = page.get_by_role("dialog")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Automated assistant")  # DISC-4, in the header
    chat = _chat_log(page)

    _say(page, "what do I owe?")
    expect(chat).to_contain_text("date of birth")
    assert "$" not in chat.inner_text()  # ID-1: nothing about the debt yet
    _say(page, "03/14/1979")
    expect(chat).to_contain_text("Social Security")
    _say(page, "1234")
    expect(chat).to_contain_text("account number")
    _say(page, "SET-100001")
    expect(chat).to_contain_text("$1,234.56")
    expect(page.locator(".typing")).to_be_hidden()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-balance.png"))

    mine = page.locator(".msg-debtor")
    expect(mine).to_have_count(4)
    bot_count = page.locator(".msg-bot").count()

    # A reload resumes the same conversation from the server's history; nothing doubled.
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # it was open, so it opens again
    expect(chat).to_contain_text("$1,234.56")
    expect(mine).to_have_count(4)
    expect(page.locator(".msg-bot")).to_have_count(bot_count)
    expect(page.locator(".msg.pending")).to_have_count(0)

    # The server goes away: the widget says so, keeps what is typed, and sends it once the server is back.
    stop_gateway(running_stack)
    try:
        expect(page.get_by_role("status")).to_contain_text("Reconnecting")
        _say(page, "how much is my balance")
        expect(page.locator(".msg.pending")).to_have_count(1)
    finally:
        start_gateway(running_stack)
    expect(page.locator(".msg-bot", has_text="$1,234.56")).to_have_count(2, timeout=60_000)
    expect(page.locator(".msg.pending")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("")

    with session_scope(get_engine(running_stack.config.database_url)) as session:
        texts = [m.text for m in conversations.history(session, _conversation_id(page, running_stack))
                 if m.direction == "in"]
    assert texts == ["what do I owe?", "03/14/1979", "1234", "SET-100001", "how much is my balance"]


def test_keyboard_only(running_stack, new_page):
    page = new_page()
    _open_demo(page, running_stack)
    for _ in range(30):  # Tab through the page's links to the chat button
        page.keyboard.press("Tab")
        if _focused(page) == "launcher":
            break
    assert _focused(page) == "launcher"
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert _focused(page) == "settle-input"  # focus moves into the chat, ready to type

    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    expect(_chat_log(page)).to_contain_text("automated assistant")
    assert _focused(page) == "settle-input"
    page.keyboard.press("Tab")
    assert _focused(page) == "send"
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert _focused(page) == "launcher"  # focus goes back to what opened the chat


def test_a_phone_sized_screen_gets_a_full_screen_chat(running_stack, new_page):
    page = new_page(375, 667)
    _open_demo(page, running_stack)
    page.get_by_role("button", name="Open chat").click()
    panel = page.get_by_role("dialog")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and (round(box["x"]), round(box["y"]), round(box["width"]), round(box["height"])) == (
        0, 0, 375, 667)
    _say(page, "hi")
    expect(_chat_log(page)).to_contain_text("automated assistant")
    composer = page.get_by_role("textbox", name="Type your message").bounding_box()
    assert composer is not None and composer["y"] + composer["height"] <= 667  # the input is on screen
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))


def test_a_persons_messages_links_and_hostile_text(running_stack, new_page):
    """An agent's message is labelled with their name; https links are links; markup in any message is text."""
    page = new_page()
    _open_demo(page, running_stack)
    page.get_by_role("button", name="Open chat").click()
    _say(page, '<img src=x onerror="window.__pwned=1">hello')
    chat = _chat_log(page)
    expect(page.locator(".msg-bot").first).to_be_visible()
    expect(chat).to_contain_text('<img src=x onerror="window.__pwned=1">hello')

    with session_scope(get_engine(running_stack.config.database_url)) as session:
        conversation = session.get(Conversation, _conversation_id(page, running_stack))
        conversations.record_message(
            session, conversation, direction="out", sender_role="agent", status="sent",
            text="Hi, I'm Pat. Our hours are at https://example.com/hours. <b>Talk</b> soon",
            payload={"agent_name": "Pat"})
        conversations.record_message(
            session, conversation, direction="out", sender_role="bot", status="blocked",
            text="never shown")
    page.reload()  # the history comes from the database (an agent's live reply goes through the hub instead)

    agent = page.locator(".msg-agent")
    expect(agent).to_have_count(1)
    expect(agent.locator(".who")).to_have_text("Agent Pat")
    link = agent.get_by_role("link", name="https://example.com/hours")
    expect(link).to_have_attribute("href", "https://example.com/hours")
    expect(link).to_have_attribute("rel", re.compile("noopener"))
    expect(agent).to_contain_text("<b>Talk</b> soon")
    expect(chat).not_to_contain_text("never shown")
    assert page.locator(f"{HOST} img, {HOST} b").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "widget-agent.png"))

    with session_scope(get_engine(running_stack.config.database_url)) as session:
        stored = session.scalars(select(Message.text).where(Message.direction == "in", Message.text.like("%img%")))
        assert stored.first() is not None


def test_a_forged_token_gets_a_new_empty_chat(running_stack, new_page):
    """4401: the widget drops a token the server refuses and starts a new session of the server's choosing."""
    page = new_page()
    key = f"settle.widget:{running_stack.config.gateway_url}:token"
    forged = "v1.wsomeoneelse.9999999999.AAAA"
    page.add_init_script(f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(forged))})")
    _open_demo(page, running_stack)
    page.get_by_role("button", name="Open chat").click()
    _say(page, "hi")
    expect(_chat_log(page)).to_contain_text("automated assistant")
    token = json.loads(page.evaluate("(k) => localStorage.getItem(k)", key))
    assert token != forged and token.split(".")[1] != "wsomeoneelse"

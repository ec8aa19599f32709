"""The README's walkthroughs (issue 21), followed step by step as written, in headless Chromium against a fresh demo:
the real widget, the Stripe stand-in's checkout page, the agent console and the compliance console.

The steps are read from README.md ("## Walkthroughs"): what a person types is in "quotes", what they should see in
*italics*, what they click in **bold**, commands and card details in `code`. So a README edit that breaks a
walkthrough (a phrase the bot does not understand, a figure it does not say, a step added or dropped) fails here.

The stack is a fresh one per module, loaded by the same function as `make run` (bot.demo.load, through
tests/conftest.py's start_demo_stack): these walkthroughs pay on SET-100001, set up a plan on SET-100026 and dispute
SET-100014, which the session's shared `running_stack` must keep fresh for the tests that read them. The tests run in
README order; the compliance review reads the conversations the others made.

Mutations tried: demo_history.seed choosing the first four accounts by reference again (SET-100001 disputed) fails
the pay-now walkthrough at its first step (the bot answers "This account is on hold while we look into your
dispute", never the balance); "*$1,234.65*" for "*$1,234.56*" in the README's balance walkthrough fails that one;
the old DSP-3 wording in bot/disputes.py fails the dispute walkthrough (the outbound gate's fallback is said)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from bot.config import PROJECT_ROOT
from bot.db import get_engine, session_scope
from bot.db.models import Conversation
from tests.conftest import start_demo_stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

README = PROJECT_ROOT / "README.md"
PASSWORD = "correct horse battery staple"
REPLIES = ".msg:not(.msg-debtor)"  # what the bot, an agent or the system says in the widget
PAY_LINK = re.compile(r"https?://\S+/pay/[a-z2-7]{20}")


@dataclass(frozen=True)
class Step:
    text: str
    typed: list[str]  # "quoted"
    seen: list[str]  # *italic*
    clicked: list[str]  # **bold**
    code: list[str]  # `code`


def walkthroughs() -> dict[str, list[Step]]:
    """README.md's walkthroughs: title -> its numbered steps, each with its parts."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Walkthroughs\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for block in section.split("\n### ")[1:]:
        title, _, body = block.partition("\n")
        # A step is a numbered line and its indented continuation lines.
        steps = [" ".join(s.split()) for s in re.split(r"\n(?=\d+\. )", body.strip()) if re.match(r"\d+\. ", s)]
        found[title.strip()] = [_step(re.sub(r"^\d+\. ", "", s)) for s in steps]
    return found


def _step(text: str) -> Step:
    code = re.findall(r"`([^`]+)`", text)
    rest = re.sub(r"`[^`]+`", "", text)
    clicked = re.findall(r"\*\*(.+?)\*\*", rest)
    rest = re.sub(r"\*\*.+?\*\*", "", rest)
    seen = re.findall(r"\*(.+?)\*", rest)
    rest = re.sub(r"\*.+?\*", "", rest)
    return Step(text, re.findall(r'"([^"]+)"', rest), seen, clicked, code)


def steps(title: str, count: int) -> list[Step]:
    """The walkthrough's steps; this module follows exactly `count` of them, so a step added or dropped fails."""
    found = walkthroughs()[title]
    assert len(found) == count, f"README walkthrough {title!r} has {len(found)} steps; this test follows {count}"
    return found


@pytest.fixture(scope="module")
def demo_stack(trained_model, tmp_path_factory):
    """A fresh `make run`: a new database with the demo portfolio and its history, and the four processes."""
    stack = start_demo_stack(trained_model, tmp_path_factory.mktemp("walkthroughs"))
    yield stack
    stack.stop()


# --- driving the widget as a person does ----------------------------------------------------------------------


def open_chat(page: Page, stack) -> Page:
    page.goto(stack.config.gateway_url + "/")
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    return page


def replies(page: Page) -> int:
    return page.locator(REPLIES).count()


def say(page: Page, text: str) -> None:
    """Type a message and wait for the answer, as a person reads it before typing the next one."""
    before = replies(page)
    box = page.get_by_role("textbox", name="Type your message")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(REPLIES)).not_to_have_count(before, timeout=30_000)
    expect(page.locator(".typing")).to_be_hidden(timeout=30_000)
    expect(page.locator(".msg.pending")).to_have_count(0)


def expect_replies_since(page: Page, since: int, words: list[str], timeout: float = 30.0) -> str:
    """Each of `words` in what was said to the debtor after the first `since` replies; returns that text."""
    deadline = time.monotonic() + timeout
    while True:
        said = "\n".join(page.locator(REPLIES).all_inner_texts()[since:])
        missing = [w for w in words if w not in said]
        if not missing:
            return said
        if time.monotonic() > deadline:
            raise AssertionError(f"the chat never said {missing}; it said:\n{said}")
        time.sleep(0.25)


def chat_step(page: Page, step: Step) -> str:
    """A step in the chat: type each quoted text in turn, then see each italic phrase in the answers to it."""
    since = replies(page)
    for text in step.typed:
        say(page, text)
    return expect_replies_since(page, since, step.seen)


def create_user(stack, command: str) -> str:
    """Run the README's create-user command on the stack's database; the password comes on standard input, since
    there is no terminal to type it twice into. Returns the username."""
    argv = shlex.split(command)
    assert argv[:2] == ["bin/settle", "create-user"], command  # README "The command line"
    result = subprocess.run([*argv, "--password-stdin"], cwd=PROJECT_ROOT, input=PASSWORD + "\n", text=True,
                            capture_output=True, timeout=120,
                            env={**os.environ, "DATABASE_URL": stack.config.database_url})
    assert result.returncode == 0, result.stderr
    return argv[2]


def log_in(page: Page, stack, username: str) -> None:
    page.goto(stack.config.gateway_url + "/agent/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


# --- the walkthroughs, in README order --------------------------------------------------------------------------


def test_the_readme_has_the_walkthroughs_this_module_follows() -> None:
    assert list(walkthroughs()) == ["Your balance", "A payment plan", "Pay now with a test card", "A dispute",
                                    "Asking for a person", "The compliance review"]


def test_your_balance(demo_stack, new_page) -> None:
    page = open_chat(new_page(), demo_stack)
    *chat, consent = steps("Your balance", 5)
    for step in chat:
        assert step.typed, step.text
        chat_step(page, step)
    # EMAIL-1: the E-SIGN question ends the turn that verified; the button's answer is what the debtor sees next.
    question, answer = consent.seen
    expect_replies_since(page, 0, [question])
    since = replies(page)
    page.get_by_role("button", name=consent.clicked[0]).click()
    expect_replies_since(page, since, [answer])


def test_a_payment_plan(demo_stack, new_page) -> None:
    page = open_chat(new_page(), demo_stack)
    offered, terms, agreed = steps("A payment plan", 3)
    assert len(offered.typed) == 4 and terms.typed and agreed.typed
    for step in (offered, terms, agreed):
        said = chat_step(page, step)
    assert re.search(r"PLN-[A-Z0-9]{6}", said) and PAY_LINK.search(said), said  # the reference, the first link


def test_pay_now_with_a_test_card(demo_stack, new_page) -> None:
    chat_page = open_chat(new_page(), demo_stack)
    verify, amount, yes, checkout, back = steps("Pay now with a test card", 5)
    chat_step(chat_page, verify)
    chat_step(chat_page, amount)
    since = replies(chat_page)
    said = chat_step(chat_page, yes)
    [link] = PAY_LINK.findall(said)
    assert link.startswith(demo_stack.config.gateway_url + "/pay/")  # ours; it sends the browser to Stripe's page

    page = new_page()  # "click it": the demo's link is http on loopback, which the widget shows as text
    page.goto(link)
    assert page.url.startswith(demo_stack.config.stripe_url + "/checkout/")
    shows, *after = checkout.seen
    expect(page.get_by_test_id("amount")).to_have_text(shows)
    card, expiry, cvc, zip_code = checkout.code
    page.get_by_label("Email").fill("jordan.rivera@example.com")
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM / YY)").fill(expiry)
    page.get_by_label("CVC").fill(cvc)
    page.get_by_label("Name on card").fill("Jordan Rivera")
    page.get_by_label("ZIP").fill(zip_code)
    [pay] = checkout.clicked
    page.get_by_role("button", name=pay).click()
    for words in after:
        expect(page.get_by_text(words).first).to_be_visible()

    # Back in the chat: the receipt arrived by itself, then the balance asked again is the new one.
    receipt, *balance = back.seen
    expect_replies_since(chat_page, since, [receipt], timeout=60)
    since = replies(chat_page)
    for text in back.typed:
        say(chat_page, text)
    expect_replies_since(chat_page, since, balance)


def test_a_dispute(demo_stack, new_page) -> None:
    page = open_chat(new_page(), demo_stack)
    asked, picked, rights = steps("A dispute", 3)
    chat_step(page, asked)
    choice, *recorded = picked.seen  # "3" (*It's not mine*): the option is offered, then the dispute recorded
    expect(page.locator(REPLIES).last).to_contain_text(f"{picked.typed[0]}. {choice}")
    chat_step(page, Step(picked.text, picked.typed, recorded, [], []))
    chat_step(page, rights)


def test_asking_for_a_person(demo_stack, new_page) -> None:
    make_agent, console, ask, appears, reply, hand_back = steps("Asking for a person", 6)
    [command] = make_agent.code
    username = create_user(demo_stack, command)
    assert re.search(rf"\blog in as {username}\b", console.text)

    agent = new_page()
    log_in(agent, demo_stack, username)
    [queue] = console.seen
    expect(agent.get_by_role("heading", name=queue)).to_be_visible()

    debtor = open_chat(new_page(), demo_stack)
    chat_step(debtor, ask)

    reason, message = appears.seen
    row = agent.locator("tr", has_text=message)  # the demo history's waiting request is in the queue too
    expect(row).to_be_visible(timeout=15_000)  # pushed to the open console, no reload
    expect(row).to_contain_text(reason)
    [take] = appears.clicked
    row.get_by_role("button", name=take).click()

    [text], [send], [who] = reply.typed, reply.clicked, reply.seen
    agent.get_by_role("textbox", name="Reply to the debtor").fill(text)
    agent.get_by_role("button", name=send).click()
    from_agent = debtor.locator(".msg-agent")
    expect(from_agent).to_contain_text(text, timeout=15_000)
    expect(from_agent.locator(".who")).to_have_text(who)

    # The agent's own page shows the reply too (pushed to its transcript) before the next click: that push moves
    # the buttons below the transcript, and a click aimed before it lands can miss (a CI run lost the hand back so).
    expect(agent.locator("#transcript .msg-agent")).to_contain_text(text, timeout=15_000)
    [back] = hand_back.clicked
    since = replies(debtor)
    agent.get_by_role("button", name=back).click()
    expect_replies_since(debtor, since, hand_back.seen)


def test_the_compliance_review(demo_stack, new_page) -> None:
    """Last: it reads the conversations the walkthroughs above made (run the module, not this test alone)."""
    make_reviewer, listed, dispute, opened = steps("The compliance review", 4)
    [command] = make_reviewer.code
    username = create_user(demo_stack, command)
    assert re.search(rf"\bas {username}\b", listed.text)

    page = new_page()
    log_in(page, demo_stack, username)
    [review] = listed.clicked
    page.get_by_role("link", name=review).click()
    expect(page.get_by_role("heading", name=review)).to_be_visible()
    with session_scope(get_engine(demo_stack.config.database_url)) as session:
        total = session.scalar(select(func.count(Conversation.id)))
    expect(page.get_by_text(f"{total} conversations ")).to_be_visible()  # every conversation, the history's too
    channels = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    ours, history = listed.seen
    assert channels[:channels.index(history)] == [ours] * channels.index(history), channels  # newest first
    assert channels.count(ours) >= 5 and channels.count(history) == 4, channels  # 5: the chats above, 4: history

    flag, search = dispute.clicked
    page.get_by_label("Flag").select_option(label=flag)
    page.get_by_role("button", name=search).click()
    expect(page.get_by_text("2 conversations ")).to_be_visible()  # yesterday's demo dispute and yours
    rows = page.locator("tbody tr")
    [account] = dispute.seen
    expect(rows.first).to_contain_text(account)
    expect(rows.nth(1)).to_contain_text(history)

    rows.first.get_by_role("link").click()
    rule, chain, status = opened.seen
    expect(page.get_by_role("table")).to_contain_text(rule)
    expect(page.locator("#chain")).to_contain_text(chain)
    [mark] = opened.clicked
    page.get_by_role("button", name=mark).click()
    expect(page.locator("#review-status")).to_have_text(status)

"""Issue 17 in Chromium on a demo stack with its local mail server (`make run`'s embedded default): a new debtor's
first chat queues the validation notice (DISC-5), the debtor says yes to notices by email (EMAIL-1), the notice is
in /mailbox and its printable link opens it; "email me a copy" puts the chat in /mailbox, and the check page says
intact, then altered after one character is changed (REC-1).

The stack's mail process sends the email queue on the real clock, which may be outside TIME-1 when CI runs. So the
test sends the queue itself, through the stack's own mail server, at the next noon in Los Angeles (the demo debtor's
zone): the time is the test's, not the wall clock's."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from time import monotonic, sleep
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import MailboxMessage
from bot.mail.transport import CHANNEL, email_transport
from bot.messaging import queue as outbound_queue
from tests.conftest import free_port, start_demo_stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LINK_SECRET = "browser-link-secret"
LA = ZoneInfo("America/Los_Angeles")
NOTICE_SUBJECT = "Your validation notice: what we have on file and your rights"
COPY_SUBJECT = "A copy of your chat with us"


@pytest.fixture(scope="module")
def mail_stack(trained_model, tmp_path_factory):
    """A fresh demo stack with the local mail server (process "mail") on a free port, as `make run` starts it."""
    stack = start_demo_stack(trained_model, tmp_path_factory.mktemp("mailstack"), local_mail=True,
                             mail_port=free_port(), extra_env={"EMAIL_LINK_SECRET": LINK_SECRET})
    yield stack
    stack.stop()


def next_noon_in_los_angeles() -> datetime:
    now = datetime.now(LA) + timedelta(minutes=1)
    noon = datetime.combine(now.date(), time(12), tzinfo=LA)
    return (noon if noon > now else noon + timedelta(days=1)).astimezone(timezone.utc)


def send_email_queue(stack, subject: str, timeout: float = 20.0) -> None:
    """What the mail process does every 5 seconds, at a TIME-1 hour of the test's choosing, until the email with
    `subject` is in the local server's mailbox (the mail process may have claimed the message in that moment and put
    it back, deferred by the real clock: the next run takes it)."""
    settings = Settings(database_url=stack.config.database_url, smtp_url=stack.config.local_smtp_url,
                        email_link_secret=LINK_SECRET, gateway_url=stack.config.gateway_url, widget_secret="w")
    engine = get_engine(stack.config.database_url)
    deadline = monotonic() + timeout
    while True:
        outbound_queue.process_due(engine, email_transport(engine, settings), now=next_noon_in_los_angeles(),
                                   channels=(CHANNEL,))
        with session_scope(engine) as session:
            if session.scalar(select(MailboxMessage.id).where(MailboxMessage.subject == subject)) is not None:
                return
        assert monotonic() < deadline, f"no email {subject!r} reached the local mail server"
        sleep(0.5)


def say(page: Page, text: str, then: str) -> None:
    box = page.get_by_role("textbox", name="Type your message")
    box.fill(text)
    box.press("Enter")
    expect(page.get_by_role("log", name="Chat messages")).to_contain_text(then)


def email_in_mailbox(page: Page, stack, subject: str):
    page.goto(stack.config.gateway_url + "/mailbox")
    article = page.locator("article", has=page.get_by_role("heading", name=subject))
    expect(article).to_have_count(1)
    return article


def test_first_chat_notice_in_the_mailbox_with_its_printable_copy_and_the_copy_by_email_checks(mail_stack, new_page):
    """Mutation tried: the pipeline not appending esign.question_due to the turn -> no "Yes, email them" button,
    fails. (The check page's own mutations are in tests/test_notices.py.)"""
    page = new_page()
    page.goto(mail_stack.config.gateway_url + "/")
    page.get_by_role("button", name="Open chat").click()
    say(page, "what do I owe?", "date of birth")
    say(page, "03/14/1979", "Social Security")
    say(page, "1234", "account number")
    say(page, "SET-100001", "$1,234.56")
    chat = page.get_by_role("log", name="Chat messages")
    expect(chat).to_contain_text("Can we email you the notices the law says we must send")
    page.get_by_role("button", name="Yes, email them").click()
    expect(chat).to_contain_text("We'll email your notices to j***@example.com")

    send_email_queue(mail_stack, NOTICE_SUBJECT)
    mailbox = new_page()
    notice = email_in_mailbox(mailbox, mail_stack, NOTICE_SUBJECT)
    frame = notice.frame_locator("iframe")
    expect(frame.get_by_text("Settle Services is a debt collector.")).to_be_visible()
    expect(frame.get_by_text("Total amount of the debt now:")).to_be_visible()
    expect(frame.get_by_text("How do you want to respond?")).to_be_visible()
    with mailbox.expect_popup() as popup:
        frame.get_by_role("link", name="open the printable copy").click()
    printable = popup.value
    expect(printable.get_by_role("heading", name="Validation notice")).to_be_visible()
    expect(printable.get_by_text("Total amount of the debt now:")).to_be_visible()
    expect(printable.get_by_text("$1,234.56").first).to_be_visible()
    expect(printable.get_by_text("Jordan Rivera").first).to_be_visible()

    say(page, "email me a copy", "I'll email a copy of this chat to j***@example.com")
    send_email_queue(mail_stack, COPY_SUBJECT)
    copy_email = email_in_mailbox(mailbox, mail_stack, COPY_SUBJECT)
    copy = copy_email.locator("pre.text-part").text_content()
    assert "----- BEGIN SETTLE TRANSCRIPT -----" in copy and "You: what do I owe?" in copy

    checker = new_page()
    checker.goto(mail_stack.config.gateway_url + "/transcripts/check")
    checker.get_by_label("Paste the copy").fill(copy)
    checker.get_by_role("button", name="Check the copy").click()
    expect(checker.get_by_role("status")).to_contain_text("Intact: this copy matches our record.")
    checker.get_by_label("Paste the copy").fill(copy.replace("what do I owe?", "what do I owe!", 1))
    checker.get_by_role("button", name="Check the copy").click()
    expect(checker.get_by_role("status")).to_contain_text("Altered: this copy does not match our record.")

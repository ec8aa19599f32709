"""Debtor feedback in the web widget, in headless Chromium against the real processes (Rasa's NLU and dialogue,
the action server, the gateway): a verified debtor gets their balance, says goodbye, and sees the question; a 5
and a comment are thanked on the screen and stored. The rules are tested in tests/test_feedback.py, SMS in
tests/test_feedback_sms.py."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot import feedback
from bot.db import get_engine, session_scope
from bot.db.models import Account, Debtor, FeedbackRequest
from tests.browser.test_widget import _chat_log, _conversation_id, _open_demo, _say
from tests.test_feedback_sms import _daytime_zone

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ACCOUNT_REF = "SET-100077"  # this test's own debtor, in a zone where it is daytime now (TIME-1)


def _add_daytime_debtor(database_url: str) -> None:
    with session_scope(get_engine(database_url)) as session:
        if session.scalar(select(Account.id).where(Account.account_ref == ACCOUNT_REF)):
            return
        debtor = Debtor(first_name="Rosa", last_name="Lindqvist", dob=date(1990, 7, 4), ssn_last4="7788",
                        zip="00000", phone=None, email=None, timezone=_daytime_zone(datetime.now(timezone.utc)))
        session.add(debtor)
        session.flush()
        session.add(Account(debtor_id=debtor.id, account_ref=ACCOUNT_REF, creditor="Acme Bank", balance_cents=43210,
                            itemization_date=date(2026, 6, 30), itemization_cents=43210))


def test_the_question_appears_after_goodbye_and_the_answer_is_thanked(running_stack, new_page):
    """Mutation tried: not calling `feedback.after_bot_turn` in the pipeline's `_send` -> the question never shows
    and the first expect fails."""
    _add_daytime_debtor(running_stack.config.database_url)
    page = new_page()
    _open_demo(page, running_stack)
    page.get_by_role("button", name="Open chat").click()
    chat = _chat_log(page)
    _say(page, "what do I owe?")
    expect(chat).to_contain_text("date of birth")
    _say(page, "07/04/1990")
    expect(chat).to_contain_text("Social Security")
    _say(page, "7788")
    expect(chat).to_contain_text("account number")
    _say(page, ACCOUNT_REF)
    expect(chat).to_contain_text("$432.10")
    expect(page.locator(".typing")).to_be_hidden()
    assert "how did we do" not in chat.inner_text()  # not mid-conversation

    _say(page, "bye")
    expect(page.locator(".msg-bot").last).to_contain_text(feedback.QUESTION)
    _say(page, "5")
    expect(page.locator(".msg-bot").last).to_contain_text(feedback.THANKS_FOR_SCORE)
    _say(page, "very helpful, thank you")
    expect(page.locator(".msg-bot").last).to_contain_text(feedback.THANKS_FOR_COMMENT)

    conversation_id = _conversation_id(page, running_stack)
    with session_scope(get_engine(running_stack.config.database_url)) as session:
        request = session.scalars(select(FeedbackRequest).where(
            FeedbackRequest.conversation_id == conversation_id)).one()
        assert (request.channel, request.ended_by, request.score, request.comment) == (
            "web", "bot", 5, "very helpful, thank you")
        assert request.intent == "check_balance"

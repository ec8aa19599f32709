"""Issue 20 item 6: the operations dashboard's own figures (the six KPIs stay in bot/records/kpi.py and are tested
there): DSO as defined on the page, the breakdown by channel and campaign, the feedback hook and the CSV export."""

from __future__ import annotations

from datetime import date, datetime, timezone

from bot import conversations, dashboard
from bot.db import session_scope
from bot.db.models import Campaign, Conversation, FeedbackRequest, LedgerEntry
from tests.conftest import add_debtor

START, END = date(2026, 11, 1), date(2026, 12, 1)  # 30 days
IN_RANGE = datetime(2026, 11, 10, 18, 0, tzinfo=timezone.utc)


def test_DSO_is_outstanding_over_placed_times_the_days(sqlite_engine):
    """$600 placed in the range ($400 still owed after a $200 payment) plus $1,000 placed before it and still owed:
    DSO = ($400 + $1,000) / $600 x 30 = 70 days. Mutation tried: the ledger's sign flipped (payments added to the
    balance at placement instead of undone) -> placed $200, DSO 210."""
    with session_scope(sqlite_engine) as session:
        _, new = add_debtor(session, account_ref="DSO-1", ssn_last4="0001", balance_cents=40_000)
        new.created_at = IN_RANGE
        session.add(LedgerEntry(account_id=new.id, kind="payment", amount_cents=-20_000, balance_after_cents=40_000,
                                reference="dso-pay-1"))
        _, old = add_debtor(session, account_ref="DSO-2", ssn_last4="0002", balance_cents=100_000)
        old.created_at = datetime(2026, 1, 5, tzinfo=timezone.utc)
        session.flush()
        figure = dashboard.dso(session, START, END)
    assert (figure.outstanding_cents, figure.placed_cents, figure.range_days) == (140_000, 60_000, 30)
    assert figure.days == 70.0


def test_no_placement_means_no_DSO_and_no_answers_means_no_feedback_yet(sqlite_engine):
    with session_scope(sqlite_engine) as session:
        board = dashboard.compute(session, START, END)
    assert board.dso.days is None and board.feedback is None


def test_the_feedback_score_is_the_mean_answer_to_questions_asked_in_the_range(sqlite_engine):
    """Mutation tried: feedback_score without the range (since/until dropped) -> the answer from before the range
    counts and the mean is 3.0, not 4.0."""
    asked = [(datetime(2026, 11, 10, 15, tzinfo=timezone.utc), 5), (datetime(2026, 11, 20, 15, tzinfo=timezone.utc), 3),
             (datetime(2026, 11, 25, 15, tzinfo=timezone.utc), None),  # asked, never answered
             (datetime(2026, 10, 5, 15, tzinfo=timezone.utc), 1)]  # before the range
    with session_scope(sqlite_engine) as session:
        for n, (at, score) in enumerate(asked):
            conversation = Conversation(channel="sms", external_id=f"+1555555019{n}")
            session.add(conversation)
            session.flush()
            session.add(FeedbackRequest(conversation_id=conversation.id, channel="sms", ended_by="bot",
                                        question_message_id=n + 1, asked_at=at, score=score,
                                        answered_at=None if score is None else at))
    with session_scope(sqlite_engine) as session:
        board = dashboard.compute(session, START, END)
    assert board.feedback == dashboard.FeedbackFigure(4.0, 2)


def test_breakdowns_by_channel_and_campaign_and_a_csv_no_spreadsheet_runs(sqlite_engine):
    """Mutation tried: kpi.compute ignoring `channel` -> the sms row counted the web conversation too."""
    with session_scope(sqlite_engine) as session:
        for channel, address in (("sms", "+15555550101"), ("web", "widget-1")):
            conversation = conversations.get_or_create(session, channel, address)
            conversation.started_at = IN_RANGE
        session.add(Campaign(name="=cmd|calc", segment="everyone_else", channel="email",
                             variants=[{"name": "A", "text": "Hi"}, {"name": "B", "text": "Hello"}],
                             starts_at=IN_RANGE, created_by="operator:olga"))
        session.flush()
        board = dashboard.compute(session, START, END)
        body = dashboard.as_csv(board)
    rows = {(g.kind, g.name): g for g in board.groups}
    assert board.overall.conversations == 2
    assert rows[("channel", "sms")].conversations == 1 and rows[("channel", "web")].conversations == 1
    assert rows[("campaign", "=cmd|calc")].messages_sent == 0
    assert "campaign,'=cmd|calc," in body and "\ncampaign,=cmd" not in body


def test_the_channel_rows_add_up_to_the_whole_whatever_channels_the_conversations_came_on(sqlite_engine):
    """The exploratory pass saw "All" at 88 conversations and the channel rows at 36: REST conversations had no row.
    Mutation tried: the rows for a fixed ("web", "sms", "email") -> the rest conversation was in no row."""
    with session_scope(sqlite_engine) as session:
        for channel, address in (("sms", "+15555550101"), ("web", "widget-1"), ("rest", "crm-7"),
                                 ("email", "ann@example.com"), ("rest", "crm-8")):
            conversations.get_or_create(session, channel, address).started_at = IN_RANGE
        session.flush()
        board = dashboard.compute(session, START, END)
    rows = [g for g in board.groups if g.kind == "channel"]
    assert sum(g.conversations for g in rows) == board.overall.conversations == 5
    assert [(g.name, g.conversations) for g in rows] == [("web", 1), ("sms", 1), ("email", 1), ("rest", 2)]

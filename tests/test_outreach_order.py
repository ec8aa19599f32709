"""Issue 20 item 3: with no propensity model (none trained, or too little history to train one), outreach (the
reminders job, campaigns) and the agents' queue follow the segment rules: each segment's priority in the segments in
force, highest first, then the usual order. /ops says which order is in force and why."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot import outreach_order, policy_edits, reminders
from bot.agents import queue
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Conversation, Handoff, new_id
from bot.messaging.queue import local_transport
from tests.conftest import add_debtor

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=timezone.utc)  # 11:00 in Los Angeles, inside TIME-1's window


def _portfolio(session) -> dict[str, str]:
    """Account references in the opposite order of their segments' priorities (policy/segments.yml)."""
    ids = {}
    for ref, cents in (("ORD-1", 30_000), ("ORD-2", 100_000), ("ORD-3", 300_000)):  # low_balance 40,
        _, account = add_debtor(session, account_ref=ref, ssn_last4=ref[-1] * 4,  # everyone_else 50,
                                phone=f"+1555555000{ref[-1]}", balance_cents=cents)  # high_balance_recent 90
        ids[ref] = account.id
    return ids


def _first_contact_order(engine) -> list[str]:
    lines: list[str] = []
    reminders.run(engine, Settings(database_url=engine.url.render_as_string(hide_password=False)),
                  local_transport(engine), now=NOW, dry_run=True, campaign="first-contact", out=lines.append)
    return [line.split()[0] for line in lines if line.strip().startswith("ORD-")]


def test_without_a_model_outreach_and_the_queue_follow_segment_priority(engine):
    """Mutation tried: outreach_order.ranks returning {} without a model (the old behaviour) -> account-reference
    order ORD-1, ORD-2, ORD-3 in the reminders run, and arrival order in the queue."""
    with session_scope(engine) as session:
        ids = _portfolio(session)
        said = outreach_order.basis(session)
        assert said.kind == outreach_order.SEGMENTS
        assert said.statement.startswith("No propensity model trained") and "segment priority" in said.statement
    assert _first_contact_order(engine) == ["ORD-3", "ORD-2", "ORD-1"]

    with session_scope(engine) as session:
        start = NOW.replace(minute=0)
        conversations = [Conversation(channel="web", external_id=new_id("q")) for _ in range(3)]
        session.add_all(conversations)
        session.flush()
        handoffs = [Handoff(conversation_id=conversations[0].id, account_id=ids["ORD-1"], reason="request_human",
                            created_at=start + timedelta(minutes=1)),
                    Handoff(conversation_id=conversations[1].id, account_id=ids["ORD-3"], reason="request_human",
                            created_at=start + timedelta(minutes=2)),
                    Handoff(conversation_id=conversations[2].id, account_id=ids["ORD-1"], reason="request_human",
                            created_at=start - timedelta(minutes=30))]
        session.add_all(handoffs)
        session.flush()
        # A longer wait than the bucket is not passed; within it, the higher segment priority first.
        assert [h.id for h in queue.waiting(session)] == [handoffs[i].id for i in (2, 1, 0)]


def test_a_priority_saved_at_ops_reorders_outreach(engine):
    """The order reads the segments in force: low_balance raised to 95 in a version saved at /ops puts ORD-1 first.
    Mutation tried: ranks reading the shipped file (current_segments()) -> ORD-3 stayed first."""
    with session_scope(engine) as session:
        _portfolio(session)
        text = policy_edits.read("segments", session=session)
        edited = text.replace("  - name: low_balance\n    label: Low balance (under $500)\n    priority: 40",
                              "  - name: low_balance\n    label: Low balance (under $500)\n    priority: 95")
        assert edited != text
        policy_edits.save(session, "segments", edited, actor="operator:olga")
    assert _first_contact_order(engine) == ["ORD-1", "ORD-3", "ORD-2"]

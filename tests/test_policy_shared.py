"""Issue 20 item 1: a policy edit saved at /ops reaches every process (gateway replicas, action servers, jobs)
without a restart. Another process, started before the edit and kept running, reads the plan policy, the contact
rules and the segments in force after each question; on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot import policy_edits
from bot.db import session_scope

ROOT = Path(__file__).resolve().parents[1]
# The other process: one line in, one line out, each answer read in a fresh transaction as a job or request would.
READER = """
import sys
from bot.compliance.frequency import active_contact_rules
from bot.db import get_engine, session_scope
from bot.plans.policy import active_policy
from bot.segments import active_segments

engine = get_engine(sys.argv[1])
for _ in sys.stdin:
    with session_scope(engine) as session:
        book = active_segments(session)
        print(active_policy(session).default.min_installment_cents,
              active_contact_rules(session).defaults.sms_per_7_days,
              book.by_name("everyone_else").priority, flush=True)
"""


def test_an_edit_in_one_process_is_in_force_in_another_without_a_restart(engine):
    """Mutations tried: active_contact_rules returning the file's rules (`current_contact_rules()`) -> the other
    process kept the cap of 3; policy_store.active keyed by name only (no hash check) -> the other process kept
    the plan policy it had parsed first."""
    other = subprocess.Popen([sys.executable, "-c", READER, str(engine.url.render_as_string(hide_password=False))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        def ask() -> str:
            other.stdin.write("?\n")
            other.stdin.flush()
            return other.stdout.readline().strip()

        assert ask() == "2500 3 50"  # the shipped files
        with session_scope(engine) as session:
            plans = policy_edits.read("plan_policy", session=session)
            policy_edits.save(session, "plan_policy", plans.replace("min_installment: 25.00", "min_installment: 20.00"),
                              actor="operator:olga")
            rules = policy_edits.read("contact_rules", session=session)
            policy_edits.save(session, "contact_rules", rules.replace("sms_per_7_days: 3", "sms_per_7_days: 2"),
                              actor="operator:olga")
            book = policy_edits.read("segments", session=session)
            policy_edits.save(session, "segments", book.replace("priority: 50", "priority: 55"), actor="operator:olga")
        assert ask() == "2000 2 55"
        with session_scope(engine) as session:
            plans = policy_edits.read("plan_policy", session=session)
            policy_edits.save(session, "plan_policy", plans.replace("min_installment: 20.00", "min_installment: 30.00"),
                              actor="operator:omar")
        assert ask() == "3000 2 55"
    finally:
        other.stdin.close()
        other.wait(timeout=30)

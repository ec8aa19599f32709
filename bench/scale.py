"""Large portfolios on PostgreSQL (issue 22, item 3): import, compliance search, export and the KPIs as data grows.

From the project root, with the app environment (PostgreSQL at SETTLE_TEST_PG_URL, default 127.0.0.1:5432, trust):

    .venv-app/bin/python bench/scale.py import                      # 100,000 and 1,000,000 accounts
    .venv-app/bin/python bench/scale.py queries                     # 100,000 and 10,000,000 messages
    .venv-app/bin/python bench/scale.py queries --messages 100000,1000000 --explain

Every size gets a throwaway database of its own (created, migrated to head, dropped afterwards), so sizes are compared
within one run on the same machine. Nothing here asserts a time: the figures are printed (bench/README.md).

import   writes a portfolio CSV of N accounts (bench/scale.py's own generator: one debtor in ten has two accounts, as
         families and joint accounts do), imports it with `python -m bot import-accounts FILE` in a child process
         and reports its wall time and peak resident memory (the child's ru_maxrss); then imports the same file with
         a few bad rows in it and reports how many problems were listed, how long that took, and that nothing was
         written.
queries  fills the app database with SQL (generate_series, no Python per row): conversations of ten messages
         started at an even rate of 500 a day, going back in time as the data grows (100,000 messages are 20 days,
         10,000,000 are 5.5 years), a debtor and an account per two conversations, handoffs, flags, reviews, audit
         events, plans and installments in the same proportions at every size. It then times (best of 5, after one
         untimed run) the compliance console's queries through the same functions the console calls
         (bot/records/search.py, export.py, kpi.py): searches with each filter, the export of one conversation and of
         a search result, and the KPIs of the last 14 days. The table is printed again as each size ends. With
         --explain it prints each query's plans (EXPLAIN ANALYZE) at every size after the first.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_ROOT, fmt, table  # noqa: E402

PG_ADMIN_URL = os.environ.get("SETTLE_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
COLUMNS = ("account_ref", "first_name", "last_name", "dob", "ssn_last4", "zip", "phone", "email", "timezone",
           "creditor", "balance")
BAD_ROWS = 5  # rows broken on purpose in the second import of each size (and one duplicated account_ref)
CONVERSATIONS_PER_DAY = 500
MESSAGES_PER_CONVERSATION = 10
KPI_DAYS = 14
REPEATS = 5


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def throwaway_database(label: str) -> Iterator[str]:
    """A database made for this size and dropped after it, whatever happens (as bench/load.py does)."""
    import sqlalchemy as sa

    name = f"settle_scale_{label}_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        from bot.db import get_engine

        get_engine(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}").dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------------------------
# Import


def write_accounts(path: Path, count: int, bad_rows: int = 0) -> Path:
    """`count` account rows; every tenth debtor also owns the next account. With bad_rows, that many rows spread
    through the file have an impossible date of birth, and the last row repeats the first one's account_ref."""
    rng = random.Random(count)
    zones = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
    bad = {count * (i + 1) // (bad_rows + 1) for i in range(bad_rows)}
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        person = 0
        for number in range(count):
            if number % 10 != 1:  # accounts 0 and 1 are one person's, then 10 and 11, ...
                person = number
            ref = "SCL-000000" if bad_rows and number == count - 1 else f"SCL-{number:06d}"
            # (date of birth, SSN last 4) repeats only every 2,190,000 people (lcm of 21,900 days and 10,000), as
            # real people's nearly never do: the import looks debtors up by that pair.
            dob = date(1940, 1, 1) + timedelta(days=(person * 7919) % 21900)
            writer.writerow([ref, "Scale", f"Debtor{person}", "1990-02-30" if number in bad else dob.isoformat(),
                             f"{person * 37 % 10000:04d}", f"{10000 + person % 89999:05d}",
                             f"+1555{person % 10_000_000:07d}", f"debtor{person}@example.com", zones[person % 4],
                             "Woodgrove Bank", f"{rng.randrange(5000, 900000) / 100:.2f}"])
    return path


@dataclass
class ImportRun:
    accounts: int
    seconds: float
    peak_rss_mib: float
    exit_code: int
    output: str
    accounts_after: int


def run_import(database_url: str, csv_path: Path) -> tuple[float, float, int, str]:
    """`python -m bot import-accounts FILE` in a child: (wall seconds, peak RSS MiB, exit code, its output)."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(PROJECT_ROOT)}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "bot", "import-accounts", str(csv_path)], cwd=PROJECT_ROOT,
                                 env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    return seconds, usage.ru_maxrss / 1024, child.returncode, output


def count_accounts(database_url: str) -> int:
    import sqlalchemy as sa

    from bot.db import get_engine

    with get_engine(database_url).connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM accounts")).scalar_one()


def bench_import(sizes: list[int], work: Path) -> list[tuple[ImportRun, ImportRun]]:
    from bot.db.migrate import upgrade

    results = []
    for size in sizes:
        good = write_accounts(work / f"accounts-{size}.csv", size)
        broken = write_accounts(work / f"accounts-{size}-bad.csv", size, BAD_ROWS)
        runs = []
        for label, path in (("good", good), ("bad", broken)):
            with throwaway_database(f"import_{size}") as url:
                upgrade(url)
                progress(f"import: {size:,} accounts ({label} file)")
                seconds, rss, code, output = run_import(url, path)
                runs.append(ImportRun(size, seconds, rss, code, output.strip(), count_accounts(url)))
                progress(f"import: {size:,} ({label}): {seconds:.1f} s, peak RSS {rss:.0f} MiB, exit {code}")
        results.append((runs[0], runs[1]))
        good.unlink()
        broken.unlink()
    return results


def import_report(results: list[tuple[ImportRun, ImportRun]]) -> str:
    base = results[0][0]
    rows = []
    for good, bad in results:
        problems = [line for line in bad.output.splitlines() if line.startswith("line ")]
        rows.append([f"{good.accounts:,}", fmt(good.seconds), fmt(good.seconds / base.seconds, 2) + "x",
                     fmt(good.accounts / good.seconds, 0), fmt(good.peak_rss_mib, 0), f"{good.accounts_after:,}",
                     fmt(bad.seconds), f"{len(problems)} (exit {bad.exit_code})", f"{bad.accounts_after:,}",
                     fmt(bad.peak_rss_mib, 0)])
    text = table(["accounts", "import s", "vs first", "rows/s", "peak RSS MiB", "accounts stored",
                  "bad file s", "problems listed", "stored after bad", "bad peak RSS MiB"], rows,
                 title="\nImport (python -m bot import-accounts, PostgreSQL, a throwaway database per file)")
    example = next((bad.output.splitlines() for _good, bad in reversed(results) if bad.output), [])
    return text + "\n" + "\n".join(["problems reported for the bad file of the last size:", *example[-8:]])


# ---------------------------------------------------------------------------------------------
# Queries on many messages

FILL_SQL = """
INSERT INTO debtors (id, first_name, last_name, dob, ssn_last4, zip, phone, email, email_work, email_employer_forbids,
                     timezone, created_at, updated_at)
SELECT 'dbt_s' || i, 'Scale', 'Debtor' || i, DATE '1940-01-01' + (i::bigint * 7919 % 20000)::int,
       lpad(((i * 37) % 10000)::text, 4, '0'), '60601', '+1555' || lpad((i % 10000000)::text, 7, '0'), NULL, false,
       false, 'America/Chicago', :now, :now
FROM generate_series(0, :accounts - 1) AS i;

INSERT INTO accounts (id, debtor_id, account_ref, creditor, balance_cents, currency, status, time_barred,
                      legal_action_permitted, interest_since_cents, fees_since_cents, created_at, updated_at)
SELECT 'acc_s' || i, 'dbt_s' || i, 'SCL-' || lpad(i::text, 7, '0'), 'Woodgrove Bank', 10000 + i::bigint * 7919 % 900000,
       'USD', 'active', false, false, 0, 0, :now, :now
FROM generate_series(0, :accounts - 1) AS i;

-- Conversation c started c * (86400 / per_day) seconds before now: an even rate, older as the data grows.
INSERT INTO conversations (id, channel, external_id, debtor_id, account_id, verified_at, started_at,
                           session_started_at, last_activity_at, transcript_seq)
SELECT 'cnv_s' || c, CASE WHEN c % 3 = 0 THEN 'sms' ELSE 'web' END,
       CASE WHEN c % 3 = 0 THEN '+1555' || lpad(((c / 2) % 10000000)::text, 7, '0') ELSE 'web-s' || c END,
       'dbt_s' || (c / 2), 'acc_s' || (c / 2),
       CASE WHEN c % 4 <> 0 THEN :now - make_interval(secs => c * 86400.0 / :per_day) + interval '2 minutes' END,
       :now - make_interval(secs => c * 86400.0 / :per_day), :now - make_interval(secs => c * 86400.0 / :per_day),
       :now - make_interval(secs => c * 86400.0 / :per_day) + interval '5 minutes', 0
FROM generate_series(0, :conversations - 1) AS c;

INSERT INTO messages (conversation_id, direction, sender_role, text, status, intent, intent_confidence, created_at)
SELECT 'cnv_s' || (m / :per_conversation),
       CASE WHEN m % 2 = 0 THEN 'in' ELSE 'out' END, CASE WHEN m % 2 = 0 THEN 'debtor' ELSE 'bot' END,
       CASE WHEN m % 2 = 0 THEN 'what do I owe on my account' ELSE 'Your balance is $1,234.56.' END,
       CASE WHEN m % 2 = 0 THEN 'processed' ELSE 'sent' END,
       CASE WHEN m % 2 = 0 THEN (ARRAY['greet', 'check_balance', 'request_payment_plan', 'dispute_debt', 'pay_now',
                                        'goodbye', 'inform_identity', 'already_paid', 'hardship', 'bot_challenge'])
                                 [1 + (m / 2 + m / :per_conversation) % 10] END,
       CASE WHEN m % 2 = 0 THEN 0.9 END,
       :now - make_interval(secs => (m / :per_conversation) * 86400.0 / :per_day)
            + make_interval(secs => m % :per_conversation)
FROM generate_series(0, :messages - 1) AS m;

-- Which intents each conversation's messages were read as, with its start time (bot/db/models.py, migration 0022;
-- the app writes a pair as a message gets its intent).
INSERT INTO conversation_intents (conversation_id, intent, conversation_started_at)
SELECT read.conversation_id, read.intent, conversations.started_at
FROM (SELECT DISTINCT conversation_id, intent FROM messages WHERE intent IS NOT NULL) AS read
JOIN conversations ON conversations.id = read.conversation_id;

INSERT INTO audit_events (at, kind, actor, rule_id, conversation_id, account_id, detail)
SELECT :now - make_interval(secs => c * 86400.0 / :per_day) + interval '1 minute', 'verification_passed', 'system',
       'ID-1', 'cnv_s' || c, 'acc_s' || (c / 2), NULL
FROM generate_series(0, :conversations - 1) AS c;

-- Flags, handoffs and reviews carry their conversation's start time (bot/db/models.py, migration 0021).
INSERT INTO handoffs (id, conversation_id, account_id, reason, rule_id, priority, status, created_at, outcome,
                      conversation_started_at)
SELECT 'hof_s' || c, 'cnv_s' || c, 'acc_s' || (c / 2), 'asked_for_person', 'HO-1', 0, 'resolved',
       :now - make_interval(secs => c * 86400.0 / :per_day) + interval '3 minutes',
       (ARRAY['promise_to_pay', 'callback', 'dispute_logged'])[1 + c % 3],
       :now - make_interval(secs => c * 86400.0 / :per_day)
FROM generate_series(0, :conversations - 1, 20) AS c;

INSERT INTO conversation_flags (conversation_id, flag, rule_id, at, conversation_started_at)
SELECT 'cnv_s' || c, CASE WHEN c % 2 = 0 THEN 'dispute' ELSE 'opt_out' END, 'DSP-1',
       :now - make_interval(secs => c * 86400.0 / :per_day) + interval '4 minutes',
       :now - make_interval(secs => c * 86400.0 / :per_day)
FROM generate_series(0, :conversations - 1, 33) AS c;

INSERT INTO conversation_reviews (conversation_id, status, updated_at, conversation_started_at)
SELECT 'cnv_s' || c, CASE WHEN c % 20 = 0 THEN 'escalated' ELSE 'reviewed' END, :now,
       :now - make_interval(secs => c * 86400.0 / :per_day)
FROM generate_series(0, :conversations - 1, 10) AS c;

INSERT INTO plans (id, reference, account_id, conversation_id, kind, frequency, balance_cents, total_cents, fee_cents,
                   installment_count, terms_text, status, consented_at, consent_text, created_at)
SELECT 'pln_s' || a, 'PLN-S' || a, 'acc_s' || a, 'cnv_s' || (a * 2), 'plan', 'monthly', 240000, 240000, 0, 6,
       'six monthly payments', 'active', :now - make_interval(secs => a * 2 * 86400.0 / :per_day), 'YES',
       :now - make_interval(secs => a * 2 * 86400.0 / :per_day)
FROM generate_series(0, :accounts - 1, 10) AS a;

INSERT INTO installments (id, plan_id, number, due_date, amount_cents, status)
SELECT 'ins_s' || a || '_' || n, 'pln_s' || a, n,
       (:now - make_interval(secs => a * 2 * 86400.0 / :per_day))::date + 30 * n, 40000,
       CASE WHEN (:now - make_interval(secs => a * 2 * 86400.0 / :per_day))::date + 30 * n > CAST(:now AS date)
            THEN 'scheduled'
            WHEN (a + n) % 4 = 0 THEN 'missed' ELSE 'paid' END
FROM generate_series(0, :accounts - 1, 10) AS a, generate_series(1, 6) AS n;

INSERT INTO payments (id, reference, account_id, method, attempt, amount_cents, currency, status, applied_cents,
                      refunded_cents, applied_at, created_at, updated_at)
SELECT 'pay_s' || a, 'PAY-S' || a, 'acc_s' || a, 'checkout', 1, 40000, 'USD', 'succeeded', 40000, 0,
       :now - make_interval(secs => a * 2 * 86400.0 / :per_day) + interval '10 minutes',
       :now - make_interval(secs => a * 2 * 86400.0 / :per_day), :now
FROM generate_series(0, :accounts - 1, 10) AS a;
"""


def fill(database_url: str, messages: int, now: datetime) -> dict[str, float]:
    """The data for `messages` messages, by SQL on the server; returns seconds per statement kind."""
    import sqlalchemy as sa

    from bot.db import get_engine

    conversations = messages // MESSAGES_PER_CONVERSATION
    params = {"now": now, "messages": messages, "conversations": conversations,
              "accounts": max(1, conversations // 2), "per_day": CONVERSATIONS_PER_DAY,
              "per_conversation": MESSAGES_PER_CONVERSATION}
    timings: dict[str, float] = {}
    engine = get_engine(database_url)
    with engine.begin() as connection:
        for statement in (s.strip() for s in FILL_SQL.split(";")):
            if not statement or all(line.startswith("--") for line in statement.splitlines()):
                continue
            table_name = statement.split("INSERT INTO ", 1)[1].split()[0]
            start = time.perf_counter()
            used = {key: value for key, value in params.items() if f":{key}" in statement}
            connection.execute(sa.text(statement), used)
            timings[table_name] = time.perf_counter() - start
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        start = time.perf_counter()
        connection.execute(sa.text("VACUUM ANALYZE"))
        timings["vacuum analyze"] = time.perf_counter() - start
    return timings


@dataclass
class Query:
    name: str
    run: Callable[[Any], Any]


def queries(now: datetime) -> list[Query]:
    from bot.db.models import User
    from bot.records import export, kpi, search

    today = now.date()
    recent = datetime.combine(today - timedelta(days=6), datetime.min.time(), timezone.utc)
    auditor = User(id="usr_scale", username="scale-auditor", display_name="Scale Auditor", role="compliance",
                   can_view_unredacted=False)

    def page(filters: search.Filters) -> Callable[[Any], Any]:
        return lambda session: search.search(session, filters)

    def export_search(session: Any) -> str:
        ids = search.all_ids(session, search.Filters(account_ref="SCL-0000010"))
        return export.as_csv(session, auditor, ids)

    return [
        Query("search: newest page, no filter", page(search.Filters())),
        Query("search: last 7 days", page(search.Filters(started_from=recent))),
        Query("search: account_ref", page(search.Filters(account_ref="scl-0000010"))),
        Query("search: phone", page(search.Filters(phone="+15550000015"))),
        Query("search: intent, last 7 days", page(search.Filters(started_from=recent, intent="dispute_debt"))),
        Query("search: flag dispute", page(search.Filters(flag="dispute"))),
        Query("search: outcome callback", page(search.Filters(outcome="callback"))),
        Query("search: escalated", page(search.Filters(review_status="escalated"))),
        Query("export: one conversation (JSON)", lambda session: export.as_json(session, auditor, ["cnv_s20"])),
        Query("export: a search result (CSV)", export_search),
        Query(f"KPIs: last {KPI_DAYS} days", lambda session: kpi.compute(session, today - timedelta(days=KPI_DAYS - 1),
                                                                          today + timedelta(days=1))),
    ]


def time_queries(database_url: str, now: datetime) -> dict[str, float]:
    """Best of REPEATS wall seconds per query, after one untimed run; each in a transaction rolled back (the export
    writes its audit records)."""
    from sqlalchemy.orm import Session

    from bot.db import get_engine

    engine = get_engine(database_url)
    best: dict[str, float] = {}
    for query in queries(now):
        times = []
        for attempt in range(REPEATS + 1):
            with Session(engine) as session:
                start = time.perf_counter()
                query.run(session)
                elapsed = time.perf_counter() - start
                session.rollback()
            if attempt:
                times.append(elapsed)
        best[query.name] = min(times)
    return best


def explain(database_url: str, now: datetime) -> list[tuple[str, str, float]]:
    """Each query's SQL statements with PostgreSQL's plan (EXPLAIN ANALYZE), captured as the functions run them."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from bot.db import get_engine

    engine = get_engine(database_url)
    plans = []
    for query in queries(now):
        statements: list[tuple[str, Any]] = []

        def spy(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool,
                seen: list[tuple[str, Any]] = statements) -> None:
            if statement.lstrip().upper().startswith("SELECT") and not executemany:
                seen.append((statement, parameters))

        sa.event.listen(engine, "before_cursor_execute", spy)
        try:
            with Session(engine) as session:
                query.run(session)
                session.rollback()
        finally:
            sa.event.remove(engine, "before_cursor_execute", spy)
        text, db_ms = [], 0.0
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            for statement, parameters in statements:
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + statement, parameters)
                    lines = [row[0] for row in cursor.fetchall()]
                plan = "\n".join(line[:200] + (" ..." if len(line) > 200 else "") for line in lines)
                db_ms += sum(float(line.split()[-2]) for line in lines if line.startswith(("Planning Time",
                                                                                           "Execution Time")))
                text.append(f"{' '.join(statement.split())[:300]}\n{plan}")
            raw.rollback()
        plans.append((query.name, "\n\n".join(text), db_ms))
    return plans


def bench_queries(sizes: list[int], show_plans: bool) -> list[tuple[int, dict[str, float], dict[str, float],
                                                                   dict[str, float]]]:
    from bot.db.migrate import upgrade

    now = datetime.now(timezone.utc).replace(microsecond=0)
    results = []
    for size in sizes:
        with throwaway_database(f"messages_{size}") as url:
            upgrade(url)
            progress(f"queries: filling {size:,} messages")
            fill_times = fill(url, size, now)
            progress(f"queries: filled in {sum(fill_times.values()):.0f} s; timing")
            times = time_queries(url, now)
            plans = explain(url, now)
            results.append((size, fill_times, times, {name: db_ms for name, _plan, db_ms in plans}))
            # Printed as each size ends: the largest may not finish in the time at hand (bench/README.md).
            print(queries_report(results), flush=True)
            if show_plans and size != sizes[0]:
                for name, plan, _db_ms in plans:
                    print(f"\n## {name} ({size:,} messages)\n{plan}", flush=True)
    return results


def queries_report(results: list[tuple[int, dict[str, float], dict[str, float], dict[str, float]]]) -> str:
    """Wall time (the function as the console calls it, Python included) and the database's own time (planning and
    execution of each statement it ran, from EXPLAIN ANALYZE), per size, and each as a ratio to the first size."""
    names = list(results[0][2])
    first_wall, first_db = results[0][2], results[0][3]
    headers = ["query"]
    for size, *_rest in results:
        headers += [f"{size:,} wall ms", f"{size:,} DB ms"]
    for size, *_rest in results[1:]:
        headers += [f"{size:,} wall vs first", f"{size:,} DB vs first"]
    rows = []
    for name in names:
        row = [name]
        for _size, _fill, wall, db in results:
            row += [fmt(wall[name] * 1000, 1), fmt(db[name], 2)]
        for _size, _fill, wall, db in results[1:]:
            row += [fmt(wall[name] / first_wall[name], 2) + "x",
                    fmt(db[name] / first_db[name], 2) + "x" if first_db[name] else "-"]
        rows.append(row)
    fills = "; ".join(f"{size:,} messages filled in {sum(fill.values()):.0f} s" for size, fill, *_rest in results)
    return table(headers, rows, title=f"\nCompliance console queries (wall: best of {REPEATS}; DB: one EXPLAIN "
                                      "ANALYZE of each statement; PostgreSQL)") + "\n" + fills


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("import", "queries", "all"))
    parser.add_argument("--accounts", default="100000,1000000", help="import sizes, comma-separated")
    parser.add_argument("--messages", default="100000,10000000", help="query sizes, comma-separated")
    parser.add_argument("--explain", action="store_true", help="print each query's plan at the largest size")
    args = parser.parse_args()
    from bot.records.listeners import register_flush_listeners

    register_flush_listeners()  # the export audits what it exported (REC-1 hooks), rolled back here
    if args.part in ("import", "all"):
        with tempfile.TemporaryDirectory(prefix="settle-scale-") as tmp:
            print(import_report(bench_import([int(s) for s in args.accounts.split(",")], Path(tmp))), flush=True)
    if args.part in ("queries", "all"):
        bench_queries([int(s) for s in args.messages.split(",")], args.explain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

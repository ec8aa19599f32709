"""Issue 20 item 1: the operations console over HTTP. Its own role (created by `python -m bot create-user --role
operator`), the same login as the other consoles; a portfolio upload shows each bad row with its line and imports
nothing; a refused policy edit keeps the text as typed; exports are downloads that no spreadsheet runs."""

from __future__ import annotations

import html
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.agents import users
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Account, AuditEvent, LedgerEntry, PolicyVersion
from bot.gateway import hardening
from bot.gateway.app import create_app
from tests.test_agents_console import PASSWORD, _closed_port

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HEADER = "account_ref,first_name,last_name,dob,ssn_last4,zip,phone,email,timezone,creditor,balance\n"
GOOD = "OPS-1,Ada,Lane,1980-01-02,1111,90210,+15555550111,ada@example.com,America/Los_Angeles,Acme Bank,120.00\n"
BAD = "OPS-2,Bo,Park,1981-02-03,2222,90210,+15555550112,bo@example.com,America/Los_Angeles,=HYPERLINK(1),12x\n"


@pytest.fixture
def client(sqlite_engine, sqlite_url, monkeypatch):
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["create-user", "olga", "--role", "operator", "--password-stdin"]) == 0
    with session_scope(sqlite_engine) as session:
        users.create_user(session, "ana", PASSWORD, "agent")
    settings = Settings(database_url=sqlite_url, rasa_url=f"http://127.0.0.1:{_closed_port()}", widget_secret="t")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _login(client: TestClient, name: str) -> tuple[str, str]:
    client.cookies.clear()
    page = client.get("/agent/login")
    response = client.post("/agent/login", data={"username": name, "password": PASSWORD,
                                                  "csrf_token": CSRF.search(page.text).group(1)})
    return response.url.path, CSRF.search(response.text).group(1)


def _upload(client: TestClient, token: str, body: str):
    return client.post("/ops/portfolio", data={"csrf_token": token},
                       files={"portfolio": ("portfolio.csv", body.encode(), "text/csv")})


def test_an_operator_lands_on_ops_and_the_other_roles_do_not_get_in(client):
    """REC-2. Mutations tried: queue_page without the operator redirect (the operator landed on the agent queue);
    can_operate allowing every active user (the agent reached /ops)."""
    where, _ = _login(client, "olga")
    assert where == "/ops"
    assert client.get("/compliance").status_code == 403
    where, _ = _login(client, "ana")
    assert where == "/agent"
    for path in ("/ops", "/ops/campaigns", "/ops/policies/plan_policy", "/ops/segments.csv", "/ops/dashboard"):
        assert client.get(path).status_code == 403, path


def test_a_bad_row_is_shown_with_its_line_and_nothing_is_imported(client, sqlite_engine):
    """Mutation tried: the page listing only the summary -> the line of the bad row was not on it."""
    _, token = _login(client, "olga")
    refused = _upload(client, token, HEADER + GOOD + BAD)
    assert refused.status_code == 400
    assert "line 3: balance:" in refused.text and "nothing was imported" in refused.text
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0
    accepted = _upload(client, token, HEADER + GOOD + BAD.replace(",12x", ",12.00"))
    assert accepted.status_code == 200 and "Imported 2 rows: 2 new accounts" in accepted.text
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.kind == "portfolio_imported")) == \
            "operator:olga"
    export = client.get("/ops/segments.csv")
    assert export.headers["content-disposition"] == 'attachment; filename="segments.csv"'
    assert "OPS-2,'=HYPERLINK(1),12.00" in export.text  # CSV injection guarded
    # REC-2: balances leaving the system are on the record with who took them (mutation tried: no audit; failed).
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.kind == "segments_exported")) == \
            "operator:olga"
    assert client.post("/ops/portfolio", data={"csrf_token": "wrong"},
                       files={"portfolio": ("p.csv", b"x", "text/csv")}).status_code == 403


def test_a_reupload_after_a_payment_keeps_settles_balance_and_says_so_on_the_page(client, sqlite_engine):
    """H1, TONE-2: the operator sees which row's balance was not used and why.

    Mutation tried: the template's kept block removed -> fails (no "balance kept" on the page)."""
    _, token = _login(client, "olga")
    assert _upload(client, token, HEADER + GOOD).status_code == 200
    with session_scope(sqlite_engine) as session:
        paid = session.scalars(select(Account).where(Account.account_ref == "OPS-1")).one()
        session.add(LedgerEntry(account_id=paid.id, kind="payment", amount_cents=-2000,
                                balance_after_cents=10000, reference="payment:test-ops-1"))
        paid.balance_cents = 10000

    again = _upload(client, token, HEADER + GOOD)

    assert again.status_code == 200 and "Imported 1 row: 0 new accounts, 0 updated, 1 unchanged" in again.text
    assert "1 balance not changed: Settle took payments on this account since it was imported" in again.text
    assert ("line 2: OPS-1: balance kept at $100.00, not $120.00 as in the file: Settle&#39;s ledger changed it by "
            "-$20.00 since it was imported") in again.text
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(Account.balance_cents).where(Account.account_ref == "OPS-1")) == 10000


def _rows(count: int) -> str:
    return "".join(f"BIG-{n},Ada,Lane,1980-01-02,{n % 10000:04d},90210,,ada{n}@example.com,America/Los_Angeles,"
                   "Acme Bank,120.00\n" for n in range(count))


def test_a_portfolio_over_the_gateways_1_mib_is_imported(client, sqlite_engine):
    """H5: the upload has its own limit (50 MB), not the gateway's 1 MiB for everything else.

    Mutation tried: UPLOAD_FILE_BYTES emptied (the route back under the global limit) -> fails (JSON 413)."""
    _, token = _login(client, "olga")
    body = HEADER + _rows(15000)
    assert len(body) > 1024 * 1024

    response = _upload(client, token, body)

    assert response.status_code == 200 and "Imported 15000 rows: 15000 new accounts" in response.text
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 15000
        assert session.scalar(select(AuditEvent.detail).where(AuditEvent.kind == "portfolio_imported"))["file"] == \
            "portfolio.csv"


def test_a_file_over_the_upload_limit_is_refused_on_the_page_and_nothing_is_imported(client, sqlite_engine,
                                                                                      monkeypatch):
    """H5: over the limit, by its Content-Length or (sent in chunks) as it arrives: a 413 that is the console page,
    naming the limit and the command line, never raw JSON.

    Mutation tried: the route's `except hardening.BodyTooLarge` removed -> fails ({"detail": ...} JSON 413)."""
    monkeypatch.setitem(hardening.UPLOAD_FILE_BYTES, "/ops/portfolio", 1024 * 1024)
    _, token = _login(client, "olga")
    body = HEADER + _rows(12000)  # about 1.2 MB

    declared = _upload(client, token, body)

    assert declared.status_code == 413 and declared.headers["content-type"].startswith("text/html")
    assert "This file is over 1 MB, the most this page takes: nothing was imported. Import it with " \
           "`bin/settle import-accounts`" in html.unescape(declared.text)
    assert 'id="upload-title"' in declared.text  # still the upload page

    boundary = "settleboundary"
    parts = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"portfolio\"; filename=\"p.csv\"\r\n"
             f"Content-Type: text/csv\r\n\r\n{body}\r\n--{boundary}--\r\n").encode()

    def chunks():  # no Content-Length: the limit is found while reading
        for start in range(0, len(parts), 64 * 1024):
            yield parts[start : start + 64 * 1024]

    streamed = client.post("/ops/portfolio", content=chunks(), headers={
        "content-type": f"multipart/form-data; boundary={boundary}", "origin": str(client.base_url)})
    assert streamed.status_code == 413 and "This file is over 1 MB" in streamed.text
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0


def test_a_refused_policy_edit_keeps_the_text_and_names_the_problem(client):
    _, token = _login(client, "olga")
    page = client.get("/ops/policies/contact_rules")
    assert page.status_code == 200 and "sms_per_7_days: 3" in page.text
    typed = page.text.split('class="code">', 1)[1].split("</textarea>", 1)[0]
    response = client.post("/ops/policies/contact_rules",
                           data={"csrf_token": token, "text": "version: 2\ndefaults: {}\n"})
    assert response.status_code == 400 and "Not saved." in response.text
    assert "contact_rules.yml: version: must be 1" in response.text and "version: 2" in response.text
    assert client.get("/ops/policies/contact_rules").text.count("sms_per_7_days: 3") == typed.count(
        "sms_per_7_days: 3")
    assert client.get("/ops/policies/passwords").status_code == 404


def test_a_misspelt_creditor_in_the_plan_policy_asks_before_saving_and_names_the_known_creditors(client,
                                                                                                  sqlite_engine):
    """M4: the page says which creditor matches no account and whose terms would be dropped, keeps the text, and
    saves only once the operator ticks each name. Mutation tried: the template's checkboxes removed -> fails (no
    way to confirm on the page: "confirm_creditor" not in it)."""
    from bot.portfolio_import import import_accounts
    from tests.test_portfolio_import import DEMO

    import_accounts(sqlite_engine, DEMO)
    _, token = _login(client, "olga")
    page = client.get("/ops/policies/plan_policy")
    typed = html.unescape(page.text.split('class="code">', 1)[1].split("</textarea>", 1)[0])
    misspelt = typed.replace("  Acme Bank:", "  Acme Bnk:")
    base = re.search(r'name="base_version" value="(\d+)"', page.text).group(1)

    held = client.post("/ops/policies/plan_policy", data={"csrf_token": token, "text": misspelt,
                                                          "base_version": base})

    shown = html.unescape(held.text)
    assert held.status_code == 400 and "Not saved yet." in shown
    assert "creditors.Acme Bnk: no account has this creditor, so these terms would apply to no one (the " \
           "accounts' creditors are: Acme Bank, " in shown
    assert "Acme Bank: its accounts had their own terms (creditors.Acme Bank) and would get the default" in shown
    assert "  Acme Bnk:" in shown  # the text as typed is kept
    assert shown.count('name="confirm_creditor"') == 2
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count(PolicyVersion.id))) == 0

    saved = client.post("/ops/policies/plan_policy", data={
        "csrf_token": token, "text": misspelt, "base_version": base, "confirm_creditor": ["Acme Bnk", "Acme Bank"]},
        follow_redirects=False)
    assert saved.status_code == 303
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count(PolicyVersion.id))) == 1


def test_a_campaign_that_names_a_debt_is_refused_on_the_page(client):
    _, token = _login(client, "olga")
    response = client.post("/ops/campaigns", data={
        "csrf_token": token, "name": "Owe", "segment": "everyone_else", "channel": "email", "result_days": "14",
        "variant_a": "Your debt of $50 is overdue.", "variant_b": "Hello from {business}."})
    assert response.status_code == 400 and "DISC-3" in response.text
    assert "Your debt of $50 is overdue." in response.text  # what was typed stays in the form


def test_an_operator_gives_a_variant_its_spanish_text_and_the_campaign_page_shows_which_have_none(client):
    """Issue 23: the form's Spanish fields are stored with their variant and shown; a variant without one says its
    Spanish speakers are skipped. Mutation tried: operations.campaign_create not passing spanish_texts (the page
    said "No Spanish text" for variant A, failed)."""

    _, token = _login(client, "olga")
    made = client.post("/ops/campaigns", data={
        "csrf_token": token, "name": "Hola", "segment": "everyone_else", "channel": "email", "result_days": "14",
        "start_now": "1",
        "variant_a": "Hello from {business}.", "variant_b": "Hi, it's {business}.",
        "variant_a_es": "Hola, le escribe {business}."})
    assert made.status_code == 200 and made.url.path.startswith("/ops/campaigns/cmp")
    shown = html.unescape(made.text)
    assert "Spanish: Hola, le escribe {business}." in shown
    assert shown.count("No Spanish text: Spanish speakers are skipped.") == 1
    refused = client.post("/ops/campaigns", data={
        "csrf_token": token, "name": "Deuda", "segment": "everyone_else", "channel": "email", "result_days": "14",
        "start_now": "1",
        "variant_a": "Hello from {business}.", "variant_b": "Hi, it's {business}.",
        "variant_b_es": "Usted debe $50 en su cuenta."})
    assert refused.status_code == 400 and "variant B (Spanish)" in refused.text and "DISC-3" in refused.text
    assert "Usted debe $50 en su cuenta." in refused.text  # what was typed stays in the form


def test_a_saved_edit_is_in_force_and_a_stale_form_cannot_undo_it(client):
    """The page names the version in force; a form opened before someone else's save is refused (the text kept).
    Mutation tried: the hidden base_version not posted back (`base_version` ignored) -> the stale form's save
    became version 2 and undid the first edit."""

    _, token = _login(client, "olga")
    page = client.get("/ops/policies/contact_rules")
    assert "In force: the shipped file (no edit saved yet)." in page.text
    typed = html.unescape(page.text.split('class="code">', 1)[1].split("</textarea>", 1)[0])
    base = re.search(r'name="base_version" value="(\d+)"', page.text).group(1)
    first = client.post("/ops/policies/contact_rules", data={
        "csrf_token": token, "base_version": base, "text": typed.replace("sms_per_day: 1", "sms_per_day: 1 ")})
    assert first.status_code == 200 and "In force: version 1, saved by operator:olga" in first.text
    stale = client.post("/ops/policies/contact_rules", data={
        "csrf_token": token, "base_version": base, "text": typed.replace("sms_per_7_days: 3", "sms_per_7_days: 2")})
    assert stale.status_code == 400 and "version 1 was saved by someone else while you edited version 0" in stale.text
    assert "sms_per_7_days: 2" in stale.text  # what was typed is still in the box


def test_the_home_page_says_which_order_is_in_force(client):
    """Without a propensity model: the segments' priority, shown per segment."""
    _login(client, "olga")
    page = client.get("/ops")
    said = page.text.split('id="order-in-force">', 1)[1].split("</p>", 1)[0]
    assert "No propensity model trained" in said and "ordered by segment priority, highest first" in said
    assert re.search(r"High balance, recent[^<]*</a></td><td data-label=\"Priority\">90</td>", page.text)


def test_a_bad_dashboard_range_is_said_on_the_dashboard_keeping_the_dates_typed(client):
    """C5: a range with its end first used to give the agent console's error page ("Back to the queue") even to an
    operator. Now the dashboard says why (a 400) with the dates as typed and the last 30 days' figures; the CSV
    export's refusal wears the operations header and leads back to the dashboard.
    Mutation tried: dashboard_page returning routes._refuse again -> fails; _way_back without its /ops branch ->
    the CSV refusal says "Back to the queue" and fails."""
    _login(client, "olga")
    page = client.get("/ops/dashboard", params={"from": "2026-12-05", "to": "2026-12-01"})
    assert page.status_code == 400 and "Pick a range of one day to a year, with the start first." in page.text
    assert 'name="from" value="2026-12-05"' in page.text and 'name="to" value="2026-12-01"' in page.text
    assert "Back to the queue" not in page.text and 'id="headline"' in page.text
    csv_refused = client.get("/ops/dashboard.csv", params={"from": "2026-12-05", "to": "2026-12-01"})
    assert csv_refused.status_code == 400 and "Operations</a>" in csv_refused.text
    assert 'href="/ops/dashboard" id="back">Back to the dashboard</a>' in csv_refused.text
    assert "Back to the queue" not in csv_refused.text


def test_FREQ_1_twenty_calls_a_week_is_refused_on_the_page_and_the_text_kept(client):
    """What the operator saw: `calls_per_7_days: 20` saved as version 1. Mutation tried: the CEILINGS loop in
    frequency._above_the_law skipped -> 303 and saved."""
    _, token = _login(client, "olga")
    page = client.get("/ops/policies/contact_rules")
    typed = page.text.split('class="code">', 1)[1].split("</textarea>", 1)[0]
    text = html.unescape(typed).replace("calls_per_7_days: 7", "calls_per_7_days: 20")
    response = client.post("/ops/policies/contact_rules", data={"csrf_token": token, "text": text})
    assert response.status_code == 400 and "Not saved." in response.text
    assert "calls_per_7_days: 20 is above 7" in response.text and "1006.14(b)(2)" in response.text
    assert "calls_per_7_days: 20" in response.text.split('class="code">', 1)[1]


def test_a_campaign_with_no_start_is_refused_unless_start_now_is_ticked(client):
    """Exploratory pass: an empty start meant "now", and the scheduler ran the campaign within a minute, before any
    dry run. Refused (400, what was typed kept) unless "Start now" is ticked. Mutation tried: `start_now` forced
    True in operations.campaign_create -> created, and this fails."""
    _, token = _login(client, "olga")
    typed = {"csrf_token": token, "name": "Soon", "segment": "everyone_else", "channel": "email", "result_days": "14",
             "variant_a": "Hello from {business}.", "variant_b": "Hi, it's {business}."}
    refused = client.post("/ops/campaigns", data=typed)
    assert refused.status_code == 400 and 'tick "Start now"' in html.unescape(refused.text)
    assert "Hello from {business}." in html.unescape(refused.text) and 'value="Soon"' in refused.text
    made = client.post("/ops/campaigns", data={**typed, "start_now": "1"})
    assert made.status_code == 200 and made.url.path.startswith("/ops/campaigns/cmp")


def test_a_campaign_result_address_opened_again_shows_the_campaign_and_a_console_405_is_a_page(client):
    """M7: after Dry run the address bar is the campaign's own (data-address, console.js); the POST-only address,
    opened with a GET (history, bookmark), is the campaign page, not {"detail":"Method Not Allowed"}; any other
    console 405 is a console page with the Allow header.

    Mutations tried: the GET route for the action addresses removed -> fails (405); the 405 branch in
    routes.not_found removed -> fails (JSON)."""
    _, token = _login(client, "olga")
    made = client.post("/ops/campaigns", data={
        "csrf_token": token, "name": "Soon", "segment": "everyone_else", "channel": "email", "result_days": "14",
        "variant_a": "Hello from {business}.", "variant_b": "Hi, it's {business}.", "start_now": "1"})
    page = made.url.path

    dry = client.post(f"{page}/dry-run", data={"csrf_token": token})
    assert dry.status_code == 200 and f'data-address="{page}"' in dry.text

    again = client.get(f"{page}/dry-run", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == page
    shown = client.get(f"{page}/run")
    assert shown.status_code == 200 and shown.url.path == page and "Soon" in shown.text
    assert client.get(f"{page}/delete").status_code == 404

    refused = client.get("/ops/portfolio")
    assert refused.status_code == 405 and refused.headers["content-type"].startswith("text/html")
    assert "This address only takes a form&#39;s button" in refused.text and refused.headers["allow"] == "POST"
    assert client.get("/healthz").status_code == 200  # elsewhere, answers as before
    assert client.get("/webhooks/stripe").headers["content-type"].startswith("application/json")

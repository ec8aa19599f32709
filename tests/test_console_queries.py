"""The consoles' query parameters, fuzzed (the staff tester's finding: bad input on the compliance search answered
200). Every filter of the compliance search and of its export, the KPI dashboard's range and its CSV, and the
operations page's segment take any string: the answer is the page (200) or the page saying what to fix (400),
never a 5xx, on SQLite and on PostgreSQL (which refuses a NUL in a string, a 500 if it got there). A 400 keeps
what was typed in the form's fields and nowhere else, and never repeats a card number or an SSN."""

from __future__ import annotations

import os
import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.agents import users
from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import Base
from bot.gateway.app import create_app
from tests.test_agents_console import PASSWORD, _closed_port
from tests.test_ops_console import _login

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
MARKER = "Zq7Marker"
CARD = "4242 4242 4242 4242"
LEAKS = ("4242 4242 4242 4242", "4242424242424242", "123-45-6789")

# (path, who may read it, the query parameters it reads)
PAGES = [
    ("/compliance", "cat", ("from", "to", "account_ref", "phone", "channel", "intent", "agent", "outcome", "flag",
                            "review_status", "page")),
    ("/compliance/export.csv", "cat", ("from", "to", "account_ref", "phone", "channel", "intent", "agent",
                                       "outcome", "flag", "review_status")),
    ("/ops/dashboard", "olga", ("from", "to")),
    ("/ops/dashboard.csv", "olga", ("from", "to")),
    ("/ops/dashboard", "cat", ("from", "to")),  # compliance reads the dashboard too
    ("/ops", "olga", ("segment", "notice")),
    ("/ops/segments.csv", "olga", ("segment",)),
]
VALUE = st.one_of(
    st.sampled_from([CARD, f"{CARD} exp 12/27", "123-45-6789", "\x00", "\ud800", "9999-12-31", "0001-01-01",
                     "2026-02-30", "2026-12-01", "-1", "0", "99999999999999999999", "9" * 5000, "", " ", "sms",
                     "dispute", "callback", "reviewed", "ana", "high_balance_recent", "=1+1", "<b>x</b>", '"',
                     "20261201", "2026-W49-1"]),
    st.text(max_size=40),
    st.builds(lambda a, b: f"{a}{MARKER}{b}", st.text(max_size=10), st.text(max_size=10)))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def clients(request):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    engine = get_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    with session_scope(engine) as session:
        users.create_user(session, "ana", PASSWORD, "agent")
        users.create_user(session, "cat", PASSWORD, "compliance")
        users.create_user(session, "olga", PASSWORD, "operator")
    settings = Settings(database_url=url, rasa_url=f"http://127.0.0.1:{_closed_port()}", widget_secret="t")
    with TestClient(create_app(settings), raise_server_exceptions=False) as cat, \
            TestClient(create_app(settings), raise_server_exceptions=False) as olga:
        _login(cat, "cat")
        _login(olga, "olga")
        yield {"cat": cat, "olga": olga}


def _encoded(value: str) -> str:
    from urllib.parse import quote

    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize(("path", "who", "keys"), PAGES, ids=[f"{p} as {w}" for p, w, _ in PAGES])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_any_query_string_gives_the_page_or_a_400_saying_what_to_fix_never_a_5xx(clients, path, who, keys, data):
    """Mutations tried: compliance.list_page showing params unredacted (no _typed) -> the card number is in the 400
    page, this fails; the dashboard's CSV link carrying the query as sent -> the input outside the form, fails."""
    params = data.draw(st.dictionaries(st.sampled_from(keys), VALUE, min_size=1, max_size=4))
    query = "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in params.items())
    answer = clients[who].get(f"{path}?{query}", follow_redirects=False)
    assert answer.status_code in (200, 400), (answer.status_code, params, answer.text[:300])
    body = answer.text
    if answer.status_code == 400 or not path.endswith(".csv"):
        for leak in LEAKS:
            assert leak not in body, (leak, params)
    if answer.status_code == 400:
        assert 'role="alert"' in body or 'id="back"' in body, "a 400 that does not say why"
        assert MARKER not in re.sub(r'value="[^"]*"', 'value=""', body), "the input echoed outside the form"


@pytest.mark.parametrize(("params", "said"), [
    ({"intent": "dispute\x00"}, "Intent holds a character that cannot be searched for"),
    ({"account_ref": "SET-1\x00"}, "Account holds a character that cannot be searched for"),
    ({"agent": "ana\x00"}, "Agent holds a character that cannot be searched for"),
    ({"phone": "555\x00"}, "Phone holds a character that cannot be searched for"),
    ({"page": "9" * 5000}, None),
])
def test_the_inputs_a_database_or_python_would_choke_on_are_answered(clients, params, said):
    """The fuzz above draws these only by chance: a NUL that PostgreSQL refuses (a 500 there) and a page number
    too long for int(). Mutations tried: read_filters without the control-character check -> 500 on PostgreSQL;
    read_page calling int() on the whole value -> 500 (ValueError: exceeds the limit for integer conversion)."""
    answer = clients["cat"].get("/compliance", params=params)
    if said is None:
        assert answer.status_code == 200
    else:
        assert answer.status_code == 400 and said in answer.text


def test_an_unknown_segment_is_a_400_that_still_lists_the_segments_to_pick_from(clients):
    """/ops?segment=nonsense answered 200 and repeated the name; its CSV answered an empty file.
    Mutation tried: home() rendering with status 200 -> fails; segments_csv without the by_name check -> a 200
    empty CSV, fails."""
    olga = clients["olga"]
    page = olga.get("/ops", params={"segment": f"nonsense{MARKER}"})
    assert page.status_code == 400
    assert "There is no segment by that name in segments.yml: pick one from the list below." in page.text
    assert MARKER not in page.text and 'href="/ops?segment=' in page.text
    csv = olga.get("/ops/segments.csv", params={"segment": "nonsense"})
    assert csv.status_code == 400 and "There is no segment by that name" in csv.text


def test_a_dashboard_date_that_is_not_a_date_is_kept_as_typed_in_a_text_field(clients):
    """A browser's date field blanks a value that is not a date, so the 400 shows the two as text, as typed (a card
    number masked). Mutation tried: ops_dashboard.html always type="date" -> fails."""
    page = clients["olga"].get("/ops/dashboard", params={"from": "1/12/2026", "to": f"{CARD}"})
    assert page.status_code == 400 and "Dates are YYYY-MM-DD." in page.text
    assert 'type="text" name="from" value="1/12/2026"' in page.text
    assert 'type="text" name="to" value="[REDACTED]"' in page.text


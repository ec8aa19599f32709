"""ID-2, REC-2: a debtor's answers to the identity questions are kept as what they are ("[date of birth]"), never
their values: not in any column of the app database, not in Rasa's tracker store, not in a log, not in an export.

The spec for bot/records/identity_answers.py, through the real stack (gateway, Rasa, action server)."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from pathlib import Path

from sqlalchemy import select

from bot.db.models import Conversation, Debtor, Message, User
from bot.records import data_requests, export
from bot.records.reading import UNREDACTED, Reading
from tests.conftest import add_debtor
from tests.integration.chat import Chat, letters
from tests.integration.conftest import PUBLIC
from tests.twilio_standin import ACCOUNT_SID, FROM_NUMBER, message_sid, sign

# The ledger's own record of the person (what answers are checked against) holds their details by design.
LEDGER_TABLES = frozenset({"debtors", "accounts"})


def _unused(stack, digits: int) -> str:
    """A number of `digits` digits that appears nowhere in the stack's database or logs yet, so that finding it
    after the conversation can only mean an answer was kept."""
    while True:
        value = f"{secrets.randbelow(10 ** digits):0{digits}d}"
        if value[0] != "0" and not _found_anywhere(stack, [value]):
            return value


def _pattern(values: list[str]) -> re.Pattern[str]:
    # Not inside a longer number, nor a float's fraction (a tracker event's timestamp).
    return re.compile("|".join(rf"(?<![\d.]){re.escape(v)}(?!\d)" for v in values))


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _database_hits(path: Path, values: list[str], skip: frozenset[str] = frozenset(),
                   sender: str | None = None) -> list[str]:
    pattern = _pattern(values)
    found = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            if table in skip:
                continue
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                record = dict(zip(columns, row, strict=True))
                if sender is not None and record.get("sender_id") not in (None, sender):
                    continue
                for column, value in record.items():
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str) and pattern.search(value):
                        found.append(f"{table}.{column}: {pattern.search(value).group()}")
    return sorted(set(found))


def _log_hits(log_dir: Path, values: list[str]) -> list[str]:
    pattern = _pattern(values)
    return [f"{path.name}:{n}" for path in sorted(log_dir.glob("*.log*"))
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if pattern.search(line)]


def _found_anywhere(stack, values: list[str]) -> list[str]:
    return (_database_hits(_sqlite_path(stack.config.database_url), values, skip=LEDGER_TABLES)
            + _database_hits(_sqlite_path(stack.config.tracker_store_url), values)
            + _log_hits(stack.config.log_dir, values))


def test_ID_2_REC_2_identity_answers_are_kept_as_what_they_are_never_their_values(running_stack) -> None:
    """A debtor answers the identity questions (a wrong SSN last four first, then the right answers with a ZIP)
    and is verified; afterwards no answer's value is anywhere: the app database's every text column (messages,
    the hash-chained transcript, audit details...), Rasa's tracker store (user events, parse data, the form's
    slot values), the processes' logs, the compliance export read unredacted, or the data-request export. A
    reviewer with the unredacted permission reads "[date of birth]", "[SSN last four]", "[ZIP code]",
    "[account number]" where the answers were.

    Mutations tried: `identity_answer = None` instead of identity_answers.stored_form in the pipeline's _receive
    -> the messages (and the transcript) hold the values and this fails; skipping Pipeline._mask_in_rasa -> the
    tracker store keeps the typed answers and the slot values and this fails; dropping the slot masking in
    rasa_extensions/event_redaction.mask_identity_answer -> the tracker keeps the form's slot values and this
    fails."""
    chat = Chat(running_stack, prefix="idmask")
    year, month, day = 1950 + secrets.randbelow(40), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28)
    last4, wrong_last4, zip_code = _unused(running_stack, 4), _unused(running_stack, 4), _unused(running_stack, 5)
    reference = f"RT-{_unused(running_stack, 8)}"
    typed_dob = f"{month:02d}/{day:02d}/{year}"
    values = [typed_dob, f"{year}-{month:02d}-{day:02d}", f"{month:02d}{day:02d}{year}", last4, wrong_last4,
              zip_code, reference, reference.split("-")[1]]
    with chat.session() as session:
        add_debtor(session, account_ref=reference, first_name="Robin", last_name=f"Test{letters()}",
                   dob=f"{year}-{month:02d}-{day:02d}", ssn_last4=last4, zip_code=zip_code, phone=None,
                   creditor="Northwind Credit Union", balance_cents=240000)

    chat.say("what do i owe")
    for answer in (typed_dob, wrong_last4, reference):  # a failed check: its answers are kept no more than these
        chat.say(answer)
    for answer in (typed_dob, zip_code):
        chat.say(answer)
    answered = " ".join(chat.say(reference))
    assert "$2,400.00" in answered, chat.replies  # verification still works, and the balance follows (ID-1)

    with chat.session() as session:
        conversation = chat.conversation(session)
        conversation_id = conversation.id
        stored = [m.text for m in session.scalars(select(Message).where(
            Message.conversation_id == conversation.id, Message.direction == "in").order_by(Message.id))]
        reviewer = User(username=f"rev{letters()}", display_name="R", role="compliance", password_hash="x",
                        active=True, can_view_unredacted=True)
        session.add(reviewer)
        session.flush()
        exported = export.as_json(session, reviewer, [conversation.id], unredacted=True)
        debtor_id = conversation.debtor_id
        record = export.conversation_record(session, conversation.id, Reading(UNREDACTED))
        session.rollback()
    assert stored == ["what do i owe", "[date of birth]", "[SSN last four]", "[account number]",
                      "[date of birth]", "[ZIP code]", "[account number]"]
    shown = [i["text"] for i in record["items"] if i["type"] == "message" and i["sender_role"] == "debtor"]
    assert shown[1:3] == ["[date of birth]", "[SSN last four]"]

    with chat.session() as session:
        document = data_requests.export(session, session.get(Debtor, debtor_id)).document
        session.rollback()
    conversations_exported = json.dumps(document["conversations"])

    assert not _pattern(values).search(exported), "compliance export (unredacted)"
    assert not _pattern(values).search(conversations_exported), "data-request export"
    app_database = _sqlite_path(running_stack.config.database_url)
    on_notices = [zip_code, reference, reference.split("-")[1]]
    assert _database_hits(app_database, [v for v in values if v not in on_notices], skip=LEDGER_TABLES) == []
    # The validation notice (DISC-5) is queued by post to the address on file and names the account: the ledger's
    # copies of the ZIP and the reference, not the debtor's answers.
    assert _database_hits(app_database, on_notices, skip=LEDGER_TABLES | {"scheduled_messages"}) == []
    assert _database_hits(_sqlite_path(running_stack.config.tracker_store_url), values,
                          sender=conversation_id) == []
    assert _log_hits(running_stack.config.log_dir, values) == []


def _debtor_born_on_a_new_date(stack, chat: Chat) -> list[str]:
    """A debtor of the test's own with a random date of birth: the date as typed and as Rasa may hold it."""
    year, month, day = 1950 + secrets.randbelow(40), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28)
    with chat.session() as session:
        add_debtor(session, account_ref=f"RT-{_unused(stack, 8)}", first_name="Robin",
                   last_name=f"Test{letters()}", dob=f"{year}-{month:02d}-{day:02d}", ssn_last4="5678",
                   phone=None, creditor="Northwind Credit Union", balance_cents=240000)
    return [f"{month:02d}/{day:02d}/{year}", f"{year}-{month:02d}-{day:02d}", f"{month:02d}{day:02d}{year}"]


def test_ID_2_a_form_ended_before_its_check_leaves_no_answer_in_rasa(running_stack) -> None:
    """The date of birth answered, then "can I talk to a person?" ends the identity form before its check: no check
    will ever read the answer, so Rasa's tracker store keeps no value of it, not even as the slot's current value
    (bot/records/identity_answers.check_pending -> event_redaction `keep_current`). Before, the form's current slot
    values stayed in the tracker store whenever a form ended without its check. Mutation tried: check_pending
    always true -> the parsed date stays in the tracker store and this fails."""
    chat = Chat(running_stack, prefix="idleft")
    values = _debtor_born_on_a_new_date(running_stack, chat)
    typed_dob = values[0]
    chat.say("what do i owe")
    asked = " ".join(chat.say(typed_dob))
    assert "Social Security" in asked, asked  # the form took the date and asks for the next factor
    left = " ".join(chat.say("can I talk to a person?"))
    assert "Social Security" not in left, left
    with chat.session() as session:
        conversation_id = chat.conversation(session).id
    assert _database_hits(_sqlite_path(running_stack.config.tracker_store_url), values,
                          sender=conversation_id) == []


def test_ID_2_an_answer_left_waiting_past_the_idle_time_is_masked_in_rasa(running_stack) -> None:
    """The date of birth answered and the next question never: the form's current slot value waited in Rasa's
    tracker store for a check that would never run (the next message after the idle time starts over, ID-1). The
    gateway's sweep (Pipeline.forget_abandoned_answers, every FORGET_SWEEP_SECONDS) masks it once the question has
    waited past the idle time, and says so in the audit trail; before that the value is kept, since the check may
    still need it. Mutation tried: the sweep sending keep_current=True -> the parsed date stays (fails)."""
    import asyncio
    from datetime import datetime, timedelta, timezone

    from bot.config import Settings
    from bot.db import get_engine
    from bot.db.models import AuditEvent, Conversation
    from bot.gateway.live import InProcessHub
    from bot.gateway.pipeline import Pipeline
    from bot.gateway.rasa_client import RasaClient

    chat = Chat(running_stack, prefix="idwait")
    values = _debtor_born_on_a_new_date(running_stack, chat)
    chat.say("what do i owe")
    assert "Social Security" in " ".join(chat.say(values[0]))
    with chat.session() as session:
        conversation_id = chat.conversation(session).id
    tracker_store = _sqlite_path(running_stack.config.tracker_store_url)
    assert _database_hits(tracker_store, values, sender=conversation_id) != []  # kept while the check may need it

    settings = Settings(database_url=running_stack.config.database_url)
    engine = get_engine(running_stack.config.database_url)

    async def sweep(now: datetime) -> int:
        rasa = RasaClient(running_stack.config.rasa_url, token=running_stack.config.rasa_token)
        try:
            return await Pipeline(engine, rasa, settings, hub=InProcessHub()).forget_abandoned_answers(now)
        finally:
            await rasa.close()

    now = datetime.now(timezone.utc)
    asyncio.run(sweep(now))  # not idle yet: nothing is masked
    assert _database_hits(tracker_store, values, sender=conversation_id) != []
    asyncio.run(sweep(now + timedelta(minutes=settings.session_idle_minutes + 1)))
    assert _database_hits(tracker_store, values, sender=conversation_id) == []
    with chat.session() as session:
        assert session.get(Conversation, conversation_id).awaiting_identity is None
        kinds = list(session.scalars(select(AuditEvent.rule_id).where(
            AuditEvent.conversation_id == conversation_id, AuditEvent.kind == "identity_answers_forgotten")))
    assert kinds == ["ID-2"]


def test_ID_2_a_bare_date_typed_out_of_turn_is_stored_as_its_label_and_still_checked(running_stack) -> None:
    """The exploratory tester's out-of-turn path on the widget: details volunteered, "talk to a person" ends the
    form, then a bare date. No question waited, yet the NLU read the date as identity details and the form started
    with it ("Let me confirm who you are", then the SSN question): an answer, stored as "[date of birth]" from the
    first (nothing in the app database), while the check still got the typed date (it asks the next factor).
    Mutation tried: the pipeline passing `unverified=False` to stored_form -> the date is stored as typed: fails."""
    chat = Chat(running_stack, prefix="idout")
    values = _debtor_born_on_a_new_date(running_stack, chat)
    typed_dob = values[0]
    for text in ("hi", f"my birthday is {typed_dob} and my last four are 5678", "talk to a person"):
        chat.say(text)
    asked = " ".join(chat.say(typed_dob))
    assert "Social Security" in asked, chat.replies  # the form took the typed date
    with chat.session() as session:
        conversation = chat.conversation(session)
        stored = [m.text for m in session.scalars(select(Message).where(
            Message.conversation_id == conversation.id, Message.direction == "in").order_by(Message.id))]
    assert stored[-1] == "[date of birth]", stored
    assert _database_hits(_sqlite_path(running_stack.config.database_url), values, skip=LEDGER_TABLES) == []


def test_ID_2_details_typed_after_a_wrong_person_mark_are_stored_as_labels(running_stack) -> None:
    """ID-4: "wrong number" marks the conversation; no check runs after it, but a date and a last four typed then
    are still someone's details: stored as their labels, and Rasa's copy holds no value (no check will read it).
    Mutation tried: the pipeline passing `unverified=False` to stored_form -> both stored as typed: fails."""
    chat = Chat(running_stack, prefix="idwrong")
    values = _debtor_born_on_a_new_date(running_stack, chat)
    last4 = _unused(running_stack, 4)
    chat.say("what do i owe")
    chat.say("this is the wrong number, I am not that person")
    for text in (values[0], last4):
        chat.say(text)
    with chat.session() as session:
        conversation = chat.conversation(session)
        conversation_id = conversation.id
        stored = [m.text for m in session.scalars(select(Message).where(
            Message.conversation_id == conversation.id, Message.direction == "in").order_by(Message.id))]
    assert stored[-2:] == ["[date of birth]", "[SSN last four]"], stored
    assert _database_hits(_sqlite_path(running_stack.config.database_url), values + [last4],
                          skip=LEDGER_TABLES) == []
    assert _database_hits(_sqlite_path(running_stack.config.tracker_store_url), values + [last4],
                          sender=conversation_id) == []


def test_ID_2_answers_texted_at_once_and_folded_are_stored_as_labels(running_stack, sms_gateway) -> None:
    """The demo phone's path: "what do I owe", the date of birth and the last four texted at the same moment
    (signed Twilio webhooks). The answers arrive while the first text's turn runs, before any question is known
    to wait, and are folded into one turn; they are stored as their labels all the same, so no value reaches the
    app database or the transcript, whatever order the three arrive in.
    Mutation tried: the pipeline passing `unverified=False` to stored_form -> the date and the last four are
    stored as typed: fails."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.gateway.sms_channel import WEBHOOK_PATH

    client, _ = sms_gateway
    number = "+1555" + "".join(str(ord(c) % 10) for c in letters(7))
    year, month, day = 1950 + secrets.randbelow(40), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28)
    last4 = _unused(running_stack, 4)
    typed_dob = f"{month:02d}/{day:02d}/{year}"
    values = [typed_dob, f"{year}-{month:02d}-{day:02d}", f"{month:02d}{day:02d}{year}", last4]
    chat = Chat(running_stack)
    with chat.session() as session:
        add_debtor(session, account_ref=f"RT-{_unused(running_stack, 8)}", first_name="Robin",
                   last_name=f"Test{letters()}", dob=f"{year}-{month:02d}-{day:02d}", ssn_last4=last4,
                   phone=number, creditor="Northwind Credit Union", balance_cents=240000)

    def text(body: str) -> int:
        fields = {"MessageSid": message_sid(), "AccountSid": ACCOUNT_SID, "From": number, "To": FROM_NUMBER,
                  "Body": body, "NumMedia": "0"}
        return client.post(WEBHOOK_PATH, data=fields, headers={
            "X-Twilio-Signature": sign(PUBLIC + WEBHOOK_PATH, fields)}).status_code

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(text, ["what do I owe", typed_dob, last4])) == [200] * 3
    with chat.session() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.external_id == number)).one()
        stored = sorted(m.text for m in session.scalars(select(Message).where(
            Message.conversation_id == conversation.id, Message.direction == "in")))
    assert stored == ["[SSN last four]", "[date of birth]", "what do I owe"], stored
    assert _database_hits(_sqlite_path(running_stack.config.database_url), values, skip=LEDGER_TABLES) == []

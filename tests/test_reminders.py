"""bot/reminders.py and `python -m bot send-reminders`: who gets a bot-initiated text, what it says, and why
everyone else is skipped. Every text passes the outbound gate; the database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot import contact_preferences, local_dates, reminders, sms, wording
from bot.__main__ import main
from bot.cli.send_reminders import parse_now
from bot.compliance import neutral, tone
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import (
    Account,
    AuditEvent,
    ContactPreference,
    Conversation,
    Debtor,
    Dispute,
    Installment,
    Message,
    Plan,
    ScheduledMessage,
)
from bot.messaging.queue import local_transport
from tests.conftest import add_debtor
from tests.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

# Tuesday 2026-03-03 in Los Angeles (PST, UTC-8; DST starts March 8).
NOON = datetime(2026, 3, 3, 20, 0, tzinfo=timezone.utc)
AT_20_59 = datetime(2026, 3, 4, 4, 59, tzinfo=timezone.utc)
AT_21_01 = datetime(2026, 3, 4, 5, 1, tzinfo=timezone.utc)
NEXT_8AM = datetime(2026, 3, 4, 16, 0, tzinfo=timezone.utc)
DUE_THURSDAY = date(2026, 3, 5)


_refs = iter(range(100001, 199999))
_phones = iter(range(1000, 9999))


def _debtor(session, *, phone: str | None = "auto", texted: bool = True, zone: str = "America/Los_Angeles",
            zip_code: str = "90210", creditor: str = "Acme Bank", **kwargs):
    phone = f"+1555555{next(_phones):04d}" if phone == "auto" else phone
    debtor, account = add_debtor(session, account_ref=f"SET-{next(_refs)}", phone=phone, zip_code=zip_code,
                                 creditor=creditor, **kwargs)
    debtor.timezone = zone
    if phone and texted:  # ID-5: the consumer texted from this number within 60 days
        session.add(ContactPreference(channel="sms", address=phone, last_inbound_at=NOON - timedelta(days=3)))
    session.flush()
    return debtor, account


def _plan(session, account, *, due=(DUE_THURSDAY,), status="active", installment_status="scheduled") -> Plan:
    plan = Plan(reference=f"P{next(_refs)}", account_id=account.id, kind="plan", frequency="monthly",
                balance_cents=5000 * len(due), total_cents=5000 * len(due), fee_cents=0, installment_count=len(due),
                terms_text="terms", status=status, consented_at=NOON - timedelta(days=30), consent_text="yes")
    session.add(plan)
    session.flush()
    for number, day in enumerate(due, start=1):
        session.add(Installment(plan_id=plan.id, number=number, due_date=day, amount_cents=5000,
                                status=installment_status))
    session.flush()
    return plan


def _run(engine, db_url, now, **kwargs) -> reminders.Report:
    settings = Settings(database_url=db_url)
    lines: list[str] = []
    return reminders.run(engine, settings, local_transport(engine), now=now, out=lines.append, **kwargs)


def _scheduled(engine) -> list[ScheduledMessage]:
    with session_scope(engine) as session:
        return list(session.scalars(select(ScheduledMessage).order_by(ScheduledMessage.created_at)))


def _line(report: reminders.Report, account_ref: str) -> str:
    found = [line for line in report.lines if account_ref in line]
    assert found, f"{account_ref} not in the report:\n" + "\n".join(report.lines)
    return found[0]


# --- installment reminders ------------------------------------------------------------------------------------


def test_DISC_1_OPT_1_an_installment_due_in_2_days_gets_one_reminder_with_the_disclosures(engine, db_url):
    with session_scope(engine) as session:
        _, account = _debtor(session)
        plan = _plan(session, account)
    report = _run(engine, db_url, NOON)
    (message,) = _scheduled(engine)
    assert (message.kind, message.status, report.summary.sent) == ("installment_reminder", "sent", 1)
    # Never had DISC-1 (no verified conversation): the reminder starts with the full disclosure.
    assert message.text.startswith(DEBT_COLLECTOR_DISCLOSURE)
    assert "$50.00" in message.text and "Thursday, March 5, 2026" in message.text and plan.reference in message.text
    assert tone.has_opt_out_line(message.text)
    with session_scope(engine) as session:
        texted = session.scalars(select(Message).where(Message.direction == "out")).one()
    assert texted.text == message.text  # recorded in the number's thread (the demo phone shows it)


def test_DISC_2_a_debtor_who_already_had_the_disclosure_gets_the_short_notice(engine, db_url):
    with session_scope(engine) as session:
        debtor, account = _debtor(session)
        _plan(session, account)
        session.add(Conversation(channel="rest", external_id="web-1", debtor_id=debtor.id,
                                 disclosure_given_at=NOON - timedelta(days=20)))
    _run(engine, db_url, NOON)
    (message,) = _scheduled(engine)
    assert message.text.startswith(tone.DEBT_COLLECTOR_NOTICE) and DEBT_COLLECTOR_DISCLOSURE not in message.text


def test_a_rerun_queues_nothing_twice(engine, db_url):
    with session_scope(engine) as session:
        _, account = _debtor(session)
        _plan(session, account)
    _run(engine, db_url, NOON)
    again = _run(engine, db_url, NOON + timedelta(hours=1))
    assert len(_scheduled(engine)) == 1
    assert [o.action for o in again.outcomes] == ["skipped"]
    assert again.outcomes[0].detail.startswith("already sent on Tue Mar 03 12:00 America/Los_Angeles")


def test_a_missed_installment_gets_a_missed_payment_note(engine, db_url):
    with session_scope(engine) as session:
        _, account = _debtor(session)
        _plan(session, account, due=(date(2026, 2, 27), date(2026, 3, 27)))
    _run(engine, db_url, NOON)
    (message,) = _scheduled(engine)
    assert message.kind == "missed_payment" and "haven't received payment 1 of 2" in message.text
    assert "Friday, February 27, 2026" in message.text and not tone.lint(message.text)  # TONE-1: no pressure


def test_nothing_is_sent_for_an_installment_further_out(engine, db_url):
    with session_scope(engine) as session:
        _, account = _debtor(session)
        _plan(session, account, due=(date(2026, 3, 10),))
    report = _run(engine, db_url, NOON)
    assert report.outcomes == [] and _scheduled(engine) == []


@pytest.mark.parametrize(("now", "sent"), [(AT_20_59, True), (AT_21_01, False)], ids=["20:59", "21:01"])
def test_TIME_1_a_reminder_at_20_59_local_goes_and_at_21_01_waits_for_08_00(engine, db_url, now, sent):
    with session_scope(engine) as session:
        _, account = _debtor(session)
        _plan(session, account)
    report = _run(engine, db_url, now)
    (message,) = _scheduled(engine)
    if sent:
        assert message.status == "sent" and report.summary.sent == 1
    else:
        assert (message.status, message.rule_ids, message.not_before) == ("pending", ["TIME-1"], NEXT_8AM)
        assert "deferred to Wed Mar 04 08:00 America/Los_Angeles (TIME-1" in report.lines[-2]
        assert _run(engine, db_url, NEXT_8AM).summary.sent == 1


def test_a_deferred_reminder_is_cancelled_once_the_installment_is_paid(engine, db_url):
    with session_scope(engine) as session:
        _, account = _debtor(session)
        plan = _plan(session, account)
    _run(engine, db_url, AT_21_01)  # deferred to 08:00
    with session_scope(engine) as session:
        session.scalars(select(Installment).where(Installment.plan_id == plan.id)).one().status = "paid"
    report = _run(engine, db_url, NEXT_8AM)
    (message,) = _scheduled(engine)
    assert message.status == "cancelled" and report.cancelled == 1 and report.summary.sent == 0


def test_twilio_down_leaves_the_reminder_queued_for_the_next_run(engine, db_url):
    with session_scope(engine) as session:
        _, account = _debtor(session)
        _plan(session, account)
    with TwilioStandIn() as twilio:
        settings = Settings(database_url=db_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                            twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url, sms_retry_backoff_seconds=0)
        transport = sms.sms_transport(engine, settings)
        twilio.fail_next(3)
        report = reminders.run(engine, settings, transport, now=NOON, out=lambda line: None)
        assert report.stopped and _scheduled(engine)[0].status == "pending"
        report = reminders.run(engine, settings, transport, now=NOON, out=lambda line: None)
        assert report.summary.sent == 1 and len(twilio.messages) == 1
        assert twilio.messages[0]["body"] == _scheduled(engine)[0].text


# --- the dry run ------------------------------------------------------------------------------------------------


def _count(engine, model) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_dry_run_explains_every_skip_and_writes_nothing(engine, db_url):
    with session_scope(engine) as session:
        refs = {}
        _, a = _debtor(session)
        _plan(session, a)
        refs["fine"] = a.account_ref
        _, a = _debtor(session, phone=None)
        _plan(session, a)
        refs["no phone"] = a.account_ref
        d, a = _debtor(session)
        _plan(session, a)
        contact_preferences.opt_out(session, "sms", d.phone, via="keyword:STOP")
        refs["opted out"] = a.account_ref
        d, a = _debtor(session)
        _plan(session, a)
        contact_preferences.mark_wrong_party(session, "sms", d.phone)
        refs["wrong party"] = a.account_ref
        _, a = _debtor(session, texted=False)
        _plan(session, a)
        refs["ID-5"] = a.account_ref
        _, a = _debtor(session, zone="America/New_York", zip_code="10001")
        _plan(session, a)
        refs["quiet hours"] = a.account_ref
        d, a = _debtor(session)
        _plan(session, a)
        for days in (1, 3, 5):
            session.add(ScheduledMessage(account_id=a.id, channel="sms", address=d.phone, kind="reminder",
                                         text="earlier", not_before=NOON, status="sent",
                                         sent_at=AT_20_59 - timedelta(days=days)))
        refs["frequency"] = a.account_ref
        _, a = _debtor(session)
        _plan(session, a)
        session.add(Dispute(account_id=a.id, kind="all", disputed_cents=a.balance_cents, status="open"))
        refs["dispute"] = a.account_ref
        _, a = _debtor(session)
        _plan(session, a)
        a.status = "ceased"
        refs["cease"] = a.account_ref
        _, a = _debtor(session)
        _plan(session, a, status="cancelled")
        refs["plan"] = a.account_ref
        _, a = _debtor(session)
        _plan(session, a, due=(date(2026, 2, 20), DUE_THURSDAY))
        refs["two texts"] = a.account_ref
    tables = (ScheduledMessage, AuditEvent, Message, ContactPreference, Conversation, Installment, Plan)
    before = {t.__name__: _count(engine, t) for t in tables}

    report = _run(engine, db_url, AT_20_59, dry_run=True)  # 20:59 in Los Angeles, 23:59 in New York

    assert {t.__name__: _count(engine, t) for t in tables} == before  # nothing written
    text = "\n".join(report.lines)
    assert _line(report, refs["fine"]).endswith("would send now")
    assert "skip: no phone number on file" in _line(report, refs["no phone"])
    assert "would block (OPT-3: address opted out)" in _line(report, refs["opted out"])
    assert "would block (ID-4: address reached the wrong person)" in _line(report, refs["wrong party"])
    assert "would block (ID-5: no text from this number" in _line(report, refs["ID-5"])
    assert ("would defer to Wed Mar 04 08:00 America/New_York (quiet hours (TIME-1): it is Tue Mar 03 23:59 "
            "America/New_York)") in _line(report, refs["quiet hours"])
    # FREQ-1: 3 texts in 7 days; the oldest (5 days ago, 20:59) ages out on Thursday at 20:59, still in the window.
    assert ("would defer to Thu Mar 05 20:59 America/Los_Angeles (FREQ-1: 3 or more bot-initiated texts in the "
            "last 7 days") in _line(report, refs["frequency"])
    assert "would block (DSP-2: account on hold (DSP-2)" in _line(report, refs["dispute"])
    assert "would block (CEASE-1: account on hold (CEASE-1)" in _line(report, refs["cease"])
    assert re.search(r"skip: plan P\d+ is cancelled, not active", _line(report, refs["plan"]))
    # Two texts for one debtor in one run: FREQ-1 (1 a day) holds the second one, and the dry run says so.
    two = [line for line in report.lines if refs["two texts"] in line]
    assert "missed_payment" in two[0] and two[0].endswith("would send now")
    assert "installment_reminder" in two[1] and "would defer to Wed Mar 04 00:00" not in two[1]
    assert "FREQ-1" in two[1]
    assert text.startswith("Dry run: installment reminders at 2026-03-04 04:59 UTC")


# --- the first-contact campaign ---------------------------------------------------------------------------------


def test_DISC_3_the_first_contact_template_says_nothing_about_a_debt():
    text = reminders.render(reminders.FIRST_CONTACT, Settings())
    assert not re.search(r"debt|owe|balance|\$|acme|bank|jordan|account|collect|payment", text, re.IGNORECASE)
    assert "Settle Services" in text and "automated" in text and "reply" in text.lower()  # DISC-4, a next step
    assert not tone.lint(text) and tone.has_opt_out_line(tone.with_opt_out_line(text))


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", sorted(reminders.TEMPLATES))
def test_TONE_1_OPT_2_no_template_carries_a_banned_claim(kind, language):
    text = reminders.render(kind, Settings(), language, number="2", count="6", reference="K7M2QX",
                            amount="$50.00", due="Thursday, March 5, 2026")
    assert tone.lint(text) == [] and "{" not in text


@pytest.mark.parametrize(("now", "sent"), [(AT_20_59, True), (AT_21_01, False)], ids=["20:59", "21:01"])
def test_TIME_1_DISC_3_a_campaign_at_20_59_local_goes_and_at_21_01_waits_for_08_00(engine, db_url, now, sent):
    with session_scope(engine) as session:
        debtor, _ = _debtor(session, texted=False)
        session.add(ContactPreference(channel="sms", address=debtor.phone, consent_at=NOON - timedelta(days=90)))
    report = _run(engine, db_url, now, campaign="first-contact", segment="all")
    (message,) = _scheduled(engine)
    assert message.kind == "first_contact"
    if sent:
        assert message.status == "sent" and report.summary.sent == 1
        assert "debt" not in message.text.lower() and tone.has_opt_out_line(message.text)  # DISC-3, OPT-1
    else:
        assert (message.status, message.rule_ids, message.not_before) == ("pending", ["TIME-1"], NEXT_8AM)


def test_the_campaign_segment_and_its_skips(engine, db_url):
    with session_scope(engine) as session:
        _, fine = _debtor(session, creditor="Acme Bank")
        _, other = _debtor(session, creditor="Northwind Credit Union")
        shared, first = _debtor(session, creditor="Acme Bank")
        _, second = _debtor(session, creditor="Acme Bank", phone=shared.phone, texted=False)
        _, no_phone = _debtor(session, creditor="Acme Bank", phone=None)
        _, ceased = _debtor(session, creditor="Acme Bank")
        ceased.status = "ceased"
        talked, talking = _debtor(session, creditor="Acme Bank")
        session.add(Conversation(channel="rest", external_id="web-2", debtor_id=talked.id))
    report = _run(engine, db_url, NOON, campaign="first-contact", segment="creditor=Acme Bank", dry_run=True)
    assert other.account_ref not in "\n".join(report.lines)
    assert f"same phone number as {first.account_ref}" in _line(report, second.account_ref)
    assert "no phone number on file" in _line(report, no_phone.account_ref)
    assert "account on hold (CEASE-1, status ceased)" in _line(report, ceased.account_ref)
    assert "already in touch" in _line(report, talking.account_ref)
    assert "would send now" in _line(report, fine.account_ref)


def test_segments_are_all_or_a_creditor():
    assert reminders.parse_segment("all") is None
    assert reminders.parse_segment("creditor=Acme Bank") == "Acme Bank"
    with pytest.raises(ValueError):
        reminders.parse_segment("zip=90210")


# --- the command line -------------------------------------------------------------------------------------------


def test_the_command_dry_run_prints_and_writes_nothing(sqlite_engine, sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(key, raising=False)
    with session_scope(sqlite_engine) as session:
        _, account = _debtor(session)
        _plan(session, account)
    assert main(["send-reminders", "--dry-run", "--now", "2026-03-03T12:00:00-08:00"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: installment reminders at 2026-03-03 20:00 UTC" in out and "would send now" in out
    assert _count(sqlite_engine, ScheduledMessage) == 0
    assert main(["send-reminders", "--now", "2026-03-03T12:00:00-08:00"]) == 0
    assert "Sent 1, deferred 0, blocked 0." in capsys.readouterr().out


def test_the_command_refuses_a_time_without_a_zone_and_a_stray_segment(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)  # a refused run is still a recorded run: never the project's var/
    with pytest.raises(SystemExit):
        main(["send-reminders", "--now", "2026-03-03T12:00:00"])
    assert "give a time zone offset" in capsys.readouterr().err
    assert main(["send-reminders", "--segment", "creditor=Acme Bank"]) == 2
    assert main(["send-reminders", "--loop", "60", "--dry-run"]) == 2
    assert parse_now("2026-03-04T04:59:00Z") == AT_20_59


def test_debtor_today_is_their_own_calendar_day():
    debtor = Debtor(timezone="America/Los_Angeles")
    assert local_dates.debtor_today(debtor, AT_20_59) == date(2026, 3, 3)  # already the 4th in UTC
    assert Account  # imported for the models used above


def test_the_loop_runs_until_interrupted(sqlite_url, monkeypatch, capsys):
    """The scheduler on its own: `send-reminders --loop SECONDS` runs, sleeps, runs again; Ctrl-C ends it."""
    import bot.cli.send_reminders as command

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(command.time, "sleep", sleep)
    assert main(["send-reminders", "--loop", "30"]) == 0
    out = capsys.readouterr().out
    assert naps == [30.0, 30.0] and out.count("installment reminders at") == 2 and out.rstrip().endswith("stopped")


def test_a_plan_on_autopay_gets_no_reminder_from_here(engine, db_url):
    """bot/payments/autopay.py sends the PLAN-3 debit notice, declines and missed texts for autopay plans."""
    from bot.db.models import AutopayAuthorisation, Payment

    with session_scope(engine) as session:
        _, account = _debtor(session)
        plan = _plan(session, account, due=(date(2026, 2, 27), DUE_THURSDAY))
        payment = Payment(reference="PAY-1", account_id=account.id, plan_id=plan.id, method="checkout",
                          amount_cents=5000, status="succeeded")
        session.add(payment)
        session.flush()
        session.add(AutopayAuthorisation(plan_id=plan.id, account_id=account.id, source_payment_id=payment.id,
                                         stripe_customer_id="cus_1", stripe_payment_method_id="pm_1",
                                         authorisation_text="I agree", authorised_at=NOON - timedelta(days=30)))
    report = _run(engine, db_url, NOON)
    assert _scheduled(engine) == []
    assert [o.detail for o in report.outcomes] == [
        "autopay is on: the payment texts come from charge-installments (PLAN-3 notice, decline, missed)"]


# --- the debtor's language (issue 23) -------------------------------------------------------------------------


def test_DISC_1_OPT_1_a_spanish_speaking_debtor_gets_the_reminder_and_its_lines_in_spanish(engine, db_url):
    """The language kept on the debtor decides the body, the date, the DISC-1 disclosure and the OPT-1 line.
    Mutation tried: render() given None instead of the debtor's language (the body came out in English and this
    failed); the gate's with_opt_out_line(text, speaks) without `speaks` (the English line; failed)."""
    with session_scope(engine) as session:
        debtor, account = _debtor(session)
        debtor.language = "es"
        plan = _plan(session, account)
        english_debtor, english_account = _debtor(session)
        _plan(session, english_account)
    _run(engine, db_url, NOON)
    spanish, english = (m for m in sorted(_scheduled(engine), key=lambda m: m.address != debtor.phone))
    assert spanish.text.startswith(wording.say("debt_collector_disclosure", "es"))
    assert f"El pago 1 de 1 de su plan {plan.reference}, de $50.00, vence el jueves, 5 de marzo de 2026." \
        in spanish.text
    assert spanish.text.endswith("Responda ALTO para no recibir más mensajes.")
    assert tone.has_opt_out_line(spanish.text, "es") and "STOP" not in spanish.text
    assert english.text.startswith(DEBT_COLLECTOR_DISCLOSURE) and "Thursday, March 5, 2026" in english.text
    assert tone.has_opt_out_line(english.text, "en")


def test_DISC_3_the_first_contact_text_is_neutral_and_in_the_language_of_the_address():
    for language in ("en", "es"):
        text = reminders.render(reminders.FIRST_CONTACT, Settings(), language)
        assert neutral.debt_content(text) == [] and not tone.lint(text), (language, text)
    assert "Queremos hablar con usted" in reminders.render(reminders.FIRST_CONTACT, Settings(), "es")

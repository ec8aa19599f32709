"""Words that say the opposite of the report the NLU read (CEASE-1..4, ID-4): bot/compliance/report_denials.py reads
them, sensitive_requests.denied_report answers them without a hold, and action_handle_sensitive goes on with the
identity check or ends the turn. The other side is proved too: every phrasing the model was trained on for these
reports (data/nlu, English and Spanish) is still a report, so a real cease, attorney, bankruptcy, death or wrong
party still takes effect. End to end: tests/integration/test_denied_reports.py."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import context
from actions.sensitive import ActionHandleSensitive
from bot import conversations, wording
from bot.compliance import report_denials, sensitive_requests
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, AuditEvent, ContactPreference, Handoff
from tests.conftest import add_debtor

NLU = Path(__file__).resolve().parents[1] / "data" / "nlu"
SUPPORT = "help@example.com"
REPORTS = ("cease_contact", "opt_out", "attorney_represented", "bankruptcy", "deceased", "wrong_person")


@functools.cache
def _training_examples(intent: str) -> list[str]:
    found: list[str] = []
    for path in sorted(NLU.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
            if item.get("intent") == intent:
                found += [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
    return found


# --- the words ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("intent", REPORTS)
def test_CEASE_1_4_ID_4_every_trained_report_is_still_a_report(intent):
    """The other side of every denial: none of the phrasings the model learnt each report from (data/nlu, both
    languages) is overruled, so a real report still takes effect.
    Mutation tried: `_OWN_DETAIL` given "name" among the details -> "that's not my name" overruled: fails; the
    deceased check made `return True` -> every death overruled: fails."""
    examples = _training_examples(intent)
    assert len(examples) > 20
    overruled = [text for text in examples if report_denials.denies(intent, text)]
    assert overruled == []


@pytest.mark.parametrize(("intent", "text"), [
    ("attorney_represented", "I don't have a lawyer"),
    ("attorney_represented", "no I don't have a lawyer, I was asking if YOU are lawyers"),
    ("attorney_represented", "is this a law firm?"),
    ("attorney_represented", "I never hired an attorney"),
    ("attorney_represented", "no tengo abogado"),
    ("attorney_represented", "¿son abogados?"),
    ("bankruptcy", "I never filed for bankruptcy"),
    ("bankruptcy", "I'm not bankrupt"),
    ("bankruptcy", "no me declaré en bancarrota"),
    ("cease_contact", "I don't want to stop contacting, keep texting me"),
    ("cease_contact", "please keep texting me"),
    ("cease_contact", "no quiero que dejen de escribirme"),
    ("opt_out", "please keep texting me"),
    ("wrong_person", "I don't know my SSN"),
    ("wrong_person", "idk"),
    ("wrong_person", "is that the wrong ssn or the wrong birthday?"),
    ("wrong_person", "you have my address wrong, I moved"),
    ("wrong_person", "no sé mi seguro social"),
    ("deceased", "this is his mother, he's not home"),
    ("deceased", "soy su mamá, no está en casa"),
])
def test_CEASE_1_4_ID_4_words_that_deny_the_report_overrule_it(intent, text):
    """The exploratory tester's messages (and their Spanish twins) deny what the NLU read in them.
    Mutation tried: `denies` returning False for every intent -> fails; opt_out left out of the cease denial ->
    "please keep texting me" read as an opt-out (OPT-2): fails."""
    assert report_denials.denies(intent, text)


@pytest.mark.parametrize(("intent", "text"), [
    ("attorney_represented", "I have a lawyer"),
    ("attorney_represented", "I don't have my lawyer's number but she represents me"),
    ("attorney_represented", "tengo un abogado"),
    ("bankruptcy", "I filed for bankruptcy"),
    ("bankruptcy", "me declaré en bancarrota"),
    ("cease_contact", "I don't want you to keep texting me"),
    ("cease_contact", "keep texting me, but stop calling me"),
    ("cease_contact", "dejen de escribirme"),
    ("cease_contact", "no quiero que me sigan escribiendo"),
    ("opt_out", "stop texting me"),
    ("wrong_person", "wrong number, I don't know my ssn or his"),
    ("wrong_person", "I don't know him"),
    ("deceased", "I'm the executor of his estate"),
    ("deceased", "mi esposo falleció"),
])
def test_CEASE_1_4_ID_4_a_report_beside_or_reversing_a_denial_stands(intent, text):
    """A denial with the report still made elsewhere in the message, or reversed ("I don't want you to keep texting
    me"), keeps the report: the stricter reading.
    Mutation tried: `_NO_MORE_CONTACT` removed from `denies` -> "I don't want you to keep texting me" overruled:
    fails; `_denied_with` not re-reading the rest -> "keep texting me, but stop calling me" overruled: fails."""
    assert not report_denials.denies(intent, text)


_NO_LAWYER = st.one_of(
    st.tuples(st.sampled_from(["I don't have", "I do not have", "I never had", "I never hired", "we dont have"]),
              st.sampled_from(["a lawyer", "an attorney", "any lawyer", "lawyers", "any attorneys"])),
    st.tuples(st.sampled_from(["no tengo", "no tenemos"]), st.sampled_from(["abogado", "un abogado", "abogada"])))
_NEVER_FILED = st.sampled_from(["I never filed for bankruptcy", "I didn't file bankruptcy", "I have not filed for "
                                "bankruptcy", "I'm not bankrupt", "never filed chapter 7"])
_CASE = st.sampled_from([str.lower, str.upper, str.title, lambda s: s])
_END = st.sampled_from(["", ".", "!", " lol", ", thanks", "?"])


@given(_NO_LAWYER, _CASE, _END)
def test_CEASE_2_a_plain_no_lawyer_never_triggers(words, case, end):
    """Hypothesis: "I don't have a lawyer" in any case, with any ending, is never an attorney report.
    Mutation tried: `(?:lawyer|attorney|abogad[oa])s?` narrowed to `lawyer` -> fails for "an attorney"."""
    negation, lawyer = words
    assert report_denials.denies("attorney_represented", case(f"{negation} {lawyer}{end}"))


@given(_NEVER_FILED, _CASE, _END)
def test_CEASE_3_never_filed_never_triggers(text, case, end):
    """Hypothesis: a plain "I never filed" is never a bankruptcy report.
    Mutation tried: `file|filed` dropped from _NO_BANKRUPTCY -> fails."""
    assert report_denials.denies("bankruptcy", case(text + end))


@given(st.sampled_from(_training_examples("attorney_represented") + _training_examples("bankruptcy")
                       + _training_examples("cease_contact")),
       st.sampled_from(["", "hi, ", "ok ", "sorry but "]), _CASE, _END)
def test_CEASE_1_2_3_a_clear_report_always_triggers(text, before, case, end):
    """Hypothesis: a trained report, with a greeting before it, in any case, is never overruled.
    Mutation tried: `_NO_LAWYER` given a bare `\\blawyer\\b` -> fails."""
    for intent in ("attorney_represented", "bankruptcy", "cease_contact"):
        if text in set(_training_examples(intent)):
            assert not report_denials.denies(intent, case(before + text + end))


@given(st.sampled_from(["whats my balance", "I don't know my SSN", "this is his mother, he's not home",
                        "he's at work", "my mom is in the hospital"]), _CASE)
def test_CEASE_4_no_death_words_never_a_death(text, case):
    """Hypothesis: without a word of a death, no deceased reading stands.
    Mutation tried: `_DEATH` given `hospital` -> fails."""
    assert not report_denials.tells_of_death(case(text))
    assert report_denials.denies("deceased", case(text))


# --- the session side and the action -------------------------------------------------------------------------

@pytest.fixture
def debtor_account(sqlite_engine, sqlite_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SUPPORT_CONTACT", SUPPORT)
    context.settings.cache_clear()
    with session_scope(sqlite_engine) as session:
        _debtor, account = add_debtor(session, phone="+15555550121")
        account_id = account.id
    yield account_id
    context.settings.cache_clear()


def _conversation(engine, channel: str = "sms", address: str = "+15555550121", verified: bool = True) -> str:
    from datetime import datetime, timezone

    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, channel, address)
        if verified:
            account = session.scalars(select(Account)).first()
            conversation.verified_at = datetime.now(timezone.utc)
            conversation.debtor_id, conversation.account_id = account.debtor_id, account.id
        return conversation.id


def _tracker(sender: str, intent: str, text: str, verified: bool, asking: str | None = None) -> Tracker:
    events: list[dict[str, Any]] = []
    if asking:  # the verify form was asking, and the rule for the report ended it
        events += [{"event": "active_loop", "name": "verify_form"},
                   {"event": "slot", "name": "requested_slot", "value": asking}]
    events += [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    if asking:
        events += [{"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None}]
    slots = {"verified": verified, "verification_status": "verified" if verified else "pending",
             "pending_request": None, "requested_slot": None}
    return Tracker(sender, slots, {"intent": {"name": intent}, "text": text}, events, False, None, {},
                   "action_listen")


def _run(sender: str, intent: str, text: str, verified: bool = True, asking: str | None = None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionHandleSensitive().run(dispatcher, _tracker(sender, intent, text, verified, asking),
                                                     {}))
    return [m.get("text") or m.get("response") for m in dispatcher.messages], events


def _kinds(engine, conversation_id: str) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditEvent.kind).where(AuditEvent.conversation_id == conversation_id)))


@pytest.mark.parametrize(("intent", "text"), [
    ("attorney_represented", "I don't have a lawyer"),
    ("bankruptcy", "I never filed for bankruptcy"),
    ("cease_contact", "I don't want to stop contacting, keep texting me"),
])
def test_CEASE_1_2_3_a_denied_report_holds_nothing_and_starts_no_form(sqlite_engine, debtor_account, intent, text):
    """Verified, "I don't have a lawyer" (and the like): "Nothing has changed" with the menu, the account active, no
    report event and no handoff, and the turn ends (no attorney_form asking for the lawyer's name). Audited for a
    reviewer as overruled, with the rule.
    Mutation tried: the `denied = _denied_report(...)` call removed from ActionHandleSensitive.run -> the attorney
    reply, status attorney: fails."""
    conversation_id = _conversation(sqlite_engine)
    said, events = _run(conversation_id, intent, text)
    assert said == [wording.say("report_denied_verified")]
    assert events == [FollowupAction("action_listen")]
    with session_scope(sqlite_engine) as session:
        assert session.get(Account, debtor_account).status == AccountStatus.ACTIVE
        assert session.scalars(select(Handoff)).all() == []
    kinds = _kinds(sqlite_engine, conversation_id)
    assert kinds == ["report_overruled_by_words"]


def test_DISC_4_is_this_a_law_firm_says_who_we_are(sqlite_engine, debtor_account):
    """Unverified, "is this a law firm?": who we are, an automated assistant (DISC-4), and no attorney hold.
    Mutation tried: the `asks_about_us` branch removed from denied_report -> "Nothing has changed": fails."""
    conversation_id = _conversation(sqlite_engine, "rest", "web-lawfirm", verified=False)
    said, _ = _run(conversation_id, "attorney_represented", "is this a law firm?", verified=False)
    assert said == [wording.say("who_we_are", business="Settle Services")]


@pytest.mark.parametrize("text", ["I don't know my SSN", "idk"])
def test_ID_4_ID_2_no_ssn_at_its_question_goes_on_with_the_zip(sqlite_engine, debtor_account, text):
    """At the SSN question (demo phone, +15555550121): the ZIP route is offered and the verify form goes on; the
    phone is not marked wrong-party, nothing is reported.
    Mutation tried: `elif own_details and asked_slot == "id_secret"` branch removed -> no ZIP offered: fails;
    `speaks_of_own_details` returning False -> "Sorry for the mix-up", the phone suppressed: fails."""
    conversation_id = _conversation(sqlite_engine, verified=False)
    said, events = _run(conversation_id, "wrong_person", text, verified=False, asking="id_secret")
    assert said == [wording.say("verify_secret_unknown")]
    assert events == [FollowupAction("verify_form")]
    with session_scope(sqlite_engine) as session:
        assert session.scalars(select(ContactPreference.wrong_party_at)).all() in ([], [None])
    assert "wrong_party_reported" not in _kinds(sqlite_engine, conversation_id)


def test_ID_2_which_detail_was_wrong_is_never_said(sqlite_engine, debtor_account):
    """"is that the wrong ssn or the wrong birthday?" while the form asks: "I can't say which", the form goes on.
    Mutation tried: the is_question branch removed -> no reply of its own: fails."""
    conversation_id = _conversation(sqlite_engine, verified=False)
    said, events = _run(conversation_id, "wrong_person", "is that the wrong ssn or the wrong birthday?",
                        verified=False, asking="id_dob")
    assert said == [wording.say("verify_cant_say_which")] and events == [FollowupAction("verify_form")]


def test_ID_4_a_wrong_address_is_noted_for_a_person_and_the_debtor_stays_verified(sqlite_engine, debtor_account):
    """Verified, "you have my address wrong, I moved": noted for a person (handoff details_update), the debtor stays
    verified and nothing is marked wrong-party.
    Mutation tried: the details_update branch removed -> no handoff: fails."""
    conversation_id = _conversation(sqlite_engine)
    said, events = _run(conversation_id, "wrong_person", "you have my address wrong, I moved")
    assert said == [wording.say("details_noted")] and events == [FollowupAction("action_listen")]
    with session_scope(sqlite_engine) as session:
        assert [h.reason for h in session.scalars(select(Handoff))] == ["details_update"]
        assert sensitive_requests.handed_to_a_person(session, conversation_id, SUPPORT) is None
    assert "verification_withdrawn" not in _kinds(sqlite_engine, conversation_id)


def test_CEASE_4_ID_4_a_mother_answering_for_her_son_is_a_third_party_not_a_death(sqlite_engine, debtor_account):
    """"this is his mother, he's not home" on the demo phone: no condolences, no death recorded, no pause; a third
    party (ID-4: the wrong-person reply, the number marked, a person told, ID-1).
    Mutation tried: the `answers_for_someone` branch removed -> the fallback and nothing marked: fails."""
    conversation_id = _conversation(sqlite_engine, verified=False)
    said, _ = _run(conversation_id, "deceased", "this is his mother, he's not home", verified=False)
    assert said == [wording.say("wrong_person_reply")]
    kinds = _kinds(sqlite_engine, conversation_id)
    assert "deceased_reported" not in kinds and "wrong_party_reported" in kinds
    with session_scope(sqlite_engine) as session:
        assert session.get(Account, debtor_account).collection_paused_reason is None
        assert "third_party" in [h.reason for h in session.scalars(select(Handoff))]


def test_CEASE_4_the_executor_still_gets_the_death_rule(sqlite_engine, debtor_account):
    """The other side: "I'm the executor of his estate" is a death report (CEASE-4): paused, handed to a person.
    Mutation tried: "executor|estate" dropped from `_DEATH` -> the fallback: fails."""
    conversation_id = _conversation(sqlite_engine, verified=False)
    said, _ = _run(conversation_id, "deceased", "I'm the executor of his estate", verified=False)
    assert said == [wording.say("deceased_reply", support=SUPPORT)]
    assert "deceased_reported" in _kinds(sqlite_engine, conversation_id)

"""The plan conversation's actions, run as Rasa runs them (rasa-sdk Tracker and dispatcher) on a real database.

FormTurns plays Rasa's part of plan_form: it fills the requested slot from the message (from_text, unless the
intent is one of the form's interruptions), runs validate_plan_form, then the ask action for the slot it
requests, or action_plan_finish when it requests none."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import context, plans
from bot import conversations, wording
from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from bot.db import session_scope
from bot.db.models import Account, AccountStatus, Conversation, Dispute, Plan
from bot.plans import service
from tests.conftest import add_debtor
from tests.test_actions import DOMAIN

ROOT = Path(__file__).resolve().parent.parent
INTERRUPTIONS = DOMAIN["slots"]["plan_choice"]["mappings"][0]["not_intent"]
COMPLIANCE_INTENTS = ("request_human", "opt_out", "cease_contact", "attorney_represented", "bankruptcy", "deceased",
                      "wrong_person", "hardship")
ASK_ACTIONS = {"plan_request": plans.ActionAskPlanRequest, "plan_choice": plans.ActionAskPlanChoice,
               "plan_consent": plans.ActionAskPlanConsent}


@pytest.fixture
def db(sqlite_engine, sqlite_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    context.settings.cache_clear()
    yield sqlite_engine
    context.settings.cache_clear()


def verified(engine, **debtor) -> str:
    with session_scope(engine) as session:
        person, account = add_debtor(session, **debtor)
        conversation = conversations.get_or_create(session, "rest", f"web-{account.account_ref}")
        conversation.debtor_id, conversation.account_id = person.id, account.id
        conversation.verified_at = datetime.now(timezone.utc)
        return conversation.id


@pytest.fixture
def acme(db) -> str:
    """Verified, $2,400.00 with Acme Bank (monthly, every 2 weeks or weekly; $30.00 minimum)."""
    return verified(db, balance_cents=240000)


class FormTurns:
    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.slots: dict[str, Any] = {"verified": True, "verification_status": "verified", "requested_slot": None,
                                      **{slot: None for slot in plans.PLAN_SLOTS}}
        self.active = False
        self.latest: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []

    def tracker(self, extra_events: list[dict[str, Any]] = (), latest_action: str = "action_listen") -> Tracker:
        return Tracker(self.sender, dict(self.slots), self.latest, [*self.events, *extra_events], False, None,
                       {"name": plans.PLAN_FORM} if self.active else {}, latest_action)

    def apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]

    async def run(self, action, tracker: Tracker | None = None) -> list[dict[str, Any]]:
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, tracker or self.tracker(), DOMAIN)
        self.replies += dispatcher.messages
        self.apply(events)
        if not isinstance(action, plans.ValidatePlanForm):
            self.events.append({"event": "action", "name": action.name()})
        return events

    def user(self, text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> None:
        self.latest = {"text": text, "intent": {"name": intent}, "entities": entities or []}
        self.events += [{"event": "action", "name": "action_listen"},
                        {"event": "user", "text": text, "parse_data": self.latest}]
        self.replies = []

    async def start(self, text: str) -> list[str]:
        self.user(text, "request_payment_plan")
        await self.run(plans.ActionPlanStart())
        if self.slots["plan_flow"] == plans.OFFERING:
            prefilled = {"plan_request": self.slots["plan_request"]} if self.slots["plan_request"] else {}
            self.active = True
            await self.form(prefilled)
        return self.texts

    async def say(self, text: str, intent: str = "inform_identity", entities: list | None = None) -> list[str]:
        self.user(text, intent, entities)
        if intent in INTERRUPTIONS:
            raise AssertionError(f"{intent} is not a plan answer; a rule handles it")
        requested = self.slots["requested_slot"]
        self.slots[requested] = text  # action_extract_slots: from_text into the requested slot
        await self.form({requested: text})
        return self.texts

    async def resume(self) -> list[str]:
        """A question mid-flow: the form rejects it, a rule answers, then the form asks again."""
        self.user("are you a bot", "bot_challenge")
        rejected = await self.run(plans.ValidatePlanForm(), self.tracker([{"event": "action", "name": "plan_form"}]))
        assert rejected == []  # no events: Rasa rejects the form and the DISC-4 rule answers
        self.events.append({"event": "action", "name": "action_say_who_we_are"})
        await self.form({}, latest_action="action_say_who_we_are")
        return self.texts

    async def form(self, candidates: dict[str, Any], latest_action: str = "action_listen") -> None:
        extra = [{"event": "action", "name": plans.PLAN_FORM}] + [
            {"event": "slot", "name": k, "value": v} for k, v in candidates.items()]
        await self.run(plans.ValidatePlanForm(), self.tracker(extra, latest_action))
        requested = self.slots["requested_slot"]
        if requested:
            await self.run(ASK_ACTIONS[requested]())
        else:
            self.active = False
            await self.run(plans.ActionPlanFinish())

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.replies]

    def buttons(self) -> list[dict[str, Any]]:
        return [b for m in self.replies for b in m.get("buttons") or []]


def expected_options(engine, sender: str, said: str) -> tuple[service.PlanOption, ...]:
    with session_scope(engine) as session:
        return service.offer(session, sender, said).options


def plans_in(engine) -> list[Plan]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Plan)))


async def test_PLAN_1_options_come_as_numbered_lines_and_as_buttons_after_the_disclosure(db, acme):
    flow = FormTurns(acme)
    texts = await flow.start("i can do 150 a month")
    assert texts[0] == DEBT_COLLECTOR_DISCLOSURE  # DISC-1: before the first debt information
    options = expected_options(db, acme, "i can do 150 a month")
    listing = texts[-1]
    assert listing.startswith("Here are your options:\n1. 16 monthly payments of $150.00, from ")
    for n, option in enumerate(options, 1):
        assert f"{n}. {service.describe_option(option)}" in listing
    assert "Reply 1, 2 or 3 to choose" in listing
    assert flow.buttons()[0]["payload"] == '/choose_option{"plan_choice":"1"}'
    assert [b["title"][:2] for b in flow.buttons()] == ["1.", "2.", "3."]
    assert flow.slots["requested_slot"] == "plan_choice" and flow.slots["plan_request"] == "i can do 150 a month"


async def test_PLAN_2_accept_states_the_terms_asks_for_yes_saves_and_confirms_in_writing(db, acme):
    flow = FormTurns(acme)
    await flow.start("i can do 150 a month")
    option = expected_options(db, acme, "150 a month")[0]
    texts = await flow.say("1", "choose_option")
    assert texts == [service.terms_text(option), plans.CONSENT_PROMPT]
    assert "Reply YES to agree to these terms, or NO to go back" in texts[1]
    assert [b["payload"] for b in flow.buttons()] == ["/affirm", "/deny"]
    assert plans_in(db) == []  # nothing before the yes

    texts = await flow.say("YES", "affirm")
    saved = plans_in(db)
    assert len(saved) == 1 and saved[0].terms_text == service.terms_text(option) and saved[0].consent_text == "YES"
    assert texts[0] == f"Thank you. Your plan is set up. Your reference is {saved[0].reference}."
    assert texts[1] == saved[0].terms_text  # the schedule, in writing
    # PCI-1: what happens next is the first payment's own secure link (bot/payments), not a promise of one.
    assert "your first payment of $150.00 is due" in texts[2] and "/pay/" in texts[2]
    assert all(flow.slots[s] is None for s in plans.PLAN_SLOTS) and not flow.active


@pytest.mark.parametrize("agreed", [True, False])
async def test_EMAIL_1_the_plan_confirmation_is_also_queued_as_an_email_copy_only_with_esign_consent(db, acme, agreed):
    """The confirmation stays in the chat; with E-SIGN consent to email a copy to keep is queued (sent by the queue
    through the gate: tests/test_email_copies.py). Mutation tried: ActionPlanFinish without the copies.email_copy
    call -> no copy queued, fails."""
    from bot.compliance import esign
    from bot.db.models import Conversation, Debtor, ScheduledMessage

    with session_scope(db) as session:
        debtor = session.get(Debtor, session.get(Conversation, acme).debtor_id)
        debtor.email = "jordan.rivera@example.com"
        if agreed:
            esign.record(session, debtor.id, debtor.email, "Email me?", "Yes", True, datetime.now(timezone.utc),
                         via="web")
    flow = FormTurns(acme)
    await flow.start("i can do 150 a month")
    await flow.say("1", "choose_option")
    texts = await flow.say("YES", "affirm")
    with session_scope(db) as session:
        copies = session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "plan_confirmation")).all()
        assert [(c.channel, c.address, c.status) for c in copies] == \
            ([("email", "jordan.rivera@example.com", "pending")] if agreed else [])
        if agreed:
            assert copies[0].text == "\n\n".join(texts)
            assert texts[0].startswith("Thank you. Your plan is set up.")


async def test_PLAN_2_a_button_press_is_consent_in_the_words_on_the_button(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    await flow.say('/choose_option{"plan_choice":"2"}', "choose_option", [{"entity": "plan_choice", "value": "2"}])
    assert flow.slots["plan_choice"] == "2"
    await flow.say("/affirm", "affirm")
    (plan,) = plans_in(db)
    assert plan.consent_text == plans.YES_BUTTON and plan.frequency == "biweekly"


async def test_PLAN_2_ok_is_not_consent_and_only_a_short_reminder_follows(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    await flow.say("1", "choose_option")
    for reply, intent in (("ok", "affirm"), ("sure, whatever", "affirm"), ("yes?", "affirm"), ("hmm", "nlu_fallback")):
        assert await flow.say(reply, intent) == [plans.CONSENT_AGAIN]
        assert plans_in(db) == [] and flow.slots["requested_slot"] == "plan_consent"
    await flow.say("yes I agree", "affirm")
    assert plans_in(db)[0].consent_text == "yes I agree"


async def test_PLAN_4_counter_offer_with_a_new_amount_shows_new_options(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    texts = await flow.say("actually 100 a month", "request_payment_plan")
    assert "1. 24 monthly payments of $100.00" in texts[-1]
    assert flow.slots["plan_request"] == "actually 100 a month" and flow.slots["requested_slot"] == "plan_choice"
    await flow.say("1", "choose_option")
    await flow.say("yes", "affirm")
    (plan,) = plans_in(db)
    assert plan.installment_count == 24 and plan.total_cents == 240000


async def test_change_of_mind_another_option_then_no_goes_back_to_the_options(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    options = expected_options(db, acme, "$150 a month")
    await flow.say("the first one", "choose_option")
    assert (await flow.say("actually option 2", "choose_option"))[0] == service.terms_text(options[1])
    back = await flow.say("no", "deny")
    assert back[-1].startswith("Here are your options again:") and flow.slots["requested_slot"] == "plan_choice"
    await flow.say("3", "choose_option")
    await flow.say("y", "affirm")
    (plan,) = plans_in(db)
    assert plan.kind == options[2].kind and plan.total_cents == options[2].total_cents


@pytest.mark.parametrize("words, intent", [("never mind", "deny"), ("no thanks", "deny"), ("bye", "goodbye"),
                                           ("none of these work for me", "deny")])
async def test_declining_at_the_options_ends_politely_with_nothing_set_up(db, acme, words, intent):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    assert await flow.say(words, intent) == [plans.DECLINED_MESSAGE]
    assert plans_in(db) == [] and not flow.active and flow.slots["plan_flow"] is None


async def test_declining_at_the_terms_ends_and_no_goes_back(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    await flow.say("2", "choose_option")
    assert await flow.say("never mind", "deny") == [plans.DECLINED_MESSAGE]
    assert plans_in(db) == []


async def test_without_an_amount_it_asks_what_they_can_pay_in_the_creditors_terms(db):
    acme = verified(db, balance_cents=240000)
    flow = FormTurns(acme)
    texts = await flow.start("can i set up a payment plan")
    assert texts[-1] == ("I can help you set up a plan. How much can you pay, and how often? For example: "
                         "$50 a month or $25 every 2 weeks. Or say 'never mind' to stop.")
    assert flow.slots["requested_slot"] == "plan_request"
    texts = await flow.say("150 a month", "request_payment_plan")
    assert "1. 16 monthly payments of $150.00" in texts[-1]

    northwind = verified(db, account_ref="SET-100002", ssn_last4="5678", phone=None, balance_cents=240000,
                         creditor="Northwind Credit Union")
    flow = FormTurns(northwind)
    assert "How much can you pay each month?" in (await flow.start("payment plan"))[-1]


async def test_an_amount_answering_a_frequency_question_keeps_the_frequency(db, acme):
    flow = FormTurns(acme)
    texts = await flow.start("can i pay every 2 weeks")
    assert "How much can you pay every 2 weeks?" in texts[-1]
    texts = await flow.say("$100", "inform_identity")
    assert "1. 24 payments every 2 weeks of $100.00" in texts[-1]


async def test_what_it_does_not_understand_gets_a_short_reprompt_not_the_whole_list(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    for words in ("blah blah", "4", "1 or 2"):
        texts = await flow.say(words, "nlu_fallback")
        assert texts == ["Sorry, I didn't catch that. Reply 1, 2 or 3 to choose, or tell me a different amount. "
                         "Say 'never mind' to stop."]
        assert len(flow.buttons()) == 3 and flow.slots["plan_choice"] is None


async def test_DISC_4_after_a_question_mid_flow_the_form_asks_again_in_full(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    assert (await flow.resume())[-1].startswith("Here are your options again:")
    await flow.say("1", "choose_option")
    assert (await flow.resume())[-2:] == [service.terms_text(expected_options(db, acme, "150 a month")[0]),
                                          plans.CONSENT_PROMPT]


async def test_PLAN_4_far_below_policy_gets_the_nearest_plan_the_reason_and_a_person(db):
    sender = verified(db, creditor="Northwind Credit Union", balance_cents=240000)
    flow = FormTurns(sender)
    texts = await flow.start("$50 a month")
    note = texts[-2]
    assert "The closest plan I can offer is" in note and "Say 'talk to a person' to reach them." in note
    assert flow.buttons()[-1] == plans.PERSON_BUTTON
    again = await flow.resume()  # the note is not repeated, the person still is
    assert "The closest plan" not in " ".join(again) and "Say 'talk to a person'" in again[-2]


async def test_DSP_2_a_held_account_is_refused_at_the_start_with_a_person_offered(db, acme):
    with session_scope(db) as session:
        account = session.get(Conversation, acme).account_id
        session.add(Dispute(account_id=account, conversation_id=acme, kind="all", disputed_cents=240000))
    flow = FormTurns(acme)
    texts = await flow.start("$150 a month")
    assert texts[0] == DEBT_COLLECTOR_DISCLOSURE and "dispute" in texts[1] and "talk to a person" in texts[1]
    assert flow.slots["plan_flow"] == plans.STOPPED and not flow.active


async def test_DSP_2_a_hold_between_the_offer_and_the_yes_stops_the_plan(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    await flow.say("1", "choose_option")
    with session_scope(db) as session:
        session.get(Account, session.get(Conversation, acme).account_id).status = AccountStatus.CEASED
    texts = await flow.say("YES", "affirm")
    assert "I can't set up a plan on this account" in texts[0] and plans_in(db) == [] and not flow.active


async def test_PLAN_2_a_balance_change_before_the_yes_re_offers(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    await flow.say("1", "choose_option")
    with session_scope(db) as session:
        session.get(Account, session.get(Conversation, acme).account_id).balance_cents = 180000
    texts = await flow.say("YES", "affirm")
    assert texts[0].startswith("Your balance has changed") and "1. 12 monthly payments of $150.00" in texts[-1]
    assert plans_in(db) == [] and flow.slots["requested_slot"] == "plan_choice"


async def test_a_plan_already_running_is_named_instead_of_a_second_one(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    await flow.say("1", "choose_option")
    await flow.say("YES", "affirm")
    again = FormTurns(acme)
    texts = await again.start("can i change my plan to 100 a month")
    assert plans_in(db)[0].reference in texts[-1] and again.slots["plan_flow"] == plans.STOPPED


async def test_after_verification_the_plan_asked_for_before_it_is_offered(db, acme):
    """The contract with action_answer_request: the request made before verification drives the offer."""
    flow = FormTurns(acme)
    flow.user("can i pay $150 a month", "request_payment_plan")
    for answer in ("03/14/1979", "1234", "SET-100001"):
        flow.user(answer, "inform_identity")
    dispatcher = CollectingDispatcher()
    events = await plans.start_after_verification(dispatcher, flow.tracker(), DOMAIN)
    assert {"event": "followup", "name": "plan_form"} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"}["plan_request"] == "can i pay $150 a month"
    assert dispatcher.messages[0]["text"] == DEBT_COLLECTOR_DISCLOSURE


async def test_plan_status_answers_from_the_database_after_the_disclosure(db, acme):
    flow = FormTurns(acme)
    await flow.start("$150 a month")
    await flow.say("1", "choose_option")
    await flow.say("YES", "affirm")
    dispatcher = CollectingDispatcher()
    flow.user("when is my next payment", "ask_plan_status")
    await plans.ActionPlanStatus().run(dispatcher, flow.tracker(), DOMAIN)
    texts = [m["text"] for m in dispatcher.messages]
    assert texts[0].startswith(f"Your plan {plans_in(db)[0].reference}: 16 monthly payments of $150.00")
    assert texts[1].startswith("Next payment: $150.00 on ") and texts[2].startswith("Left to pay on this plan: $2,400")


async def test_ID_1_unverified_conversation_gets_no_plan_information(db):
    with session_scope(db) as session:
        add_debtor(session)
        sender = conversations.get_or_create(session, "rest", "anon").id
    dispatcher = CollectingDispatcher()
    flow = FormTurns(sender)
    flow.user("whats my plan", "ask_plan_status")
    events = await plans.answer_plan_status(dispatcher, flow.tracker(), DOMAIN)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_verification_stopped"]
    assert {"event": "slot", "name": "verified", "value": False} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events]


@pytest.mark.parametrize("words, pick", [
    ("1", 1), ("2", 2), ("#3", 3), ("3.", 3), ("option 2", 2), ("Option #1", 1), ("option one", 1), ("one", 1),
    ("the second one", 2), ("second", 2), ("the 1st one", 1), ("i'll take option 2", 2), ("lets do 3", 3),
    ("2 please", 2), ("actually option 2", 2), ("no, option 1", 1), ("4", 0), ("9", 0),
    ("that one", None), ("1 or 2", None), ("$2", None), ("40 a month", None), ("every 2 weeks", None),
    ("the first payment is too big", None), ("yes", None), ("", None),
])
def test_typed_choices_work_over_sms(words, pick):
    assert plans.parse_choice(words, 3) == pick


def test_every_compliance_intent_interrupts_the_plan_form():
    """The form never takes these as answers, and a rule ends the form for each (CEASE-*, OPT-2, HO-1, ...)."""
    rules = yaml.safe_load((ROOT / "data" / "rules" / "plans.yml").read_text())["rules"]
    ending = {step["intent"] for rule in rules if rule.get("condition") == [{"active_loop": "plan_form"}]
              for step in rule["steps"][:1] if "intent" in step
              and {"action": "action_deactivate_loop"} in rule["steps"]}
    for intent in COMPLIANCE_INTENTS:
        assert intent in INTERRUPTIONS and intent in ending, intent
    for slot in plans.FORM_SLOTS:
        assert DOMAIN["slots"][slot]["mappings"][0]["not_intent"] == INTERRUPTIONS


def test_the_domain_declares_every_plan_action():
    actions = {cls().name() for cls in (plans.ActionPlanStart, plans.ValidatePlanForm, plans.ActionAskPlanRequest,
                                        plans.ActionAskPlanChoice, plans.ActionAskPlanConsent, plans.ActionPlanFinish,
                                        plans.ActionPlanStatus)}
    assert actions <= set(DOMAIN["actions"])
    assert DOMAIN["forms"]["plan_form"]["required_slots"] == list(plans.FORM_SLOTS)


# --- the debtor's language (issue 23) -------------------------------------------------------------------------


def spanish(engine, conversation_id: str, flow: FormTurns) -> None:
    """The gateway keeps the language on the conversation and sends it to Rasa, which sets the `language` slot."""
    with session_scope(engine) as session:
        session.get(Conversation, conversation_id).language = "es"
    flow.slots["language"] = "es"


async def test_PLAN_1_PLAN_2_a_spanish_speaking_debtor_gets_options_terms_and_confirmation_in_spanish(db, acme):
    """The whole plan conversation in Spanish: options, buttons, the complete terms with Spanish dates and US money,
    an explicit "sí" (PLAN-2), the stored terms as shown, and the written confirmation.
    Mutations tried: ActionAskPlanConsent's terms_text without the language (the English terms: failed);
    "si" taken out of service._YES (the "Sí" was asked again and nothing saved: failed)."""
    flow = FormTurns(acme)
    spanish(db, acme, flow)
    texts = await flow.start("puedo pagar 150 al mes")
    assert texts[0] == wording.say("debt_collector_disclosure", "es")  # DISC-1, in Spanish
    listing = texts[-1]
    assert listing.startswith("Estas son sus opciones:\n1. 16 pagos mensuales de $150.00, del ")
    assert "Responda 1, 2 o 3 para elegir" in listing
    assert flow.buttons()[0]["title"].startswith("1. 16 pagos mensuales de $150.00")
    texts = await flow.say("la primera", "choose_option")
    terms, prompt = texts
    assert " de 2026" in terms and "Total: $2,400.00. No hay cargos." in terms and "\n1. " in terms
    assert not any(word in terms for word in ("January", "March", "payments", "Total: $2,400.00. No fees."))
    assert prompt == wording.say("plan_consent_prompt", "es")
    assert [b["title"] for b in flow.buttons()] == ["Sí, acepto", "No, quiero volver"]
    texts = await flow.say("Sí", "affirm")
    [saved] = plans_in(db)
    assert saved.terms_text == terms and saved.consent_text == "Sí"  # PLAN-2: stored exactly as shown
    assert texts[0] == f"Gracias. Su plan está listo. Su referencia es {saved.reference}."
    assert texts[1] == terms
    assert texts[2].startswith("Su primer pago de $150.00 vence el ") and "/pay/" in texts[2]
    assert "Este es su enlace seguro para pagar $150.00" in texts[2]
    assert texts[3] == wording.say("plan_human_review", "es")  # REC-3


async def test_PLAN_2_in_spanish_ok_is_not_consent_and_olvidelo_ends_the_plan(db, acme):
    flow = FormTurns(acme)
    spanish(db, acme, flow)
    await flow.start("puedo pagar 150 al mes")
    await flow.say("1", "choose_option")
    assert await flow.say("ok", "affirm") == [wording.say("plan_consent_again", "es")]
    assert plans_in(db) == []
    assert await flow.say("olvídelo", "deny") == [wording.say("plan_declined", "es")]
    assert plans_in(db) == []


async def test_an_english_debtor_still_gets_the_plan_in_english(db, acme):
    flow = FormTurns(acme)
    texts = await flow.start("i can do 150 a month")
    assert texts[-1].startswith("Here are your options:\n1. 16 monthly payments of $150.00, from ")

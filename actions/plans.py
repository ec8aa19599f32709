"""The plan conversation (PLAN-1 to PLAN-4): thin adapters over bot/plans/service.py.

The flow is one form, plan_form, so every step is deterministic code rather than a learned policy:
  plan_request  what the debtor can pay and how often (asked only when their message had no amount);
  plan_choice   which option (a button, or a typed "2", "option 2", "the second one" over SMS);
  plan_consent  an explicit YES to the exact terms just shown (PLAN-2).
Each slot takes the debtor's whole message (from_text); ValidatePlanForm reads it in context, so at any step the
debtor can pick another option, give a new amount ("actually 40 a month"), go back, or say "never mind".
Compliance-critical intents never reach the form (not_intent in domain/plans.yml); rules in data/rules/plans.yml
end the form and hand them to action_handle_sensitive, or answer a question and carry on.

Offered options travel between turns in the plan_offer slot (the action server keeps no state); accept()
re-checks them against the ledger and the policy before anything is saved.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select

from actions.context import engine, settings
from actions.form_turn import FormTurn
from actions.forms import DeclaredForm
from actions.language import language_of, numbers_text, say
from bot import accounts, wording
from bot.db import session_scope
from bot.db.models import Account, Plan
from bot.messaging import copies
from bot.payments import service as payments
from bot.plans import service
from bot.plans.affordability import parse_affordability
from bot.plans.terms import describe_option

PLAN_FORM = "plan_form"
FORM_SLOTS = ("plan_request", "plan_choice", "plan_consent")
PLAN_SLOTS = ("plan_flow", *FORM_SLOTS, "plan_offer", "plan_prompt")
# plan_flow is the one slot a rule needs: did action_plan_start open the form or stop?
OFFERING, STOPPED = "offering", "stopped"
ACCEPTED, DECLINED = "accepted", "declined"
SHORT = "short"  # plan_prompt: re-ask briefly instead of repeating the whole list
AGAIN = "again"  # plan_prompt: the list again (after a question, or NO), without repeating the note

# The words are in bot/wording/ (one catalogue per language); these names hold the English, for the tests.
CONSENT_PROMPT = wording.say("plan_consent_prompt")
CONSENT_AGAIN = wording.say("plan_consent_again")
DECLINED_MESSAGE = wording.say("plan_declined")
PERSON_NEXT = wording.say("plan_person_next")
YES_BUTTON = wording.say("plan_yes_button")


def yes_buttons(language: str | None) -> list[dict[str, str]]:
    return [{"title": wording.say("plan_yes_button", language), "payload": "/affirm"},
            {"title": wording.say("plan_no_button", language), "payload": "/deny"}]


def person_button(language: str | None) -> dict[str, str]:
    return {"title": wording.say("plan_person_button", language), "payload": "/request_human"}


YES_BUTTONS = yes_buttons(None)
PERSON_BUTTON = person_button(None)

# English, and Spanish as people text it (accents dropped first: "la primera", "opcion 2", "olvidelo").
_CHOICE_WORDS = {"one": 1, "first": 1, "1st": 1, "two": 2, "second": 2, "2nd": 2, "three": 3, "third": 3,
                 "3rd": 3, "uno": 1, "una": 1, "primera": 1, "primero": 1, "dos": 2, "segunda": 2, "segundo": 2,
                 "tres": 3, "tercera": 3, "tercero": 3, **{str(n): n for n in range(1, 10)}}
_FILLER = frozenset(
    "option options opt choice number no num nr plan the a an i ill id im will would like want take choose "
    "pick picking select go going with for lets let us do please pls plz ok okay yes yeah yep that thats this is "
    "it me give fine sounds good works how about what to gonna prefer then actually instead sure rather "
    "opcion opciones la el lo los las numero quiero quisiera tomo escojo elijo prefiero me doy si por favor "
    "porfa esa ese esta este de mejor entonces bueno".split())
_DECLINE = re.compile(
    r"\b(?:never\s*mind|nevermind|nvm|forget (?:it|about it|that|the plan)|not (?:right )?now|not today|"
    r"not interested|maybe later|no thanks?|no thank you|no thx|nty|i'?ll pass|don'?t want (?:a |the |any )?plan|"
    r"i'?m good|not anymore|leave it|"
    r"olvidelo|olvidalo|dejelo|dejalo|ahorita no|ahora no|hoy no|no gracias|mejor no|no me interesa|"
    r"no quiero (?:un |el |ningun )?plan)\b")
_BACK = re.compile(
    r"(?:no|nope|nah|n|go back|back|no go back|not that one|the other one|other options?|show me the options|"
    r"(?:i )?changed my mind|no i changed my mind|different option|"
    r"volver|regresar|no quiero volver|otra opcion|otras opciones|esa no|cambie de opinion)")


# --- entry points ----------------------------------------------------------------------------------------------


class ActionPlanStart(Action):
    """A verified debtor asked for a plan: the disclosure if owed (DISC-1), then a refusal (hold, plan already
    running) or the form, prefilled with their message when it already says how much they can pay."""

    def name(self) -> str:
        return "action_plan_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events, _ = _start(dispatcher, tracker.sender_id, tracker.latest_message.get("text") or "",
                           language_of(tracker))
        return events


async def start_after_verification(dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> list[EventType]:
    """Called by action_answer_request when verification finishes and a plan was what they asked for: behaves
    like action_plan_start on the message that asked, then opens the form itself (no rule follows that action)."""
    events, offering = _start(dispatcher, tracker.sender_id, _request_text(tracker), language_of(tracker))
    return events + [FollowupAction(PLAN_FORM)] if offering else events


async def answer_plan_status(dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[EventType]:
    """ask_plan_status for a verified debtor: from the database, after the disclosure if owed (DISC-1)."""
    try:
        with session_scope(engine()) as session:
            messages = accounts.opening_disclosure(session, tracker.sender_id)
            messages += service.plan_status(session, tracker.sender_id, language=language_of(tracker))
    except accounts.NotVerified:
        dispatcher.utter_message(response="utter_verification_stopped")
        return [SlotSet("verified", False)]
    for text in messages:
        dispatcher.utter_message(text=text)
    return []


class ActionPlanStatus(Action):
    def name(self) -> str:
        return "action_plan_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await answer_plan_status(dispatcher, tracker, domain)


def _start(dispatcher: CollectingDispatcher, conversation_id: str, text: str,
           language: str | None = None) -> tuple[list[EventType], bool]:
    cleared = [SlotSet(slot, None) for slot in PLAN_SLOTS if slot != "plan_flow"]
    try:
        with session_scope(engine()) as session:
            # The disclosure comes before anything about the debt, even a refusal (DISC-1).
            opening = accounts.opening_disclosure(session, conversation_id)
            offer = service.offer(session, conversation_id, text, language=language)
    except accounts.NotVerified:
        dispatcher.utter_message(response="utter_verification_stopped")
        return [SlotSet("verified", False), *cleared, SlotSet("plan_flow", STOPPED)], False
    for line in opening:
        dispatcher.utter_message(text=line)
    if offer.refusal:
        dispatcher.utter_message(text=offer.refusal)
        return [*cleared, SlotSet("plan_flow", STOPPED)], False
    context = {"hint": text, "frequencies": list(offer.frequencies)}
    events: list[EventType] = [*cleared, SlotSet("plan_flow", OFFERING), SlotSet("plan_offer", context)]
    if not offer.needs_amount:
        events.append(SlotSet("plan_request", text))  # validated by the form when it opens
    return events, True


def _request_text(tracker: Tracker) -> str:
    """The message that asked for a plan before verification started (the latest one is an identity answer)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and \
                (event.get("parse_data") or {}).get("intent", {}).get("name") == "request_payment_plan":
            return event.get("text") or ""
    return ""


# --- the form --------------------------------------------------------------------------------------------------


def parse_choice(text: str, count: int) -> int | None:
    """The option a typed reply picks: "2", "#2", "option 2", "the second one", "i'll take 1". None if the message
    is anything else; 0 if it names an option number that isn't on the list."""
    if "$" in text:
        return None  # "$2" is an amount
    tokens = re.findall(r"[a-z0-9]+", _fold(text).replace("'", ""))
    picks = {_CHOICE_WORDS[t] for t in tokens if t in _CHOICE_WORDS and t != "one"}
    if not picks and "one" in tokens and (tokens == ["one"] or tokens[tokens.index("one") - 1] in (
            "option", "number", "choice", "plan", "no", "nr")):
        picks = {1}
    others = [t for t in tokens if t not in _CHOICE_WORDS and t not in _FILLER]
    if len(picks) != 1 or others:
        return None
    pick = picks.pop()
    return pick if 1 <= pick <= count else 0


def _fold(text: str) -> str:
    """Lower case, accents dropped ("Olvídelo" is "olvidelo", as many type it)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _declines(text: str) -> bool:
    return bool(_DECLINE.search(_fold(text).replace("’", "'")))


def _goes_back(text: str) -> bool:
    return bool(_BACK.fullmatch(" ".join(re.sub(r"[^a-z ]", " ", _fold(text)).split())))


def _with_hint(answer: str, hint: str | None) -> str:
    """"$100" answering "how much each month?" after "can I pay monthly?" means $100 a month."""
    if not hint:
        return answer
    said, asked = parse_affordability(answer), parse_affordability(hint)
    if said.amount_cents is not None and said.frequency is None and asked.frequency is not None:
        return f"{answer} ({hint})"
    return answer


def _just_heard_the_user(tracker: Tracker) -> bool:
    """Whether the form runs straight after a user message, rather than on opening or after another action
    answered a question. The last event is the form's own run, so the one before it tells."""
    steps = [e for e in tracker.events if e.get("event") in ("user", "action")]
    before = steps[-2] if len(steps) >= 2 else None
    return before is not None and (before.get("event") == "user" or before.get("name") == "action_listen")


class ValidatePlanForm(DeclaredForm, FormValidationAction):
    """One turn of the plan conversation. Reads the message given to the requested slot, decides the next step,
    and always says which slot comes next (or None: the form ends and action_plan_finish follows)."""

    def name(self) -> str:
        return "validate_plan_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        candidates = {k: v for k, v in tracker.slots_to_validate().items() if k in FORM_SLOTS and v is not None}
        if not candidates and _just_heard_the_user(tracker):
            # The message was not an answer (an interruption intent): no events, so Rasa rejects the form and
            # a rule answers it; the form comes back afterwards.
            return []
        turn = _Turn(dispatcher, tracker)
        if "plan_request" in candidates:
            turn.on_request(str(candidates["plan_request"]))
        elif "plan_choice" in candidates:
            turn.on_choice(str(candidates["plan_choice"]))
        elif "plan_consent" in candidates:
            turn.on_consent(str(candidates["plan_consent"]))
        else:
            turn.resume()
        return turn.events()


class _Turn(FormTurn):
    context_slot = "plan_offer"

    @property
    def count(self) -> int:
        return len(self.context.get("options") or [])

    # each step -------------------------------------------------------------------------------------------------

    def on_request(self, text: str) -> None:
        # The message that opened the form asked for a plan; only a later answer can be a "never mind".
        opening = text == self.context.get("hint")
        if not opening and not self.new_terms(text) and (_declines(text) or self.intent in ("deny", "goodbye")):
            return self.end(DECLINED)
        self.offer(_with_hint(text, self.context.get("hint")))

    def on_choice(self, text: str) -> None:
        pick = self.choice(text)
        if pick:
            return self.choose(pick)
        if pick == 0:
            return self.ask_again("plan_choice")
        if self.new_terms(text):  # a counter-offer, even inside "no, 40 a month"
            return self.offer(text)
        if _declines(text) or self.intent in ("deny", "goodbye"):
            return self.end(DECLINED)
        self.ask_again("plan_choice")

    def on_consent(self, text: str) -> None:
        if text.strip().startswith("/affirm"):
            return self.accept(wording.say("plan_yes_button", language_of(self.tracker)))  # the button's words
        if service.is_explicit_yes(text):
            return self.accept(text.strip())
        pick = self.choice(text)
        if pick:
            return self.choose(pick)  # a change of mind: show that option's terms and ask again
        if self.new_terms(text):
            return self.offer(text)
        if _declines(text) or self.intent == "goodbye":
            return self.end(DECLINED)
        if self.intent == "deny" or text.strip().startswith("/deny") or _goes_back(text):
            return self.back()
        self.ask_again("plan_consent")  # "ok", "sure", "yes but...": PLAN-2 needs an explicit yes

    def resume(self) -> None:
        """Back from a question mid-flow (or the form just opened): ask whatever is still open, in full."""
        self.slots["plan_prompt"] = AGAIN
        self.next_slot = next((s for s in FORM_SLOTS if self.tracker.get_slot(s) is None), None)
        if self.next_slot is None:  # nothing open: treat like a fresh look at the options
            self.back()

    # outcomes --------------------------------------------------------------------------------------------------

    def offer(self, text: str, intro: str | None = None) -> None:
        try:
            with session_scope(engine()) as session:
                offer = service.offer(session, self.tracker.sender_id, text, language=language_of(self.tracker))
        except accounts.NotVerified:
            self.dispatcher.utter_message(response="utter_verification_stopped")
            self.slots["verified"] = False
            return self.end(STOPPED)
        if offer.refusal:
            self.dispatcher.utter_message(text=offer.refusal)
            return self.end(STOPPED)
        if intro:
            self.dispatcher.utter_message(text=intro)
        self.context.update(
            request=text, currency=offer.currency, note=offer.note, needs_person=offer.needs_person,
            options=[service.option_to_dict(o) for o in offer.options], frequencies=list(offer.frequencies))
        self.context.pop("shown", None)
        self.slots.update(plan_request=text, plan_choice=None, plan_consent=None, plan_prompt=None)
        self.next_slot = "plan_choice"

    def choose(self, pick: int) -> None:
        self.slots.update(plan_choice=str(pick), plan_consent=None, plan_prompt=None)
        self.next_slot = "plan_consent"

    def back(self) -> None:
        self.slots.update(plan_choice=None, plan_consent=None, plan_prompt=AGAIN)
        self.next_slot = "plan_choice" if self.count else "plan_request"

    def ask_again(self, slot: str) -> None:
        self.slots.update({slot: None, "plan_prompt": SHORT})
        self.next_slot = slot

    def end(self, outcome: str) -> None:
        self.context["outcome"] = outcome
        self.slots.update(plan_consent=None, plan_prompt=None)
        self.next_slot = None

    def accept(self, consent_text: str) -> None:
        """PLAN-2: the explicit yes to the terms just shown; saved with those exact terms, or re-offered."""
        try:
            index = int(self.tracker.get_slot("plan_choice")) - 1
            option = service.option_from_dict(self.context["options"][index])
        except (TypeError, ValueError, KeyError, IndexError):
            return self.back()
        try:
            with session_scope(engine()) as session:
                plan = service.accept(session, self.tracker.sender_id, option, consent_text,
                                      datetime.now(timezone.utc), terms_shown=self.context.get("shown"),
                                      language=language_of(self.tracker))
                reference = plan.reference
        except service.ConsentRequired:
            return self.ask_again("plan_consent")
        except service.OfferChanged as changed:
            return self.offer(self.context.get("request") or "", intro=changed.message)
        except service.PlanRefused as refused:
            self.dispatcher.utter_message(text=refused.message)
            return self.end(STOPPED)
        except accounts.NotVerified:
            self.dispatcher.utter_message(response="utter_verification_stopped")
            self.slots["verified"] = False
            return self.end(STOPPED)
        self.context["reference"] = reference
        self.end(ACCEPTED)
        self.slots["plan_consent"] = consent_text

    # reading the message ---------------------------------------------------------------------------------------

    def choice(self, text: str) -> int | None:
        for entity in self.entities:  # a button: /choose_option{"plan_choice":"2"}
            if entity.get("entity") == "plan_choice":
                return parse_choice(str(entity.get("value")), self.count)
        return parse_choice(text, self.count)

    @staticmethod
    def new_terms(text: str) -> bool:
        """A new amount or frequency ("actually 40 a month", "can it be monthly") means: offer again."""
        said = parse_affordability(text)
        return said.amount_cents is not None or said.frequency is not None


# --- asking ----------------------------------------------------------------------------------------------------


def amount_question(frequencies: list[str] | tuple[str, ...], hint: str | None, language: str | None = None) -> str:
    """What they can pay, asked in the words of the schedules this creditor allows."""
    known = ("weekly", "biweekly", "monthly")

    def say(key: str, **values: object) -> str:
        return wording.say(key, language, **values)

    asked = parse_affordability(hint or "").frequency
    if asked in frequencies:
        question = say("plan_ask_each", every=say(f"plan_each_{asked}"))
    elif len(frequencies) == 1:
        only = frequencies[0] if frequencies[0] in known else "other"
        question = say("plan_ask_each", every=say(f"plan_each_{only}"))
    else:
        shown = [say(f"plan_example_{f}") for f in frequencies if f in known][:2]
        question = say("plan_ask_how_often", examples=f" {say('or')} ".join(shown))
    return say("plan_amount_intro", question=question)


class ActionAskPlanRequest(Action):
    def name(self) -> str:
        return "action_ask_plan_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = tracker.get_slot("plan_offer") or {}
        dispatcher.utter_message(text=amount_question(context.get("frequencies") or ["monthly"], context.get("hint"),
                                                      language_of(tracker)))
        return [SlotSet("plan_prompt", None)]


class ActionAskPlanChoice(Action):
    """PLAN-1: up to 3 options, each with the amounts, the number of payments, the dates and the total; as buttons
    and as numbered lines, so a typed digit works over SMS. Below-policy requests get the engine's note first."""

    def name(self) -> str:
        return "action_ask_plan_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = tracker.get_slot("plan_offer") or {}
        currency = context.get("currency") or "USD"
        speaks = language_of(tracker)
        options = [service.option_from_dict(o) for o in context.get("options") or []]
        if not options:
            dispatcher.utter_message(text=say("plan_lost_track", tracker))
            return [SlotSet("plan_prompt", None)]
        buttons = [{"title": f"{n}. {service.option_summary(o, currency, speaks)}",
                    "payload": f'/choose_option{{"plan_choice":"{n}"}}'} for n, o in enumerate(options, 1)]
        if context.get("needs_person"):
            buttons.append(person_button(speaks))  # PLAN-4: far from what they can pay, so a person is offered
        pick = say("plan_pick", tracker, numbers=numbers_text(len(options), speaks))
        if tracker.get_slot("plan_prompt") == SHORT:
            dispatcher.utter_message(text=f"{say('sorry_again', tracker)} {pick}", buttons=buttons)
            return [SlotSet("plan_prompt", None)]
        again = tracker.get_slot("plan_prompt") == AGAIN
        note = None if again else context.get("note")
        if context.get("needs_person"):
            note = " ".join((note or say("plan_person_note", tracker), say("plan_person_next", tracker)))
        if note:
            dispatcher.utter_message(text=note)
        lines = "\n".join(f"{n}. {describe_option(o, currency, speaks)}" for n, o in enumerate(options, 1))
        heading = say(f"plan_heading_{'one' if len(options) == 1 else 'many'}{'_again' if again else ''}", tracker)
        dispatcher.utter_message(text=f"{heading}\n{lines}\n{pick}", buttons=buttons)
        return [SlotSet("plan_prompt", None)]


class ActionAskPlanConsent(Action):
    """PLAN-1 and PLAN-2: the complete terms of the chosen option, then a request for an explicit yes. The terms
    text shown is kept, and accept() checks it is exactly what gets stored."""

    def name(self) -> str:
        return "action_ask_plan_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = dict(tracker.get_slot("plan_offer") or {})
        speaks = language_of(tracker)
        if tracker.get_slot("plan_prompt") == SHORT and context.get("shown"):
            dispatcher.utter_message(text=say("plan_consent_again", tracker), buttons=yes_buttons(speaks))
            return [SlotSet("plan_prompt", None)]
        try:
            option = service.option_from_dict(context["options"][int(tracker.get_slot("plan_choice")) - 1])
        except (TypeError, ValueError, KeyError, IndexError):
            dispatcher.utter_message(text=say("plan_lost_track", tracker))
            return [SlotSet("plan_prompt", None)]
        terms = service.terms_text(option, context.get("currency") or "USD", speaks)
        dispatcher.utter_message(text=terms)
        dispatcher.utter_message(text=say("plan_consent_prompt", tracker), buttons=yes_buttons(speaks))
        context["shown"] = terms
        return [SlotSet("plan_prompt", None), SlotSet("plan_offer", context)]


class ActionPlanFinish(Action):
    """After the form: the written confirmation with the reference and schedule (PLAN-2), or a polite close."""

    def name(self) -> str:
        return "action_plan_finish"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = tracker.get_slot("plan_offer") or {}
        outcome = context.get("outcome")
        if outcome == ACCEPTED and context.get("reference"):
            with session_scope(engine()) as session:
                plan = session.scalar(select(Plan).where(Plan.reference == context["reference"]))
                account = session.get(Account, plan.account_id) if plan is not None else None
                messages: list[str] = []
                if plan is not None and account is not None:
                    # What happens next is the first payment's own secure link, not a promise of one (PCI-1).
                    speaks = language_of(tracker)
                    first = payments.first_payment_message(session, plan, tracker.sender_id, settings(),
                                                           language=speaks)
                    messages = service.confirmation(plan, account.currency, next_step=first, language=speaks)
                    copies.email_copy(session, account, copies.PLAN_CONFIRMATION, "\n\n".join(messages),
                                      datetime.now(timezone.utc))  # a copy to keep, with E-SIGN consent
            for text in messages:
                dispatcher.utter_message(text=text)
        elif outcome == DECLINED:
            dispatcher.utter_message(text=say("plan_declined", tracker))
        return [SlotSet(slot, None) for slot in PLAN_SLOTS]

"""Pay now (PCI-1, DSP-2, TONE-2): thin adapters over bot/payments/service.py.

action_answer_request calls start_pay_now() when a verified debtor asks to pay. A held account gets the hold's
reason and nothing else (DSP-2: no link, no ask). Otherwise payment_form runs:
  payment_amount   which amount: a button (full balance, the plan's next payment, a settlement the policy allows)
                   or a typed amount ("$200", "the full balance"), each checked against the ledger;
  payment_confirm  the amount said back exactly, and an explicit yes;
then action_payment_finish sends a short link of ours (single use, expiring, bound to the account and amount).
The card is typed only on Stripe's hosted page, never in the chat (PCI-1).
"""

from __future__ import annotations

import re
import unicodedata

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import engine, settings
from actions.form_turn import FormTurn
from actions.forms import DeclaredForm
from actions.language import language_of, numbers_text, say
from bot import accounts, wording
from bot.db import session_scope
from bot.money import format_cents
from bot.payments import service
from bot.plans.service import is_explicit_yes

PAYMENT_FORM = "payment_form"
FORM_SLOTS = ("payment_amount", "payment_confirm")
PAYMENT_SLOTS = (*FORM_SLOTS, "payment_offer", "payment_prompt")
ACCEPTED, DECLINED, STOPPED = "accepted", "declined", "stopped"
SHORT = "short"

# The words are in bot/wording/ under these keys, one text per language.
DECLINED_MESSAGE = wording.say("pay_declined")  # the English ones, by their old names
PLAN_INSTEAD = wording.say("pay_plan_instead")
FINISH_PLAN_FIRST = wording.say("pay_finish_plan_first")


def yes_buttons(language: str | None) -> list[dict[str, str]]:
    return [{"title": wording.say("pay_yes_button", language), "payload": "/affirm"},
            {"title": wording.say("pay_no_button", language), "payload": "/deny"}]


YES_BUTTONS = yes_buttons(None)
# English, and Spanish as people text it (accents dropped by _plain: "si", "olvidelo").
_DECLINE = re.compile(r"\b(?:never\s*mind|nevermind|nvm|cancel|forget it|not now|not today|no thanks?|"
                      r"maybe later|i'?ll pass|don'?t want to pay|no gracias|ahorita no|ahora no|mejor no|"
                      r"olvidelo|olvidalo|dejelo|dejalo|hoy no|no quiero pagar)\b")
_OK = re.compile(r"(?:ok|okay|sure|correct|right|that'?s right|yes please|yep|yeah|yup|sounds good|go ahead|"
                 r"send it|send the link|please do|si|claro|correcto|esta bien|dale|de acuerdo|si por favor|"
                 r"mandelo|mandemelo|envielo|si mandelo)(?: (?:please|thanks|thank you|por favor|gracias))?")
_NO = re.compile(r"(?:no|nope|nah|n|wrong|not right|change it|different amount|go back|esta mal|no es correcto|"
                 r"otra cantidad|cambiarlo|cambiar)")
_CHOICE_PAYLOAD = re.compile(r'"payment_choice"\s*:\s*"(\w+)"')


async def start_pay_now(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """A verified debtor asked to pay: the disclosure if owed (DISC-1), then the reason nothing can be paid, or
    the amount question (prefilled when their message already said how much)."""
    active = (tracker.active_loop or {}).get("name")
    if active == "plan_form":
        dispatcher.utter_message(text=say("pay_finish_plan_first", tracker))
        return []
    cleared = [SlotSet(slot, None) for slot in PAYMENT_SLOTS]
    request = _request_text(tracker)
    try:
        with session_scope(engine()) as session:
            opening = accounts.opening_disclosure(session, tracker.sender_id)
            named = accounts.focus(session, tracker.sender_id, request)  # "pay my Contoso one"
            others = accounts.other_payable(session, tracker.sender_id)
            options = service.pay_options(session, tracker.sender_id, language_of(tracker))
    except accounts.NotVerified:
        dispatcher.utter_message(response="utter_verification_stopped")
        return [SlotSet("verified", False), *cleared]
    for line in opening:
        dispatcher.utter_message(text=line)
    if options.refusal:
        dispatcher.utter_message(text=options.refusal)  # DSP-2 and other holds: the reason, never a link
        return cleared
    events: list[EventType] = [*cleared, SlotSet("payment_offer", {})]
    understood = service.understand(options, request)
    # Two debts and words naming neither: the debtor chooses which (the amount question lists the other).
    if (understood.choice is not None or understood.problem) and (named is not None or not others):
        events.append(SlotSet("payment_amount", request))  # validated by the form when it opens
    return [*events, FollowupAction(PAYMENT_FORM)]


def _request_text(tracker: Tracker) -> str:
    """The message that asked to pay ("I want to pay $200"), even when verification came in between."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and \
                (event.get("parse_data") or {}).get("intent", {}).get("name") == "pay_now":
            return event.get("text") or ""
    return ""


def _just_heard_the_user(tracker: Tracker) -> bool:
    steps = [e for e in tracker.events if e.get("event") in ("user", "action")]
    before = steps[-2] if len(steps) >= 2 else None
    return before is not None and (before.get("event") == "user" or before.get("name") == "action_listen")


def _plain(text: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9$.' ]", " ", folded.replace("’", "'")).split())


class ValidatePaymentForm(DeclaredForm, FormValidationAction):
    """One turn of the payment conversation; always says which slot comes next (None: the form ends)."""

    def name(self) -> str:
        return "validate_payment_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        candidates = {k: v for k, v in tracker.slots_to_validate().items() if k in FORM_SLOTS and v is not None}
        if not candidates and _just_heard_the_user(tracker):
            return []  # an interruption: a rule answers it and the form comes back
        turn = _Turn(dispatcher, tracker)
        if "payment_amount" in candidates:
            turn.on_amount(str(candidates["payment_amount"]))
        elif "payment_confirm" in candidates:
            turn.on_confirm(str(candidates["payment_confirm"]))
        else:
            turn.next_slot = next((s for s in FORM_SLOTS if tracker.get_slot(s) is None), None)
        return turn.events()


class _Turn(FormTurn):
    context_slot = "payment_offer"

    def options(self) -> service.PayOptions | None:
        """Read from the ledger at every step (TONE-2): a balance that changed mid-conversation is never missed."""
        try:
            with session_scope(engine()) as session:
                return service.pay_options(session, self.tracker.sender_id, language_of(self.tracker))
        except accounts.NotVerified:
            self.dispatcher.utter_message(response="utter_verification_stopped")
            self.slots["verified"] = False
            self.end(STOPPED)
            return None

    def on_amount(self, text: str) -> None:
        options = self.options()
        if options is None:
            return
        if options.refusal:
            self.dispatcher.utter_message(text=options.refusal)
            return self.end(STOPPED)
        said = _plain(text)
        if self.intent in ("deny", "goodbye") or _DECLINE.search(said):
            return self.end(DECLINED)
        with session_scope(engine()) as session:
            named = accounts.focus(session, self.tracker.sender_id, text)
        if named is not None:  # another of their accounts: its options, in full
            self.slots.update(payment_amount=None, payment_prompt=None)
            self.next_slot = "payment_amount"
            return None
        understood = service.understand(options, text, self.picked(text, options))
        if understood.asks_balance:  # answered from the ledger (TONE-2), then "how much?" again
            self.dispatcher.utter_message(text=say("status_balance", self.tracker, creditor=options.creditor,
                                                   amount=format_cents(options.balance_cents, options.currency)))
            return self.ask_again("payment_amount")
        if "?" in text and not re.search(r"[0-9]", text):
            return self.ask_again("payment_amount")  # a question, not an amount: the options again
        # The words decide before the NLU's guess: a bare "$125.50" is an amount to pay now, whatever intent the
        # model gives a lone figure (it has read one as a plan request); "$150 a month" or "a plan" is a plan.
        names_an_amount = understood.choice is not None or understood.problem is not None
        if understood.wants_plan or (self.intent == "request_payment_plan" and not names_an_amount):
            self.dispatcher.utter_message(text=say("pay_plan_instead", self.tracker))
            return self.end(STOPPED)
        if understood.problem:
            self.dispatcher.utter_message(text=understood.problem)
            return self.ask_again("payment_amount")
        if understood.choice is None:
            return self.ask_again("payment_amount")
        self.choose(understood.choice)

    def on_confirm(self, text: str) -> None:
        said = _plain(text)
        if text.strip().startswith("/affirm") or self.intent == "affirm" or is_explicit_yes(text) or \
                _OK.fullmatch(said):
            return self.send_link()
        if _DECLINE.search(said) or self.intent == "goodbye":
            return self.end(DECLINED)
        options = self.options()
        if options is None:
            return
        understood = service.understand(options, text, self.picked(text, options))
        if understood.choice is not None:
            return self.choose(understood.choice)  # a different amount: confirm that one instead
        if understood.problem:
            self.dispatcher.utter_message(text=understood.problem)
            return self.back()
        if text.strip().startswith("/deny") or self.intent == "deny" or _NO.fullmatch(said):
            return self.back()
        self.ask_again("payment_confirm")

    def picked(self, text: str, options: service.PayOptions) -> str | None:
        """A button: /choose_option{"payment_choice":"balance"}; or a typed digit picking the nth option."""
        for entity in self.entities:
            if entity.get("entity") == "payment_choice":
                return str(entity.get("value"))
        match = _CHOICE_PAYLOAD.search(text)
        if match:
            return match.group(1)
        digit = re.fullmatch(r"\s*#?\s*([1-9])\s*[.)]?\s*", text)
        if digit and int(digit.group(1)) <= len(options.choices):
            return options.choices[int(digit.group(1)) - 1].kind
        return None

    def choose(self, choice: service.PayChoice) -> None:
        self.context["choice"] = {"kind": choice.kind, "amount_cents": choice.amount_cents,
                                  "installment_id": choice.installment_id, "plan_id": choice.plan_id,
                                  "settles_cents": choice.settles_cents}
        self.slots.update(payment_amount=str(choice.amount_cents), payment_confirm=None, payment_prompt=None)
        self.next_slot = "payment_confirm"

    def back(self) -> None:
        self.context.pop("choice", None)
        self.slots.update(payment_amount=None, payment_confirm=None, payment_prompt=None)
        self.next_slot = "payment_amount"

    def ask_again(self, slot: str) -> None:
        self.slots.update({slot: None, "payment_prompt": SHORT})
        self.next_slot = slot

    def end(self, outcome: str) -> None:
        self.context["outcome"] = outcome
        self.slots.update(payment_prompt=None)
        self.next_slot = None

    def send_link(self) -> None:
        """PCI-1: the link to the hosted page, made only now, after the yes, and checked against the ledger."""
        data = self.context.get("choice") or {}
        try:
            choice = service.PayChoice(kind=data["kind"], amount_cents=int(data["amount_cents"]), label="",
                                       installment_id=data.get("installment_id"), plan_id=data.get("plan_id"),
                                       settles_cents=data.get("settles_cents"))
        except (KeyError, TypeError, ValueError):
            return self.back()
        try:
            with session_scope(engine()) as session:
                link = service.create_pay_link(session, self.tracker.sender_id, choice, settings(),
                                               language=language_of(self.tracker))
        except service.PaymentRefused as refused:
            self.dispatcher.utter_message(text=refused.message)
            return self.end(STOPPED)
        except accounts.NotVerified:
            self.dispatcher.utter_message(response="utter_verification_stopped")
            self.slots["verified"] = False
            return self.end(STOPPED)
        self.context["link_message"] = link.message
        self.slots["payment_confirm"] = "yes"
        self.end(ACCEPTED)


class ActionAskPaymentAmount(Action):
    """The options, from the ledger, as buttons and numbered lines (a typed digit works over SMS)."""

    def name(self) -> str:
        return "action_ask_payment_amount"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            with session_scope(engine()) as session:
                options = service.pay_options(session, tracker.sender_id, language_of(tracker))
        except accounts.NotVerified:
            dispatcher.utter_message(response="utter_verification_stopped")
            return [SlotSet("verified", False)]
        if options.refusal:
            dispatcher.utter_message(text=options.refusal)
            return [SlotSet("payment_prompt", None)]
        buttons = [{"title": f"{n}. {c.label}", "payload": f'/choose_option{{"payment_choice":"{c.kind}"}}'}
                   for n, c in enumerate(options.choices, 1)]
        pick = service.pick_prompt(options, numbers_text(len(buttons), language_of(tracker)))
        if tracker.get_slot("payment_prompt") == SHORT:
            dispatcher.utter_message(text=f"{say('sorry_again', tracker)} {pick}", buttons=buttons)
        else:
            balance = format_cents(options.balance_cents, options.currency)
            lines = "\n".join(b["title"] for b in buttons)
            ask = say("pay_how_much", tracker, creditor=options.creditor, balance=balance)
            with session_scope(engine()) as session:
                others = [f"{a.creditor} ({format_cents(a.balance_cents, a.currency)})"
                          for a in accounts.other_payable(session, tracker.sender_id)]
            also = f"\n{say('pay_other_accounts', tracker, others=', '.join(others))}" if others else ""
            dispatcher.utter_message(text=f"{ask}\n{lines}\n{pick}{also}", buttons=buttons)
        return [SlotSet("payment_prompt", None)]


class ActionAskPaymentConfirm(Action):
    """The exact amount, said back, before any link is made."""

    def name(self) -> str:
        return "action_ask_payment_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        data = (tracker.get_slot("payment_offer") or {}).get("choice") or {}
        try:
            with session_scope(engine()) as session:
                options = service.pay_options(session, tracker.sender_id, language_of(tracker))
        except accounts.NotVerified:
            dispatcher.utter_message(response="utter_verification_stopped")
            return [SlotSet("verified", False)]
        if not data or options.refusal:
            dispatcher.utter_message(text=options.refusal or say("pay_lost_track", tracker))
            return [SlotSet("payment_prompt", None)]
        choice = service.PayChoice(kind=data["kind"], amount_cents=int(data["amount_cents"]), label="",
                                   installment_id=data.get("installment_id"), settles_cents=data.get("settles_cents"))
        if tracker.get_slot("payment_prompt") == SHORT:
            text = say("pay_confirm_again", tracker, amount=format_cents(choice.amount_cents, options.currency))
        else:
            text = service.confirmation_question(options, choice)
        dispatcher.utter_message(text=text, buttons=yes_buttons(language_of(tracker)))
        return [SlotSet("payment_prompt", None)]


class ActionPaymentFinish(Action):
    """After the form: the link (PCI-1), or a polite close. The slots are cleared either way."""

    def name(self) -> str:
        return "action_payment_finish"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        context = tracker.get_slot("payment_offer") or {}
        outcome = context.get("outcome")
        if outcome == ACCEPTED and context.get("link_message"):
            dispatcher.utter_message(text=context["link_message"])
        elif outcome == DECLINED:
            dispatcher.utter_message(text=say("pay_declined", tracker))
        return [SlotSet(slot, None) for slot in PAYMENT_SLOTS]

"""What the exploratory debtors of 2026-12-07 (h-debtor) met on the demo, end to end through the gateway (real Rasa,
action server and app database): a "do I have to pay now?" at the dispute menu answered with a payment ask and the
dispute dropped (DSP-1, DSP-2, DSP-3), "this isn't my debt" shown the reason menu (DSP-1), and a stop of automatic
payments asked before verification that named the plan and its next payment before the debt-collector disclosure
(DISC-1)."""

from __future__ import annotations

import pytest

from bot.compliance.disclosures import DEBT_COLLECTOR_DISCLOSURE
from tests.integration.chat import Chat
from tests.integration.test_plan_requests import _autopay_plan

pytestmark = pytest.mark.integration

def _verify(chat: Chat, reference: str) -> list[str]:
    said: list[str] = []
    for answer in ("11/02/1985", "5678", reference):
        said += chat.say(answer)
    return said


@pytest.mark.parametrize("asked", ["cancel my autopay please", "stop the automatic payments"])
def test_DISC_1_an_autopay_stop_asked_before_verifying_is_confirmed_after_the_disclosure(running_stack, asked):
    """The debtor asked "cancel my autopay please" before verifying; at verification the first thing they read was
    "Done. Automatic payments for plan PLN-... are off now" and "Next payment: $800.00 on ...", and only then "This
    is a debt collector...". The first message with debt information must carry the disclosure (DISC-1): it now
    comes first, once.

    Mutation tried: the `accounts.opening_disclosure` call removed from autopay.honour_earlier_request -> the
    plan's confirmation before the disclosure (fails)."""
    chat = Chat(running_stack, "autopaydisc")
    reference = chat.new_debtor()
    plan, _ = _autopay_plan(chat, reference)
    chat.say(asked)
    said = _verify(chat, reference)
    revoked = next(i for i, text in enumerate(said) if plan in text)
    assert said.count(DEBT_COLLECTOR_DISCLOSURE) == 1, said
    assert said.index(DEBT_COLLECTOR_DISCLOSURE) < revoked, said


def test_DISC_1_no_autopay_to_stop_is_said_after_the_disclosure(running_stack):
    """The same with no automatic payments on: "Automatic payments are not on for you ... Say 'my plan' to see your
    plan" came before the disclosure. Mutation tried: as above -> the answer before the disclosure (fails)."""
    chat = Chat(running_stack, "autopaynone")
    reference = chat.new_debtor()
    chat.say("stop my automatic payments")
    said = _verify(chat, reference)
    none = next(i for i, text in enumerate(said) if "Automatic payments are not on" in text)
    assert said.count(DEBT_COLLECTOR_DISCLOSURE) == 1 and said.index(DEBT_COLLECTOR_DISCLOSURE) < none, said

"""What a person at the agent console may not send, found by exploratory testing of the running demo (the replies
went out): payment asks on a held account (DSP-2, DSP-3), identifying words before verification (ID-1, ID-2,
DISC-3), discounts above the creditor's policy and same-day settlement pressure (TONE-2, TONE-1), and card or SSN
requests and other places to pay (PCI-1, PCI-2). Next to each block, the ordinary replies that must still go out,
in English and Spanish: a gate that blocked everything would pass the block tests too."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import conversations, disputes, handoff
from bot.agents import queue, replies, users
from bot.compliance import amounts, holds
from bot.config import Settings
from bot.db import session_scope
from bot.money import format_cents
from tests.conftest import add_debtor

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def _taken(session, *, verified: bool = True, creditor: str = "Acme Bank", balance_cents: int = 74218,
           external_id: str = "w-limits"):
    """A web conversation, queued and taken by agent Ana; verified as SET-100014's debtor unless `verified` is
    False (then nobody is known yet). Other debtors are in the portfolio too."""
    debtor, account = add_debtor(session, account_ref="SET-100014", first_name="Fatima", last_name="Okafor",
                                 creditor=creditor, balance_cents=balance_cents, phone="+15555550114")
    add_debtor(session, account_ref="SET-100018", first_name="Marcus", last_name="Johnson",
               creditor="Contoso Card Services", phone="+15555550118")
    add_debtor(session, account_ref="SET-100019", first_name="Lena", last_name="Park", creditor="Woodgrove Bank",
               phone="+15555550119")
    conversation = conversations.get_or_create(session, "web", external_id)
    if verified:
        conversation.debtor_id, conversation.account_id, conversation.verified_at = debtor.id, account.id, NOW
    conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                 text="Can a human help me please")
    agent = users.create_user(session, "ana", PASSWORD, "agent", display_name="Ana")
    queued = handoff.request(session, conversation.id, "request_human", rule_id="HO-1",
                             account_id=account.id if verified else None)
    queue.claim(session, queued.id, agent)
    return queued, agent, account, conversation


# --- G1: DSP-2 / DSP-3: no payment ask, figure or deadline on a disputed account, in any words --------------------

DISPUTED_ASKS = [
    "You can pay the $742.18 today to clear this.",
    "Pay by Friday or we escalate.",
    "Sending $742.18 by Friday would close this out.",
    "If you could get it to us by Friday that would help.",
    "Puede pagar los $742.18 hoy para cerrar esto.",
    "Pague antes del viernes, por favor.",
]
DISPUTE_HANDLING = [
    "We're looking into your dispute.",
    "We'll send you what we find in writing.",
    "Your account is on hold.",
    "There's nothing to pay right now while we check. Is there anything else I can help with?",
    "Estamos revisando su disputa.",
    "Le enviaremos lo que encontremos por escrito.",
    "Su cuenta está en pausa. No tiene que pagar nada mientras revisamos.",
]


@pytest.mark.parametrize("text", DISPUTED_ASKS)
def test_DSP_2_DSP_3_an_agent_cannot_ask_for_or_price_a_payment_on_a_disputed_account_in_any_words(engine, text):
    """The tester's three replies went out: only fixed phrases were held. Mutation tried: the payment_talk check
    removed from outbound_gate._person_rules -> every line here went out (the $742.18 is the ledger's, so TONE-2
    did not hold it either)."""
    with session_scope(engine) as session:
        queued, agent, _account, conversation = _taken(session)
        disputes.record_dispute(session, conversation.id, "all")
        posted = replies.record_reply(session, queued.id, agent, text)
    assert not posted.sent and "DSP-2" in posted.rule_ids, (text, posted.rule_ids)
    assert any("on hold" in reason for reason in posted.reasons)


@pytest.mark.parametrize("text", DISPUTE_HANDLING)
def test_DSP_2_neutral_dispute_handling_replies_still_go_out_in_both_languages(engine, text):
    with session_scope(engine) as session:
        queued, agent, _account, conversation = _taken(session)
        disputes.record_dispute(session, conversation.id, "all")
        posted = replies.record_reply(session, queued.id, agent, text)
    assert posted.sent, (text, posted.rule_ids, posted.reasons)


# --- G2: ID-1 / ID-2 / DISC-3: before verification, no creditor, account reference or debtor name ---------------

UNVERIFIED_LEAKS = [
    "Hello Marcus Johnson, I see you have an account with Contoso Card Services, reference SET-100018.",
    "Acme Bank asked us to reach you.",
    "Hi Fatima, I can see your Woodgrove Bank account here.",
    "Is this about account SET-100014?",
    "Is this about SET 100019?",
    "Hola Lena, ¿es sobre la cuenta SET-100019?",
    "Hola, ¿es usted cliente de Woodgrove Bank?",
    "Hi Fatima, how can I help today?",
    "Hola Lena, ¿en qué le puedo ayudar?",
]
BEFORE_VERIFICATION_FINE = [
    "Hi, I'm Ana. I can help once I know who I'm talking to. What is your date of birth?",
    "Thanks. What is your ZIP code and the account number from our letter?",
    "Hola, soy Ana. ¿Cuál es su fecha de nacimiento?",
    "Gracias. ¿Me da su código postal?",
    # A month and a year, or "in 2025", is no account reference (the shape needs a joined reference or 5+ digits).
    "We have been helping people since March 2026. Who am I talking to?",
    "Our office opened in 2025. What is your date of birth?",
]


@pytest.mark.parametrize("text", UNVERIFIED_LEAKS)
def test_ID_1_ID_2_an_agent_names_no_creditor_reference_or_debtor_to_an_unverified_visitor(engine, text):
    """The visitor is anonymous: the web conversation reaches no account, so only the portfolio's own words can
    be checked. Mutation tried: the portfolio_names check removed from outbound_gate._person_rules -> all nine
    went out; portfolio_words without the debtor names -> the two lines with only a first name went out."""
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, verified=False)
        posted = replies.record_reply(session, queued.id, agent, text)
    assert not posted.sent and "ID-1" in posted.rule_ids, (text, posted.rule_ids)
    assert any("before the debtor is verified" in reason for reason in posted.reasons)  # the agent is told why


@pytest.mark.parametrize("text", BEFORE_VERIFICATION_FINE)
def test_ID_1_verification_questions_still_go_out_before_verification(engine, text):
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, verified=False)
        posted = replies.record_reply(session, queued.id, agent, text)
    assert posted.sent, (text, posted.rule_ids, posted.reasons)


def test_ID_1_a_creditor_added_to_the_portfolio_is_known_to_the_next_check(engine):
    """The portfolio's words are kept per process and read again when the portfolio changes."""
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, verified=False)
        assert replies.record_reply(session, queued.id, agent, "Are you with Fabrikam Lending?").sent
        add_debtor(session, account_ref="SET-100077", first_name="Omar", last_name="Haddad",
                   creditor="Fabrikam Lending", phone="+15555550177")
        posted = replies.record_reply(session, queued.id, agent, "Are you with Fabrikam Lending?")
    assert not posted.sent and "ID-1" in posted.rule_ids


# --- G4: TONE-2 and the plan policy: no discount above the creditor's policy, no same-day settlement pressure ------

@pytest.mark.parametrize("creditor,balance_cents,too_much,within", [
    ("Acme Bank", 123456, "We can take 50% off the balance.", "We can take 20% off the balance."),
    ("Woodgrove Bank", 300000, "We can take 20% off the balance.", "We can take 15% off the balance."),
    ("Acme Bank", 123456, "Podemos hacerle un descuento del 50%.", "Podemos hacerle un descuento del 20%."),
])
def test_TONE_2_a_discount_above_the_creditors_policy_is_blocked_and_one_within_it_goes_out(
        engine, creditor, balance_cents, too_much, within):
    """Acme Bank allows at most 20% off (policy/plan_policy.yml); the default policy 15% for $2,000-$9,999.99.
    Mutation tried: the percents_off check removed from outbound_gate._person_rules -> the 50% and 20% offers went
    out; `percent > most` made `percent >= most` -> the within-policy offers were blocked."""
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, creditor=creditor, balance_cents=balance_cents)
        blocked = replies.record_reply(session, queued.id, agent, too_much)
        sent = replies.record_reply(session, queued.id, agent, within)
    assert not blocked.sent and "TONE-2" in blocked.rule_ids
    assert any("discount above the creditor's policy" in reason for reason in blocked.reasons)
    assert sent.sent, (within, sent.rule_ids, sent.reasons)


@pytest.mark.parametrize("text", ["We can take 50% off if you pay today.", "We can take 20% off if you pay today.",
                                  "This offer is only good today.", "Le quitamos 20% si paga hoy."])
def test_TONE_1_a_settlement_tied_to_a_same_day_payment_is_false_urgency(engine, text):
    """Mutation tried: the four settlement-urgency patterns deleted from fake_deadline in
    policy/banned_phrases.yml -> all four fail (the 20% ones went out; the 50% one was held only as TONE-2)."""
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, creditor="Acme Bank", balance_cents=123456)
        posted = replies.record_reply(session, queued.id, agent, text)
    assert not posted.sent and "TONE-1" in posted.rule_ids, (text, posted.rule_ids)


# --- G5: PCI-1 / PCI-2: no card details or full SSN in chat, nowhere to pay but our own pay link -----------------

CARD_AND_ELSEWHERE = [
    "Please reply with your card number, expiry and CVV and I will take the payment for you.",
    "Type your card number here and I will run it for you.",
    "You can also pay at https://paypal.me/settlecollections",
    "Or send the money by Zelle to pay@example.net.",
    "Please send your full social security number so I can look you up.",
    "You can pay at https://evil.example/pay/AbC123 too.",
    "Escriba el número de su tarjeta, la fecha de vencimiento y el código de seguridad.",
    "Envíe su número de seguro social completo.",
    "Puede pagar con Venmo o con tarjetas de regalo.",
]


def _own_pay_link() -> str:
    return f"{Settings.from_env().pay_base_url}/pay/AbC123-xyz"


@pytest.mark.parametrize("text", CARD_AND_ELSEWHERE)
def test_PCI_1_an_agent_cannot_ask_for_card_details_or_an_ssn_or_send_anyone_elsewhere_to_pay(engine, text):
    """Mutation tried: the card_or_ssn_requests check removed from outbound_gate._person_rules -> the card and SSN
    lines went out; the elsewhere_to_pay check removed -> the PayPal, Zelle, Venmo and other-site lines went out."""
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, balance_cents=123456)
        posted = replies.record_reply(session, queued.id, agent, text)
    assert not posted.sent and "PCI-1" in posted.rule_ids, (text, posted.rule_ids)


@pytest.mark.parametrize("text", [
    "For your safety, please don't type your card number here. Use the secure payment link instead.",
    "Thanks. What are the last 4 digits of your Social Security number?",
    "Which card did you use last time? Just the name of the bank is fine.",
    "You can read about your rights at https://www.consumerfinance.gov/ask-cfpb/",
    "Por su seguridad, no escriba el número de su tarjeta aquí. Use el enlace seguro.",
    "¿Cuáles son los últimos 4 números de su Seguro Social?",
])
def test_PCI_1_warnings_and_verification_questions_still_go_out(engine, text):
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, balance_cents=123456)
        posted = replies.record_reply(session, queued.id, agent, text)
    assert posted.sent, (text, posted.rule_ids, posted.reasons)


@pytest.mark.parametrize("template", ["Here is your secure payment link: {link}", "Puede pagar aquí: {link}"])
def test_PCI_1_our_own_pay_link_still_goes_out(engine, template):
    """Mutation tried: is_own_pay_link returning False -> both lines were blocked as somewhere else to pay."""
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, balance_cents=123456)
        posted = replies.record_reply(session, queued.id, agent, template.format(link=_own_pay_link()))
    assert posted.sent, (posted.rule_ids, posted.reasons)


def test_TONE_2_a_discount_offered_to_an_unverified_visitor_is_blocked(engine):
    """No account is known yet, so there is no policy a discount could be within. Mutation tried: the
    `offered and not accounts` check removed -> "We can take 10% off." went out to the anonymous visitor."""
    with session_scope(engine) as session:
        queued, agent, _account, _conversation = _taken(session, verified=False)
        posted = replies.record_reply(session, queued.id, agent, "We can take 10% off.")
    assert not posted.sent and "TONE-2" in posted.rule_ids


@given(percent=st.decimals(min_value=1, max_value=99, places=1),
       template=st.sampled_from(["We can take {p}% off.", "A {p} percent discount is possible.",
                                 "Le hacemos un descuento del {p}%.", "Take {p}% off the balance."]))
def test_TONE_2_every_written_discount_is_read_at_its_value(percent, template):
    assert amounts.percents_off(template.format(p=percent)) == [percent]


@given(cents=st.integers(min_value=1, max_value=10_000_000))
def test_DSP_2_any_ledger_figure_on_a_held_account_counts_as_payment_talk(cents):
    """A figure from the ledger is not a typed-in one (TONE-2 lets it through), so on a held account the hold must
    find it itself, however large. Mutation tried: payment_talk without the amounts_in figures -> fails."""
    assert holds.payment_talk(f"It's {format_cents(cents, 'USD')} and we're looking into it.")

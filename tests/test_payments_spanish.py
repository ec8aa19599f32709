"""Pay now in Spanish (issue 23), over the real path: our pay link, the stand-in's checkout, the signed webhook,
the ledger and the receipt the outbox records in the conversation. The language is the conversation's (and the
debtor's, bot/language.py); an English debtor on the same path still reads English."""

from __future__ import annotations

from bot import wording
from bot.db import session_scope
from bot.db.models import Conversation, Debtor
from bot.payments import service
from tests.payments_helpers import (
    balance,
    bot_messages,
    pay_env_fixture,  # noqa: F401 - the pay_env fixture
    payments_of,
    verified_debtor,
)


def _spanish(engine, conversation_id: str) -> None:
    with session_scope(engine) as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.language = "es"
        session.get(Debtor, conversation.debtor_id).language = "es"


def _pay_in_full(env, conversation_id: str, language: str | None) -> str:
    with session_scope(env.engine) as session:
        options = service.pay_options(session, conversation_id, language)
        link = service.create_pay_link(session, conversation_id, options.choice("balance"), env.settings,
                                       language=language)
    env.pay(env.checkout(link.url))
    return link.message


def test_DISC_2_a_spanish_speaking_debtor_gets_the_link_and_the_receipt_in_spanish(pay_env):
    """Mutations tried: language_for() in bot/payments/messages.py returning "en" (the receipt came in English:
    failed); tell_debtor's DISC-2 notice without the language (English notice on a Spanish receipt: failed)."""
    conversation_id, account_id = verified_debtor(pay_env.engine, balance_cents=123456)
    _spanish(pay_env.engine, conversation_id)
    with session_scope(pay_env.engine) as session:
        options = service.pay_options(session, conversation_id, "es")
    assert [c.label for c in options.choices][0] == "Saldo completo: $1,234.56"
    link_message = _pay_in_full(pay_env, conversation_id, "es")
    assert link_message.startswith("Este es su enlace seguro para pagar $1,234.56: ")
    assert balance(pay_env.engine, account_id) == 0
    [payment] = payments_of(pay_env.engine, account_id)
    [receipt] = [m for m in bot_messages(pay_env.engine, conversation_id) if "Recibimos su pago" in m]
    assert receipt.startswith(wording.say("from_debt_collector", "es"))  # DISC-2, in Spanish
    assert f"Su saldo con Acme Bank ahora es $0.00. Número de recibo: {payment.reference}." in receipt
    assert "con su tarjeta Visa que termina en 4242" in receipt
    assert "Su cuenta con Acme Bank ya está pagada por completo." not in receipt  # only a settlement says that
    assert "debt collector" not in receipt and "Thank you" not in receipt


def test_an_english_debtor_on_the_same_path_still_reads_english(pay_env):
    conversation_id, _ = verified_debtor(pay_env.engine, balance_cents=5000)
    assert _pay_in_full(pay_env, conversation_id, None).startswith("Here's your secure link to pay $50.00: ")
    [receipt] = [m for m in bot_messages(pay_env.engine, conversation_id) if "We received your payment" in m]
    assert receipt.startswith("This message is from a debt collector.")

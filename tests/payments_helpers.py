"""Shared by the payment tests: a Stripe stand-in and a gateway on loopback ports (in threads, over real HTTP),
the real stripe SDK pointed at the stand-in, and a verified debtor to pay with."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.db.models import (
    Account,
    AutopayAuthorisation,
    Conversation,
    Installment,
    LedgerEntry,
    Message,
    Payment,
    Plan,
)
from bot.gateway.app import create_app as create_gateway
from bot.payments import service
from bot.payments.stripe_client import build_client
from stripe_standin import create_app as create_standin
from stripe_standin.testing import ServerThread, free_port
from tests.conftest import add_debtor

WEBHOOK_SECRET = "whsec_test_" + secrets.token_hex(8)
CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0027 6000 3184"


@dataclass
class PayEnv:
    engine: Engine
    settings: Settings
    standin: ServerThread
    gateway: ServerThread
    client: stripe.StripeClient
    state_path: Path  # the stand-in's state file, in the test's own folder

    def restart_standin(self) -> None:
        """Stop the stand-in and start a new one on the same port and state file, as stopping and starting `make
        run` does: the objects come back from the file; webhook events still pending would be dropped (none are:
        it waits for them first)."""
        self.idle()
        port = self.standin.port
        self.standin.stop()
        self.standin = start_standin(self.state_path, port, self.gateway.url)

    # --- the stand-in's knobs ----------------------------------------------------------------------------------

    def knob(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.standin.url}/_standin/{path}", json=body, timeout=30)
        assert response.status_code < 500, response.text
        return response.json()

    def idle(self) -> None:
        """Wait until every webhook has been delivered (and answered) by the gateway."""
        assert self.knob("GET", "webhooks/idle")["idle"]

    def pay(self, session_id: str, card: str = CARD_OK, **extra: Any) -> dict[str, Any]:
        outcome = self.knob("POST", f"checkout/{session_id}/pay", {"card": card, **extra})
        self.idle()
        return outcome

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.knob("GET", "events")["events"] if type_ is None or e["type"] == type_]

    def requests(self, path: str, method: str = "POST") -> list[dict[str, Any]]:
        return [r for r in self.knob("GET", "requests")["requests"] if r["path"] == path and r["method"] == method]

    # --- the debtor's side -------------------------------------------------------------------------------------

    def follow(self, url: str) -> httpx.Response:
        """A browser following our pay link (without following the redirect)."""
        return httpx.get(url, follow_redirects=False, timeout=30)

    def checkout(self, url: str) -> str:
        """Follow a pay link; the Checkout Session id it redirects to."""
        response = self.follow(url)
        assert response.status_code == 303, response.text
        return response.headers["location"].rsplit("/", 1)[1]


def start_standin(state_path: Path, port: int | None = None, gateway_url: str | None = None) -> ServerThread:
    """A stand-in keeping its objects in `state_path` (as `make run`'s does in var/), sending webhooks to the
    gateway once there is one."""
    standin = ServerThread(create_standin(webhook_secret=WEBHOOK_SECRET, state_path=state_path), port=port).start()
    if gateway_url:
        httpx.post(f"{standin.url}/_standin/webhooks/endpoint",
                   json={"url": f"{gateway_url}/webhooks/stripe", "secret": WEBHOOK_SECRET}).raise_for_status()
    return standin


@pytest.fixture(name="pay_env")
def pay_env_fixture(engine: Engine, tmp_path: Path) -> Iterator[PayEnv]:
    """Import it as `pay_env_fixture` (noqa: F401); tests ask for `pay_env`."""
    state_path = tmp_path / "stripe-standin.db"
    standin = start_standin(state_path)
    port = free_port()
    settings = Settings(database_url=str(engine.url.render_as_string(hide_password=False)),
                        stripe_api_base=standin.url, stripe_webhook_secret=WEBHOOK_SECRET,
                        stripe_timeout_seconds=1.5, stripe_max_network_retries=1,
                        gateway_url=f"http://127.0.0.1:{port}", widget_secret="test-widget-secret")
    gateway = ServerThread(create_gateway(settings), port=port).start()
    httpx.post(f"{standin.url}/_standin/webhooks/endpoint",
               json={"url": f"{gateway.url}/webhooks/stripe", "secret": WEBHOOK_SECRET})
    env = PayEnv(engine, settings, standin, gateway, build_client(settings), state_path)
    yield env
    gateway.stop()
    env.standin.stop()


def verified_debtor(engine: Engine, balance_cents: int = 50000, creditor: str = "Acme Bank",
                    channel: str = "rest") -> tuple[str, str]:
    """A debtor with one account, chatting now in a verified conversation: (conversation id, account id).

    The debtor's "pay now" is stored as just received, so a receipt answers a live session (TIME-2) whatever the
    wall clock says; without it the receipt is a bot-initiated contact and TIME-1 holds it outside 08:00-20:59."""
    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        debtor, account = add_debtor(session, account_ref=f"PT-{secrets.token_hex(4)}", balance_cents=balance_cents,
                                     creditor=creditor)
        conversation = Conversation(channel=channel, external_id=f"pay-{secrets.token_hex(6)}", debtor_id=debtor.id,
                                    account_id=account.id, verified_at=now, last_activity_at=now)
        session.add(conversation)
        session.flush()
        session.add(Message(conversation_id=conversation.id, direction="in", sender_role="debtor", text="pay now",
                            status="received", created_at=now))
        return conversation.id, account.id


def add_plan(engine: Engine, conversation_id: str, account_id: str, amounts: list[int], first_due: date,
             every_days: int = 30, status: str = "awaiting_first_payment") -> str:
    """A plan as bot/plans/service.accept stores it (tests of the plan flow live elsewhere)."""
    with session_scope(engine) as session:
        plan = Plan(reference=f"PLN-{secrets.token_hex(3).upper()}", account_id=account_id,
                    conversation_id=conversation_id, kind="plan", frequency="monthly", balance_cents=sum(amounts),
                    total_cents=sum(amounts), installment_count=len(amounts), terms_text="terms", status=status,
                    consented_at=datetime.now(timezone.utc), consent_text="YES")
        plan.installments = [Installment(number=n, due_date=first_due + timedelta(days=every_days * (n - 1)),
                                         amount_cents=a) for n, a in enumerate(amounts, 1)]
        session.add(plan)
        session.flush()
        return plan.id


def autopay_plan(engine: Engine, conversation_id: str, account_id: str, card_last4: str = "4242") -> str:
    """An active plan of two $50.00 payments whose first was paid with autopay authorised on a saved Visa (the rows
    the ledger writes, without a checkout: for the consoles' tests). Returns the plan id."""
    plan_id = add_plan(engine, conversation_id, account_id, [5000, 5000], date(2027, 1, 5), status="active")
    with session_scope(engine) as session:
        first = Payment(reference=f"PAY-{secrets.token_hex(3).upper()}", account_id=account_id, plan_id=plan_id,
                        method="checkout", amount_cents=5000, status="succeeded")
        session.add(first)
        session.flush()
        session.add(AutopayAuthorisation(plan_id=plan_id, account_id=account_id, source_payment_id=first.id,
                                         stripe_customer_id="cus_test", stripe_payment_method_id="pm_test",
                                         card_brand="visa", card_last4=card_last4, authorisation_text="I authorise",
                                         authorised_at=datetime.now(timezone.utc)))
    return plan_id


def link_for(env: PayEnv, conversation_id: str, kind: str = "balance", amount: int | None = None) -> str:
    """What the chat does after the debtor confirms: a pay link for one of their options."""
    with session_scope(env.engine) as session:
        options = service.pay_options(session, conversation_id)
        assert options.refusal is None, options.refusal
        choice = options.choice(kind) if amount is None else service.PayChoice("amount", amount, "")
        assert choice is not None, options.choices
        return service.create_pay_link(session, conversation_id, choice, env.settings).url


def balance(engine: Engine, account_id: str) -> int:
    with session_scope(engine) as session:
        return session.get(Account, account_id).balance_cents


def ledger_count(engine: Engine, account_id: str) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.account_id == account_id))


def payments_of(engine: Engine, account_id: str) -> list[Payment]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Payment).where(Payment.account_id == account_id)
                                    .order_by(Payment.created_at)))


def bot_messages(engine: Engine, conversation_id: str) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Message.text).where(Message.conversation_id == conversation_id,
                                                               Message.direction == "out")
                                    .order_by(Message.id)))

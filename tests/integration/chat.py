"""A debtor's side of a conversation with the running stack, over the gateway's REST channel."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select

from bot.db import get_engine, session_scope
from bot.db.models import Conversation
from tests.conftest import add_debtor


def letters(n: int = 10) -> str:
    """Random letters for senders and names: no digit runs for the PCI-3 card scan to trip on."""
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


class Chat:
    def __init__(self, stack, prefix: str = "itest") -> None:
        self.stack = stack
        self.url = f"{stack.config.gateway_url}/webhooks/rest/webhook"
        self.sender = f"{prefix}-{letters()}"
        self.replies: list[str] = []

    def say(self, text: str) -> list[str]:
        response = httpx.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        assert response.status_code == 200
        body = response.json()
        assert all(r["recipient_id"] == self.sender for r in body)
        replies = [r.get("text", "") for r in body]
        self.replies += replies
        return replies

    def session(self):
        return session_scope(get_engine(self.stack.config.database_url))

    def conversation(self, session) -> Conversation:
        return session.scalars(select(Conversation).where(Conversation.external_id == self.sender)).one()

    def new_debtor(self, balance_cents: int = 240000, creditor: str = "Northwind Credit Union") -> str:
        """A debtor of this test's own (born 11/02/1985, SSN last four 5678), not yet verified, so that what one
        test does to an account never leaks into another. Returns the account reference."""
        reference = f"RT-{secrets.randbelow(10**8):08d}"
        with self.session() as session:
            add_debtor(session, account_ref=reference, first_name="Robin", last_name=f"Test{letters()}",
                       dob="1985-11-02", ssn_last4="5678", phone=None, creditor=creditor,
                       balance_cents=balance_cents)
        return reference

    def verify_as_new_debtor(self, request: str = "what do i owe", balance_cents: int = 240000,
                             creditor: str = "Northwind Credit Union") -> str:
        """Verify as a new debtor of this test's own (new_debtor). Returns the account reference."""
        reference = self.new_debtor(balance_cents, creditor)
        asked = " ".join(self.say(request))
        # As a person follows the prompt: a Spanish one asks for day, month and year (LANG-1, ID-2).
        dob = "02/11/1985" if "día, mes y año" in asked else "11/02/1985"
        for answer in (dob, "5678", reference):
            self.say(answer)
        return reference

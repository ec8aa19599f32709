"""The embedded default's mail server: aiosmtpd on loopback. It accepts every message, keeps it in the app
database (mailbox_messages: the demo mailbox at /mailbox reads it) and forwards a message addressed to Settle's own
address (EMAIL_FROM) to the gateway's inbound route, signed as the provider signs it (POST
/webhooks/email/mailgun/inbound, EMAIL_WEBHOOK_SECRET), so a reply joins the debtor's email conversation and is
answered by email exactly as in production. When the gateway cannot be reached the reply is kept and a STOP still
opts out (bot/mail/inbound.handle_reply). Never a relay: nothing it receives goes anywhere else.

`python -m bot.mail.server` (started by `run` in the embedded default, bot/stack.py) also sends the email queue
every few seconds through it (bot.messaging.queue.process_due, email only; texts stay with the jobs)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from bot.config import Settings
from bot.db import get_engine, session_scope
from bot.db.models import MailboxMessage
from bot.mail import inbound, webhooks
from bot.mail.transport import CHANNEL, email_transport, normal_address
from bot.messaging import queue as outbound_queue
from bot.records.listeners import register_flush_listeners

log = logging.getLogger("settle.mail")
DEFAULT_PORT = 2525


# Hands a reply (envelope sender, raw message) to the gateway; True when the gateway stored it.
Forward = Callable[[str, bytes], bool]
INBOUND_PATH = "/webhooks/email/mailgun/inbound"


def signed_form(secret: str, mail_from: str, raw: bytes) -> dict[str, str]:
    """A reply as Mailgun's inbound route posts it with "mime": the whole message and the signature fields."""
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    return {"sender": mail_from, "body-mime": raw.decode("utf-8", "replace"), "timestamp": timestamp,
            "token": token, "signature": webhooks.sign(secret, timestamp, token)}


def gateway_forward(gateway_url: str, secret: str) -> Forward:
    def forward(mail_from: str, raw: bytes) -> bool:
        try:
            answer = httpx.post(f"{gateway_url.rstrip('/')}{INBOUND_PATH}", data=signed_form(secret, mail_from, raw),
                                timeout=60)
        except httpx.HTTPError as exc:
            log.warning("the gateway did not take a reply (%s); it is kept, a STOP still opts out",
                        type(exc).__name__)
            return False
        return answer.status_code == 200

    return forward


class MailboxHandler:
    """aiosmtpd's handler: keep each message; replies to `inbound_address` go to `forward` (the gateway), or to
    inbound.handle_reply when there is none or it failed."""

    def __init__(self, engine: Engine, inbound_address: str, forward: Forward | None = None) -> None:
        self.engine, self.inbound_address, self.forward = engine, normal_address(inbound_address), forward

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        raw = raw if isinstance(raw, bytes) else str(raw).encode()
        await asyncio.to_thread(self.keep, envelope.mail_from or "", list(envelope.rcpt_tos), raw)
        return "250 2.0.0 Message accepted"

    def keep(self, mail_from: str, rcpt_to: list[str], raw: bytes) -> None:
        reply = self.inbound_address in {normal_address(r) for r in rcpt_to}
        if reply:  # PCI-2: a debtor may type a card number into a reply, or its subject; only a redacted copy is kept
            message = inbound.parse(raw)
            kept, subject, message_id = inbound.kept_copy(message), inbound.redacted_header(message["Subject"]), \
                inbound.redacted_header(message["Message-ID"])
        else:
            headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
            kept, subject, message_id = raw.decode("utf-8", "replace"), str(headers["Subject"] or ""), \
                str(headers["Message-ID"] or "")
        with session_scope(self.engine) as session:
            session.add(MailboxMessage(received_at=datetime.now(timezone.utc), mail_from=mail_from[:254],
                                       rcpt_to=rcpt_to, subject=subject[:300] or None,
                                       message_id=message_id[:250] or None, raw=kept))
        if reply and not (self.forward is not None and self.forward(mail_from, raw)):
            inbound.handle_reply(self.engine, mail_from, raw)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (aiosmtpd's controller cannot start on port 0)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start(handler: Any, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> Controller:
    """An SMTP server on host:port in a background thread; `.stop()` it when done."""
    controller = Controller(handler, hostname=host, port=port, ready_timeout=10)
    controller.start()
    return controller


def send_email_queue(engine: Engine, settings: Settings, stop: threading.Event, every: float) -> None:
    transport = email_transport(engine, settings)
    while not stop.is_set():
        try:
            summary = outbound_queue.process_due(engine, transport, channels=(CHANNEL,))
            if summary.sent or summary.deferred or summary.blocked or summary.bounced:
                log.warning("email queue: sent %s, deferred %s, blocked %s, bounced %s", summary.sent,
                            summary.deferred, summary.blocked, summary.bounced)
        except Exception:  # a bad run must not stop the demo's mail; the message stays queued
            log.exception("sending the email queue failed")
        stop.wait(every)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Settle's local mail server (embedded default)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--send-every", type=float, default=5.0, help="seconds between sends of the email queue")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    register_flush_listeners()  # REC-1: what this process stores (sent emails, replies) is sealed in the transcript
    settings = Settings.from_env()
    engine = get_engine(settings.database_url)
    forward = gateway_forward(settings.gateway_url, settings.email_webhook_secret) \
        if settings.email_webhook_secret else None
    controller = start(MailboxHandler(engine, settings.email_from, forward), args.host, args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"settle mail: listening on {args.host}:{args.port}; the demo mailbox is /mailbox", flush=True)
    try:
        send_email_queue(engine, settings, stop, args.send_every)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

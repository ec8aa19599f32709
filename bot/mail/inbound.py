"""Replies to Settle's address (EMAIL_FROM), from the local mail server (embedded) or the provider's inbound route
(production, POST /webhooks/email/mailgun/inbound): `read` turns one into what the pipeline takes, the debtor's
new words and the thread it belongs to. A reply joins the address's email conversation through the same pipeline
as a text or a chat message (stored first, redacted, then answered), and the answer goes back by email in the
same thread (bot/mail/courier.py).

"STOP" or "unsubscribe" (OPT-2's keywords, as the first line of the reply or its subject) opts the sender's address
out of email (EMAIL-2, OPT-3: email only, the phone is untouched); the pipeline answers it with the one opt-out
confirmation 1006.6(e) allows. A START by email does not opt back in: a From line is easy to forge, and a forged
opt-out only means less contact, a forged opt-in would mean more.

`handle_reply` is the fallback when no gateway takes the reply (the local server could not reach it): the opt-out
still works and the reply is kept, unanswered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import Engine

from bot import contact_preferences, conversations
from bot.compliance import keywords, redaction
from bot.db import session_scope
from bot.mail.compose import REPLY_PREFIX
from bot.mail.transport import CHANNEL, normal_address

MAX_TEXT = 2000
# Where the quoted earlier message starts in a reply: "On Tue, ... wrote:", or Outlook's "-----Original Message-----"
_QUOTE_HEADER = re.compile(r"^\s*(on\s.{0,200}\swrote:|-{2,}\s*original message\s*-{2,}|from:\s)", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    """A reply as the pipeline takes it: who, the new words (not the quote), and the thread."""

    sender: str
    text: str
    message_id: str
    subject: str
    references: str
    stop: bool

    def tag(self) -> dict[str, object]:
        """Kept with the stored message: the courier answers in this thread; a replayed Message-ID is dropped."""
        return {"kind": "email_reply", "email": {"message_id": self.message_id[:250], "subject": self.subject[:300],
                                                 "references": self.references[:2000]}}


def _first_line(message: EmailMessage) -> str:
    lines = new_text(message).splitlines()
    return lines[0].strip() if lines else ""


def new_text(message: EmailMessage) -> str:
    """The reply's own words: its plain-text body down to the quoted earlier message."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    kept: list[str] = []
    for line in part.get_content().splitlines():
        if line.lstrip().startswith(">") or _QUOTE_HEADER.match(line):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def asks_to_stop(message: EmailMessage) -> bool:
    subject = REPLY_PREFIX.sub("", str(message["Subject"] or ""))
    return keywords.STOP in (keywords.classify(_first_line(message), "email"), keywords.classify(subject, "email"))


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def read(message: EmailMessage, envelope_from: str = "") -> Reply | None:
    """The reply, or None when it names no sender address. A STOP is the keyword alone, so the pipeline opts out
    and confirms as for a text."""
    sender = normal_address(parseaddr(str(message["From"] or ""))[1] or envelope_from)
    if "@" not in sender or len(sender) > 200:
        return None
    stop = asks_to_stop(message)
    text = "STOP" if stop else " ".join(new_text(message).split("\n")).strip()[:MAX_TEXT]
    return Reply(sender, text, str(message["Message-ID"] or "").strip(), str(message["Subject"] or ""),
                 str(message["References"] or "").strip(), stop)


def handle_reply(engine: Engine, envelope_from: str, raw: bytes) -> bool:
    """Keep the reply and act on a STOP, without the pipeline (see the module docstring); True when it opted the
    address out."""
    reply = read(parse(raw), envelope_from)
    if reply is None:
        return False
    with session_scope(engine) as session:
        conversation = conversations.get_or_create(session, CHANNEL, reply.sender)
        conversations.record_message(session, conversation, direction="in", sender_role="debtor",
                                     text=redaction.redact(reply.text or "(no text)").text[:MAX_TEXT],
                                     payload=reply.tag())
        if reply.stop:
            contact_preferences.opt_out(session, CHANNEL, reply.sender, via="email-reply",
                                        conversation_id=conversation.id)
    return reply.stop

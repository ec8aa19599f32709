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
from html.parser import HTMLParser

from sqlalchemy import Engine

from bot import contact_preferences, conversations
from bot.compliance import keywords, redaction
from bot.db import session_scope
from bot.mail.compose import REPLY_PREFIX
from bot.mail.transport import CHANNEL, normal_address

MAX_TEXT = 2000
# Where an Outlook-style quote starts: everything after it is the earlier message, unmarked ("-----Original
# Message-----", or its header block: "From: ..." then "Sent:", "Date:", "To:" or "Subject:").
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*original message\s*-{2,}", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^\s*from:\s", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*(sent|date|to|subject):\s", re.IGNORECASE)
# The line that introduces a quote ("On Tue, ... wrote:"), which mail clients may wrap onto two lines.
_ON_WROTE = re.compile(r"^\s*on\s.{0,250}\swrote:\s*$", re.IGNORECASE | re.DOTALL)
# A signature: the "-- " delimiter (RFC 3676, often sent as "--"), or a client's "Sent from my iPhone" line.
_SIGNATURE_DELIMITER = re.compile(r"^\s*--\s*$")
_SENT_FROM = re.compile(r"^\s*(sent from my\s|get outlook for\s|enviado desde mi\s)", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    """A reply as the pipeline takes it: who, the new words (not the quote), and the thread. The header values
    kept from the debtor's email (subject, Message-ID, References) are redacted like the body (PCI-2)."""

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


class _HtmlText(HTMLParser):
    """An HTML body as the text a person reads: scripts, styles and quoted history (<blockquote>) dropped, block
    elements on lines of their own."""

    _SKIP = frozenset({"script", "style", "head", "title", "blockquote", "template", "noscript"})
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
                        "pre", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def body_text(message: EmailMessage) -> str:
    """The whole body as text: the plain part, else the HTML part converted (an HTML-only reply is words too)."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset or a broken encoding: read what decodes
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
    return html_to_text(content) if part.get_content_type() == "text/html" else content


def own_words(body: str) -> str:
    """The debtor's own lines of a reply body: above, below or between quoted history. Dropped: quoted lines
    (">"), the "On ... wrote:" line that introduces them, an Outlook-style original message and all after it,
    and signatures (from a "--" line to the next quote, "Sent from my iPhone")."""
    lines = body.splitlines()
    kept: list[str] = []
    in_signature = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _ORIGINAL_MESSAGE.match(line) or (_HEADER_FROM.match(line) and i + 1 < len(lines)
                                             and _HEADER_NEXT.match(lines[i + 1])):
            break
        if line.lstrip().startswith(">"):
            in_signature = False  # a signature ends where the quoted history begins
            i += 1
            continue
        two = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if _ON_WROTE.match(line) or (line.lstrip().lower().startswith("on ") and _ON_WROTE.match(two)):
            i += 1 if _ON_WROTE.match(line) else 2
            continue
        if _SIGNATURE_DELIMITER.match(line):
            in_signature = True
        elif not in_signature and not _SENT_FROM.match(line):
            kept.append(line.rstrip())
        i += 1
    return "\n".join(kept).strip()


def new_text(message: EmailMessage) -> str:
    """The reply's own words (`own_words` of its body)."""
    return own_words(body_text(message))


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
    # PCI-2: the headers kept (the payload, the hash chain) and echoed ("Re: <subject>") are the debtor's words too.
    return Reply(sender, text, redacted_header(message["Message-ID"]), redacted_header(message["Subject"]),
                 redacted_header(message["References"]), stop)


def redacted_header(header: object) -> str:
    return redaction.redact(str(header or "").strip()).text


def kept_copy(message: EmailMessage) -> str:
    """A reply as the local mail server may keep it (PCI-2): its threading headers and subject, and its body as
    text, each redacted; never the raw message, whose encodings (base64, quoted-printable, RFC 2047 words) would
    hide a card number from the redaction."""
    copy = EmailMessage()
    for header in ("From", "To", "Date", "Message-ID", "In-Reply-To", "References", "Subject"):
        if message[header] is not None:
            copy[header] = redacted_header(message[header]).replace("\r", " ").replace("\n", " ")
    copy.set_content(redaction.redact(body_text(message)).text)
    return copy.as_string()


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

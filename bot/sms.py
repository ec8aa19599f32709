"""Sending SMS: what a reply looks like as a text, how it is cut into messages, and how it reaches Twilio.

- render: buttons become numbered lines ("2. Not mine") unless the text already lists them; a typed digit picks
  that button again (bot.gateway.pipeline). Typographic punctuation becomes its GSM-7 twin, as Twilio's smart
  encoding would, so a stray curly quote does not halve what fits in a segment. Spanish accents outside GSM-7
  (a, i, o, u with an acute) force UCS-2, which halves a segment; Twilio's smart encoding leaves them, so we drop
  them ourselves, but only when that saves a segment ("Responda SÍ" keeps its accent; the stored text, the web
  chat and email always keep them).
- the SMS form (as_sent, the one place that decides it): a reply that fits REPLY_SEGMENTS goes whole. A longer one
  is a document (plan terms, a receipt with its autopay authorisation): the phone gets its opening lines, a link
  to the whole text (/texts/<token>, bot/gateway/document_routes.py) and, kept whole, the lines the law wants in
  the message itself: the DISC-1/DISC-2 notice it opens with and the OPT-1 line it ends with. The stored message,
  the web chat and email keep the full text; bot/wording decides the words, this module only their form.
- segments: GSM-7 holds 160 characters in one segment (153 per segment once concatenated, extension characters
  such as € count twice); anything outside GSM-7 forces UCS-2: 70 (67) UTF-16 units. A long text the queue sends
  (a receipt held until 8 a.m.) is stored before it goes, so it too is a short form with a link. A text still
  longer than SMS_MAX_SEGMENTS segments (default 10, Twilio's 1600-character limit) with no link to offer (no
  TextLinks) is split on word boundaries into several messages. Concatenated segments are
  reassembled in order by the handset, separate messages are not, so we send as few separate messages as we can.
- Twilio: the real SDK, synchronous (callers run it in a thread), 3 attempts with exponential backoff on
  5xx, 429, timeouts and connection errors; 4xx errors are final (a retry cannot fix a bad number). A timeout is
  ambiguous (Twilio may have accepted the message) and Twilio's Messages API has no idempotency key, so a retry
  after a timeout can duplicate a text: we accept that rather than leave a debtor without an answer.
- delivery status: each stored outbound Message keeps payload["sms"] = {"status", "parts": [{"sid", "status",
  "error_code"}], "short_form"?: the phone got as_sent()'s short form}; Twilio's status callbacks move it forward,
  never back. Message.status stays "sent" (passed the outbound gate), because the pipeline finds the buttons a
  digit picks by that status.
- no keys: nothing leaves the machine. Replies are already stored by the pipeline and reminders are recorded in
  the number's conversation (bot.messaging.queue.local_transport): the local outbox the demo phone shows.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from bot import audit, contact_preferences, language, wording
from bot.compliance import tone
from bot.config import Settings
from bot.db import session_scope
from bot.db.models import ContactPreference, Conversation, Message
from bot.mail import links
from bot.messaging import outbox
from bot.messaging.queue import Transport, local_transport

log = logging.getLogger("settle.sms")

CHANNEL = "sms"
TWILIO_API = "https://api.twilio.com"
STATUS_PATH = "/webhooks/twilio/status"
MAX_SEGMENTS_LIMIT = 10  # Twilio refuses bodies over 1600 characters; 10 GSM-7 segments are 1530
# The most one reply may take on a phone: 3 GSM-7 segments are 459 characters, one screen or two. Every wording key
# fits it with realistic values (tests/test_sms_budget.py, bench/sms_segments.py); longer composed texts go as a
# short form with a link (as_sent). Each segment is billed, and separate texts can arrive out of order.
REPLY_SEGMENTS = 3
# How long a link to a whole text works (bot/gateway/document_routes.py): long enough to come back to a plan's
# terms before the first payment, short enough that an old phone does not keep account details open for ever.
TEXT_LINK_DAYS = 30

# --- encodings and segments -------------------------------------------------------------------------------------

# GSM 03.38 basic character set (without the escape character) and the extension table (2 septets each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
SINGLE = {"gsm7": 160, "ucs2": 70}
CONCATENATED = {"gsm7": 153, "ucs2": 67}

# What Twilio's smart encoding would swap: look-alikes outside GSM-7 that would force UCS-2.
_SMART = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    "\u2026": "...", "\u2022": "-",
})
# Spanish letters outside GSM-7 and their GSM-7 twins (é, ñ, ü, ¿ and ¡ are in GSM-7 already).
_ACCENTS = str.maketrans("áíóúÁÍÓÚ", "aiouAIOU")


def encoding(text: str) -> str:
    """"gsm7" if every character is in the GSM-7 alphabet (basic or extension), else "ucs2"."""
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "ucs2"


def _unit(char: str, enc: str) -> int:
    if enc == "gsm7":
        return 2 if char in GSM7_EXTENSION else 1  # escape + character
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair


def units(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    enc = encoding(text)
    return sum(_unit(c, enc) for c in text)


def segment_count(text: str) -> int:
    """How many SMS segments the text takes. Packed the way handsets do it: an escape pair (GSM-7) or a surrogate
    pair (UCS-2) never straddles two segments."""
    if not text:
        return 1
    enc = encoding(text)
    cells = [_unit(c, enc) for c in text]
    if sum(cells) <= SINGLE[enc]:
        return 1
    size, count, used = CONCATENATED[enc], 1, 0
    for cell in cells:
        if used + cell > size:
            count, used = count + 1, 0
        used += cell
    return count


def fits(text: str, max_segments: int) -> bool:
    return segment_count(text) <= max_segments


def _max_segments(value: int) -> int:
    if not 1 <= value <= MAX_SEGMENTS_LIMIT:
        raise ValueError(f"max_segments must be 1-{MAX_SEGMENTS_LIMIT}, got {value!r}")
    return value


def split_for_sms(text: str, max_segments: int = 1) -> list[str]:
    """Cut text into pieces of at most max_segments segments each, on word boundaries.

    "".join(pieces) == text; a word is cut only when it alone is longer than a piece may be; whitespace at a
    cut starts the next piece (send_pieces() trims it). Each piece's encoding is judged on its own, so one emoji
    costs UCS-2 only in its own piece."""
    _max_segments(max_segments)
    pieces: list[str] = []
    current = ""
    for token in re.findall(r"\s+|\S+", text):
        if fits(current + token, max_segments):
            current += token
            continue
        if current:
            pieces.append(current)
            current = ""
        if fits(token, max_segments):
            current = token
            continue
        for char in token:  # a word (or a run of spaces) longer than a whole piece: cut it anywhere
            if current and not fits(current + char, max_segments):
                pieces.append(current)
                current = ""
            current += char
    if current or not pieces:
        pieces.append(current)
    return pieces


def send_pieces(text: str, max_segments: int) -> list[str]:
    """The bodies actually sent: split_for_sms() pieces, trimmed, none empty."""
    return [p.strip() for p in split_for_sms(text, max_segments) if p.strip()] or [text.strip()]


# --- replies as texts --------------------------------------------------------------------------------------------

_LEADING_NUMBER = re.compile(r"^\s*\d{1,2}\s*[.)]\s*")


def render_reply(text: str, buttons: Sequence[dict[str, Any]] | None = None) -> str:
    """The text of a reply as an SMS: buttons become numbered lines ("1. Pay now") after the text, except those
    the text already lists under their number (plan options are written out in full; VOICE.md: buttons are
    shortcuts, and over SMS they become numbered choices)."""
    text = (text or "").rstrip()
    lines = []
    for number, button in enumerate(buttons or [], start=1):
        if re.search(rf"(?m)^\s*{number}\s*[.)]\s", text):
            continue
        title = _LEADING_NUMBER.sub("", str(button.get("title") or button.get("payload") or "")).strip()
        lines.append(f"{number}. {title}")
    return "\n".join([text, *lines]) if text else "\n".join(lines)


def sms_text(text: str, buttons: Sequence[dict[str, Any]] | None = None) -> str:
    """render_reply() with smart punctuation swapped for GSM-7 (cheaper segments, same words), and Spanish accents
    dropped when that alone takes the text back to GSM-7 in fewer segments."""
    text = render_reply(text, buttons).translate(_SMART)
    if encoding(text) == "gsm7":
        return text
    plain = text.translate(_ACCENTS)
    return plain if encoding(plain) == "gsm7" and segment_count(plain) < segment_count(text) else text


def as_sent(text: str, buttons: Sequence[dict[str, Any]] | None = None, *, sender_name: str | None = None,
            link: str | None = None, language: str | None = None, budget: int = REPLY_SEGMENTS) -> str:
    """What the phone gets for a stored reply: the whole text when it fits `budget` segments (or when there is no
    link to offer), else its opening lines, `link` to the whole text in `language`'s words, and the notice and
    opt-out line it carries (DISC-1/DISC-2, OPT-1), whole. Buttons stay numbered choices."""
    said = _said(text, sender_name)
    whole = sms_text(said, buttons)
    if link is None or segment_count(whole) <= budget:
        return whole
    notice, body, opt_out = _required_lines(said)
    pointer = wording.say("sms_whole_text", language, url=link)

    def assembled(opening: str, ask: str = "") -> str:
        head = " ".join(p for p in (notice, opening.strip()) if p)
        tail = " ".join(p for p in (ask.strip(), opt_out) if p)
        return sms_text("\n".join(p for p in (head, pointer, tail) if p), buttons)

    def fits_budget(candidate: str) -> bool:
        return segment_count(candidate) <= budget

    lines = body.splitlines()
    if buttons and len(lines) > 2:
        # A choice: its first line, the choices as their buttons' short titles, the ask that ends it (the next
        # step), and the link to every detail. Never half of the choices written out.
        choice = assembled(f"{lines[0]}\n{render_reply('', buttons)}", lines[-1])
        if fits_budget(choice):
            return choice
    kept = ""
    for unit in _units(body):  # whole lines and sentences, in order, while they fit
        if not fits_budget(assembled(kept + unit)):
            break
        kept += unit
    if not kept:  # not even the first sentence fits: as many of its words as do, marked as cut
        for word in re.findall(r"\S+\s*", body):
            if not fits_budget(assembled(f"{kept}{word.rstrip()}...")):
                break
            kept += word
        kept = f"{kept.rstrip()}..." if kept else ""
    return assembled(kept)


def _units(text: str) -> list[str]:
    """Lines and sentences with the spacing after each: "Total: $1,234.56. " and "1. Friday, March 6: $50.00\n";
    a list number ("1. ") is not a sentence."""
    units: list[str] = []
    for line in text.splitlines(keepends=True):
        start = 0
        for end in _SENTENCE_END.finditer(line):
            if line[start:end.start()].strip().isdigit():
                continue
            units.append(line[start:end.end()])
            start = end.end()
        if line[start:]:
            units.append(line[start:])
    return units


def _said(text: str, sender_name: str | None) -> str:
    return f"{sender_name}: {text}" if sender_name else (text or "")


_SENTENCE_END = re.compile(r"[.!?][ \t]+")


def _required_lines(text: str) -> tuple[str, str, str]:
    """(opening notice, body, opt-out line): the DISC-1 disclosure or the DISC-2 notice the text opens with and
    the OPT-1 line it ends with, in either language, split off so a short form keeps them whole."""
    body, notice, opt_out = text.strip(), "", ""
    for speaks in wording.LANGUAGES:
        for key in ("debt_collector_disclosure", "from_debt_collector"):
            line = wording.say(key, speaks)
            if not notice and body.lower().startswith(line.lower()):
                notice, body = body[:len(line)], body[len(line):].strip()
        line = wording.say("opt_out_line", speaks)
        if not opt_out and body.endswith(line):
            opt_out, body = line, body[:-len(line)].strip()
    return notice, body, opt_out


# --- Twilio ------------------------------------------------------------------------------------------------------


def twilio_configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number)


def status_callback_url(settings: Settings) -> str | None:
    """Where Twilio posts delivery updates. Only with a public URL: Twilio cannot reach loopback."""
    return f"{settings.public_base_url.rstrip('/')}{STATUS_PATH}" if settings.public_base_url else None


class RedirectingHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, with https://api.twilio.com swapped for another base URL (a local stand-in in
    tests, a recording proxy in staging). Everything else, auth and form encoding included, is the SDK's."""

    def __init__(self, base_url: str, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class SendResult:
    """One Twilio message: its SID and Twilio's status ("queued"), or why it failed."""

    sid: str | None
    status: str  # Twilio's status on success; "failed" otherwise
    attempts: int
    error_code: int | None = None
    error: str | None = None
    transient: bool = False  # failed on 5xx / 429 / network every time: worth trying again later

    @property
    def ok(self) -> bool:
        return self.sid is not None


class TwilioSender:
    """Sends one SMS body through Twilio's REST API, synchronously, with retries. Thread-safe enough for the
    gateway's thread pool (requests' Session is shared; each call is independent)."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, *, api_url: str | None = None,
                 timeout: float = 10.0, attempts: int = 3, backoff: float = 0.5, status_callback: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        http_client = RedirectingHttpClient(api_url, timeout) if api_url else TwilioHttpClient(timeout=timeout)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.from_number = from_number
        self.attempts = max(1, attempts)
        self.backoff = max(0.0, backoff)
        self.status_callback = status_callback
        self._sleep = sleep

    def send(self, to: str, body: str) -> SendResult:
        error: str | None = None
        code: int | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                created = self.client.messages.create(
                    to=to, from_=self.from_number, body=body,
                    **({"status_callback": self.status_callback} if self.status_callback else {}))
                return SendResult(created.sid, created.status or "queued", attempt)
            except (TwilioRestException, TwilioServiceException) as exc:
                code, error = exc.code, f"HTTP {exc.status}: {getattr(exc, 'msg', None) or exc}"
                if exc.status < 500 and exc.status != 429:
                    log.warning("twilio refused a message (HTTP %s, code %s)", exc.status, exc.code)
                    return SendResult(None, "failed", attempt, code, error)
            except requests.RequestException as exc:
                code, error = None, f"{type(exc).__name__}: {exc}"
            except TwilioException as exc:  # misconfiguration (e.g. no credentials): retrying cannot help
                return SendResult(None, "failed", attempt, None, str(exc))
            log.warning("twilio send attempt %d/%d failed: %s", attempt, self.attempts, error)
            if attempt < self.attempts:
                self._sleep(self.backoff * 2 ** (attempt - 1))
        return SendResult(None, "failed", self.attempts, code, error, transient=True)


def sender_from_settings(settings: Settings) -> TwilioSender | None:
    """A Twilio sender when the three keys are set; None means the local outbox (no keys: nothing is sent)."""
    if not twilio_configured(settings):
        return None
    return TwilioSender(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from_number,
                        api_url=settings.twilio_api_url or None, timeout=settings.twilio_timeout_seconds,
                        attempts=settings.sms_send_attempts, backoff=settings.sms_retry_backoff_seconds,
                        status_callback=status_callback_url(settings))


# --- delivery records --------------------------------------------------------------------------------------------

# Twilio's message statuses in the order they happen; a callback never moves a message backwards (callbacks can
# arrive out of order). The final ones share a rank: the latest word wins between them.
STATUS_RANK = {
    "accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5,
}
FAILED = ("failed", "undelivered", "canceled")
# Twilio error 21610: the number replied STOP to Twilio itself; we record the opt-out too (OPT-3).
TWILIO_UNSUBSCRIBED = 21610


@dataclass
class Delivery:
    """What happened to one stored reply: the pieces sent and their results."""

    message_id: int | None
    results: list[SendResult] = field(default_factory=list)

    @property
    def transient_failure(self) -> bool:
        return bool(self.results) and not any(r.ok for r in self.results) and self.results[-1].transient


def overall_status(parts: Sequence[dict[str, Any]]) -> str:
    """A reply sent as several messages is only as far along as its slowest piece; any failed piece fails it."""
    statuses = [p.get("status") or "queued" for p in parts]
    if not statuses:
        return "failed"
    for bad in FAILED:
        if bad in statuses:
            return bad
    return min(statuses, key=lambda s: STATUS_RANK.get(s, 0))


def _sms_record(results: Sequence[SendResult], max_segments: int, short_form: bool = False) -> dict[str, Any]:
    parts = [{"sid": r.sid, "status": r.status, "error_code": r.error_code, "attempts": r.attempts}
             for r in results]
    record = {"status": overall_status(parts), "parts": parts, "max_segments": max_segments}
    # A reviewer reading the whole stored text learns the phone got its short form and the link (as_sent).
    return {**record, "short_form": True} if short_form else record


def send_text(sender: TwilioSender, to: str, text: str, max_segments: int) -> list[SendResult]:
    """Send every piece in order; stop at the first failure (later pieces would not make sense alone)."""
    results = []
    for body in send_pieces(text, max_segments):
        result = sender.send(to, body)
        results.append(result)
        if not result.ok:
            break
    return results


def record_delivery(engine: Engine, conversation_id: str, message_id: int, to: str,
                    results: Sequence[SendResult], max_segments: int, short_form: bool = False) -> None:
    """Keep the Twilio SIDs and statuses on the stored reply; audit a failure. Twilio's own opt-out (21610) is
    our opt-out too (OPT-3)."""
    with session_scope(engine) as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        message.payload = {**(message.payload or {}), "sms": _sms_record(results, max_segments, short_form)}
        _audit_failures(session, conversation_id, message_id, to, results)


def _audit_failures(session: Session, conversation_id: str | None, message_id: int | None, to: str,
                    results: Sequence[SendResult], *, inside_queue: bool = False) -> None:
    failed = [r for r in results if not r.ok]
    if not failed:
        return
    last = failed[-1]
    audit.record(session, "sms_send_failed", conversation_id=conversation_id,
                 detail={"message_id": message_id, "error_code": last.error_code, "error": (last.error or "")[:300],
                         "attempts": last.attempts, "transient": last.transient})
    if last.error_code != TWILIO_UNSUBSCRIBED:
        return
    if not inside_queue:
        contact_preferences.opt_out(session, CHANNEL, to, via="twilio:21610", conversation_id=conversation_id)
        return
    # Called from process_due, which holds the lock on the message being sent: opt_out() would cancel that very
    # row from a second connection and wait for ever. Record the opt-out alone; the gate blocks every later
    # text to the number on it (OPT-3).
    preference = contact_preferences.find(session, CHANNEL, to)
    if preference is None:
        preference = ContactPreference(channel=CHANNEL, address=to)
        session.add(preference)
    preference.opted_out_at, preference.opted_out_via = datetime.now(timezone.utc), "twilio:21610"
    preference.opted_in_at = None
    audit.record(session, "opted_out", rule_id="OPT-3", conversation_id=conversation_id,
                 detail={"channel": CHANNEL, "via": "twilio:21610"})


def record_status(engine: Engine, to: str, sid: str, status: str, error_code: int | None = None,
                  lookback: int = 200) -> bool:
    """A Twilio status callback: move the piece with this SID forward. The conversation is the recipient's,
    so the search stays within its latest outbound messages (indexed by conversation). False if not found."""
    status = status.strip().lower()
    with session_scope(engine) as session:
        conversation = session.scalar(select(Conversation).where(
            Conversation.channel == CHANNEL, Conversation.external_id == to))
        if conversation is None:
            return False
        recent = session.scalars(select(Message).where(
            Message.conversation_id == conversation.id, Message.direction == "out")
            .order_by(Message.id.desc()).limit(lookback))
        for message in recent:
            sms = dict((message.payload or {}).get("sms") or {})
            parts = [dict(p) for p in sms.get("parts") or []]
            piece = next((p for p in parts if p.get("sid") == sid), None)
            if piece is None:
                continue
            if STATUS_RANK.get(status, 0) >= STATUS_RANK.get(piece.get("status") or "", 0):
                piece["status"] = status
                if error_code is not None:
                    piece["error_code"] = error_code
            history = [*sms.get("history", []), {"sid": sid, "status": status, "error_code": error_code,
                                                  "at": datetime.now(timezone.utc).isoformat()}][-20:]
            message.payload = {**message.payload, "sms": {**sms, "parts": parts, "status": overall_status(parts),
                                                          "history": history}}
            if status in FAILED:
                audit.record(session, "sms_delivery_failed", conversation_id=conversation.id,
                             detail={"message_id": message.id, "status": status, "error_code": error_code})
                if error_code == TWILIO_UNSUBSCRIBED:
                    contact_preferences.opt_out(session, CHANNEL, to, via="twilio:21610",
                                                conversation_id=conversation.id)
            return True
    return False


@dataclass(frozen=True)
class TextLinks:
    """Where a long text's whole words are read: a signed link naming the stored message (bot/mail/links.py)."""

    base_url: str
    secret: str

    def url(self, message_id: int) -> str:
        """The link for one stored message. The debtor reads the token, so one that spells a banned word (TONE-1,
        as bot/compliance/visible_codes.py redraws pay-link tokens) is signed again with the next counter."""
        for counter in range(100):
            url = links.text_url(self.base_url, self.secret, message_id, counter)
            if not tone.lint(url.rsplit("/", 1)[1]):
                return url
        raise RuntimeError("no clean link token in 100 tries")  # 100 tokens each spelling a banned word: a bug


def text_links(settings: Settings) -> TextLinks:
    return TextLinks(settings.pay_base_url, settings.email_link_secret)


def reply_body(session: Session, conversation: Conversation | None, message_id: int | None, text: str,
               buttons: Sequence[dict[str, Any]] | None = None, sender_name: str | None = None,
               text_links: TextLinks | None = None, max_segments: int = REPLY_SEGMENTS) -> str:
    """The body a stored reply goes to the phone as (as_sent), with the link to its whole text when it is long;
    the courier, the SMS channel and the demo phone all ask here, so the phone shows what Twilio was given. An
    SMS_MAX_SEGMENTS below REPLY_SEGMENTS makes the short form that short too."""
    budget = min(REPLY_SEGMENTS, max_segments)
    if text_links is None or message_id is None or conversation is None or \
            segment_count(sms_text(_said(text, sender_name), buttons)) <= budget:
        return sms_text(_said(text, sender_name), buttons)
    return as_sent(text, buttons, sender_name=sender_name, link=text_links.url(message_id),
                   language=language.current(session, conversation), budget=budget)


def reply_body_of(engine: Engine, posted: outbox.Posted, text_links: TextLinks | None,
                  max_segments: int = REPLY_SEGMENTS) -> str:
    """reply_body() for a just-posted reply (its own short transaction: the conversation's language)."""
    body = sms_text(_said(posted.text, posted.sender_name), posted.buttons)
    if text_links is None or posted.message_id is None or segment_count(body) <= min(REPLY_SEGMENTS, max_segments):
        return body
    with session_scope(engine) as session:
        conversation = session.get(Conversation, posted.conversation_id) if posted.conversation_id else None
        return reply_body(session, conversation, posted.message_id, posted.text, posted.buttons,
                          posted.sender_name, text_links, max_segments)


class SmsCourier:
    """The outbox's courier for SMS (bot/messaging/delivery.py): a sent message as a text (buttons as numbered
    lines, an agent's name before their words, a long one as a short form with a link: as_sent), through Twilio in
    a worker thread, its SIDs kept on the message."""

    def __init__(self, engine: Engine, sender: TwilioSender, max_segments: int,
                 text_links: TextLinks | None = None) -> None:
        self.engine, self.sender, self.max_segments = engine, sender, _max_segments(max_segments)
        self.text_links = text_links

    async def deliver(self, posted: outbox.Posted) -> None:
        body = await asyncio.to_thread(reply_body_of, self.engine, posted, self.text_links, self.max_segments)
        results = await asyncio.to_thread(send_text, self.sender, posted.address, body, self.max_segments)
        if posted.message_id is not None and posted.conversation_id is not None:
            short_form = body != sms_text(_said(posted.text, posted.sender_name), posted.buttons)
            await asyncio.to_thread(record_delivery, self.engine, posted.conversation_id, posted.message_id,
                                    posted.address, results, self.max_segments, short_form)
        if not any(r.ok for r in results):
            log.warning("an SMS (message %s) was not accepted by Twilio", posted.message_id)


class SmsUnavailable(RuntimeError):
    """Twilio could not be reached after every retry; the bot-initiated message stays queued for the next run."""


def sms_transport(engine: Engine, settings: Settings, sender: TwilioSender | None = None) -> Transport:
    """The outbound queue's transport (bot.messaging.queue.process_due): SMS through Twilio when configured,
    recorded in the number's conversation either way (the thread, the demo phone and status callbacks use it).
    Other channels (email) and SMS without keys go to the local outbox; letters never reach a transport (the queue
    puts them in the print queue).

    A message Twilio could not take at all (network, 5xx) raises SmsUnavailable, so process_due leaves it pending
    and nothing is marked sent that was not; a final refusal (4xx) is recorded as failed and not retried."""
    sender = sender if sender is not None else sender_from_settings(settings)
    local = local_transport(engine)
    max_segments = _max_segments(settings.sms_max_segments)
    links_to_whole = text_links(settings)

    def send(channel: str, address: str, text: str, kind: str = "reminder",
             document: dict[str, Any] | None = None) -> str:
        if channel != CHANNEL or sender is None:
            return local(channel, address, text, kind)
        if segment_count(sms_text(text)) > min(REPLY_SEGMENTS, max_segments):
            return send_long(address, text, kind)
        results = send_text(sender, address, text, max_segments)
        if results and not any(r.ok for r in results) and results[-1].transient:
            raise SmsUnavailable(results[-1].error or "Twilio unreachable")
        with session_scope(engine) as session:
            message = outbox.record_sent(session, channel, address, text, kind=kind,
                                         payload={"sms": _sms_record(results, max_segments)})
            _audit_failures(session, message.conversation_id, message.id, address, results, inside_queue=True)
            first = next((r.sid for r in results if r.sid), None)
            return first or f"failed-{message.id}"

    def send_long(address: str, text: str, kind: str) -> str:
        """A long queued text (a receipt with its autopay authorisation held until 8 a.m.) goes as a reply does: its
        short form and the link to the whole (as_sent), never cut into pieces that may arrive out of order. The link
        names the stored message, so it is stored first; what Twilio made of it is kept on it after. One Twilio
        could not take now stays on record as a failed delivery, and the queue sends it again (SmsUnavailable)."""
        with session_scope(engine) as session:
            message = outbox.record_sent(session, CHANNEL, address, text, kind=kind)
            conversation = session.get(Conversation, message.conversation_id)
            body = reply_body(session, conversation, message.id, text, text_links=links_to_whole,
                              max_segments=max_segments)
            message_id, conversation_id = message.id, message.conversation_id
        results = send_text(sender, address, body, max_segments)
        with session_scope(engine) as session:
            stored = session.get(Message, message_id)
            stored.payload = {**(stored.payload or {}),
                              "sms": _sms_record(results, max_segments, short_form=body != sms_text(text))}
            _audit_failures(session, conversation_id, message_id, address, results, inside_queue=True)
        if results and not any(r.ok for r in results) and results[-1].transient:
            raise SmsUnavailable(results[-1].error or "Twilio unreachable")
        return next((r.sid for r in results if r.sid), None) or f"failed-{message_id}"

    return send


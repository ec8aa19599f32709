"""REC-1, issue 17: "email me a copy". A verified debtor asks, in the chat, for the conversation by email; the copy
is the conversation as the hash-chained record holds it (bot/records/transcript.py) up to that moment, with the
record's chain head then (the number of entries and the last entry's hash). Anyone holding the copy can paste it
at /transcripts/check: `check` finds the entry the copy names, confirms its hash is the chain head the copy states
and that the stored chain is whole (bot/records/verification.py), renders the conversation again from the record,
and compares it with the copy line by line (or with the copy we queued, word for word, for a copy sent before the
rendering changed). One changed character makes it "altered".

The copy is rendered only from transcript entries, never from the working tables, so what `render` wrote when the
copy was sent is what it writes at every check. Blocked replies (never shown to the debtor) are not in it; the
texts are as stored (redacted: no card number or SSN digits, PCI-2), and the debtor's own words are masked as an
agent reads them (review_redaction.for_agent): no date of birth, SSN digits, ZIP or account number in a copy.

The email itself goes through the outbox's queue like any email (bot/messaging: TIME-1, opt-out, caps); the copy
travels as the queued message's document, so the gate's DISC-2 and OPT-1 lines go on the covering text and never
change the copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import audit, contact_preferences, wording
from bot import language as languages
from bot.db.models import Conversation, Debtor, ScheduledMessage, TranscriptEntry
from bot.local_dates import debtor_zone
from bot.messaging import outbox
from bot.records.review_redaction import IDENTITY_INTENT, for_agent
from bot.records.transcript import messages_as_recorded
from bot.records.verification import check_conversation

KIND = "transcript_copy"
CHANNEL = "email"
BEGIN = "----- BEGIN SETTLE TRANSCRIPT -----"
END = "----- END SETTLE TRANSCRIPT -----"
MAX_COPY_CHARS = 400_000  # what the check page reads at most (a long chat is far below)

_ASKS = re.compile(r"\s*(please\s+)?(e-?mail|send)\s+me\s+(a\s+)?copy(\s+of\s+(this|the|our|my)\s+"
                   r"(chat|conversation|transcript))?(\s+please)?\s*[.!]?\s*"
                   # Spanish as people text it: "mándeme una copia", "envieme una copia del chat por email"
                   r"|\s*(por\s+favor\s+)?(m[aá]nd[ea]me|env[ií][ea]me)\s+(una\s+)?copia(\s+(de|del)\s+(este|esta|el|la)?"
                   r"\s*(chat|conversaci[oó]n))?(\s+por\s+(e-?mail|correo))?(\s+por\s+favor)?\s*[.!]?\s*",
                   re.IGNORECASE)
_HEADER = re.compile(r"Conversation: (\S+)\nEntries: (\d+)\nChain head: ([0-9a-f]{64})")

# The words are in bot/wording/ (copy_*), said in the conversation's language; these names hold the English.
SENT_REPLY = wording.say("copy_sent")
NOT_VERIFIED_REPLY = wording.say("copy_not_verified")
NO_EMAIL_REPLY = wording.say("copy_no_email")


def asks_for_copy(text: str) -> bool:
    """The debtor's words (or the button) that ask for the copy: "email me a copy", "send me a copy of this chat"."""
    return bool(_ASKS.fullmatch(text))


def _masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def render(session: Session, conversation: Conversation, upto_seq: int) -> str:
    """The copy of the conversation's record up to entry `upto_seq`: header, messages, footer."""
    entries = session.scalars(select(TranscriptEntry).where(
        TranscriptEntry.conversation_id == conversation.id, TranscriptEntry.seq <= upto_seq)
        .order_by(TranscriptEntry.seq)).all()
    head = entries[-1].hash if entries else ""
    messages = messages_as_recorded(entries)
    debtor = session.get(Debtor, conversation.debtor_id) if conversation.debtor_id else None
    zone = debtor_zone(debtor)
    lines = [BEGIN, f"Conversation: {conversation.id}", f"Entries: {len(entries)}", f"Chain head: {head}", ""]
    for message_id in sorted(messages):
        data = messages[message_id]
        if data["direction"] == "out" and data["status"] != "sent":
            continue  # held by a rule: never shown to the debtor
        who = "You" if data["direction"] == "in" else "Settle" if data["sender_role"] == "bot" else "Settle (a person)"
        at = datetime.fromisoformat(data["created_at"]).astimezone(zone)
        text = data["text"] or ""
        if data["direction"] == "in":
            # ID-2, HO-1: an email can be forwarded or read over a shoulder; the answers to the identity questions
            # would let its reader pass verification, so the copy shows what was answered, never the value, as an
            # agent reads it. The record keeps what it keeps; `check` renders again the same way.
            text = for_agent(text, identity_answer=data.get("intent") == IDENTITY_INTENT)
        first, *rest = text.splitlines() or [""]
        lines.append(f"[{at:%Y-%m-%d %H:%M %Z}] {who}: {first}")
        lines += [f"    {line}" for line in rest]
    lines += ["", END]
    return "\n".join(lines)


def request_copy(session: Session, conversation: Conversation, now: datetime) -> list[str]:
    """Queue the copy for the verified debtor's email address; the reply says what happens (or why not)."""
    speaks = languages.current(session, conversation)
    if conversation.verified_at is None or conversation.debtor_id is None:
        return [wording.say("copy_not_verified", speaks)]
    debtor = session.get(Debtor, conversation.debtor_id)
    address = (debtor.email or "").strip().lower()
    if not address:
        return [wording.say("copy_no_email", speaks)]
    if contact_preferences.suppression(session, CHANNEL, address):
        return [wording.say("copy_suppressed", speaks, address=_masked(address))]
    session.flush()  # the request itself is sealed into the record first: the copy includes it
    upto = session.scalar(select(func.max(TranscriptEntry.seq)).where(
        TranscriptEntry.conversation_id == conversation.id)) or 0
    queued = outbox.schedule(session, account_id=conversation.account_id, channel=CHANNEL, address=address,
                             kind=KIND, text=wording.say("copy_cover", speaks), not_before=now)
    queued.document = {"transcript": render(session, conversation, upto), "conversation_id": conversation.id,
                       "entries": upto}
    audit.record(session, "transcript_copy_queued", rule_id="REC-1", conversation_id=conversation.id,
                 account_id=conversation.account_id, detail={"message_id": queued.id, "entries": upto})
    return [wording.say("copy_sent", speaks, address=_masked(address))]


class NotACopy(ValueError):
    """What was pasted holds no Settle transcript (no BEGIN ... END block)."""


@dataclass(frozen=True)
class CopyCheck:
    status: str  # intact | altered | no_record | record_broken
    conversation_id: str | None = None
    entries: int | None = None
    detail: str = ""  # in English, for logs and operators
    reason: str = ""  # what the page says why (bot/wording check_why_<reason>), in the reader's language
    line: int | None = None  # the first line that differs (reason "line")

    @property
    def intact(self) -> bool:
        return self.status == "intact"


def _lines(text: str) -> list[str]:
    """What is compared: the lines of the block, without line-end differences, trailing spaces or blank lines a
    mail program may add or drop (they carry no words)."""
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


def extract(pasted: str) -> str:
    """The copy's block out of whatever was pasted or uploaded (a whole email, with quoting marks or not)."""
    text = pasted.replace("\r\n", "\n").replace("\r", "\n")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise NotACopy("no Settle transcript found: paste everything from the BEGIN line to the END line")
    block = text[start:end + len(END)]
    return "\n".join(line[2:] if line.startswith("> ") else line for line in block.split("\n"))


def _sent_copies(session: Session, conversation: Conversation, entries: int) -> list[list[str]]:
    """The lines of each copy of this conversation up to `entries` that we queued (the email carries the document
    word for word); rendered afresh they may differ, since what a copy masks has grown over time."""
    queued = session.scalars(select(ScheduledMessage.document).where(
        ScheduledMessage.kind == KIND, ScheduledMessage.channel == CHANNEL,
        ScheduledMessage.account_id == conversation.account_id)).all()
    return [_lines(document["transcript"]) for document in queued
            if document and document.get("conversation_id") == conversation.id and document.get("entries") == entries
            and isinstance(document.get("transcript"), str)]


def check(session: Session, pasted: str) -> CopyCheck:
    """Does this copy match the stored record? Raises NotACopy when there is no copy in it."""
    block = extract(pasted)
    header = _HEADER.search("\n".join(_lines(block)[1:4]))
    if header is None:
        return CopyCheck("altered", detail="the lines naming the conversation and the chain head were changed",
                         reason="header")
    conversation_id, entries, head = header.group(1), int(header.group(2)), header.group(3)
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or entries < 1:
        return CopyCheck("no_record", detail="no conversation in our records has this id", reason="unknown")
    entry = session.scalar(select(TranscriptEntry).where(TranscriptEntry.conversation_id == conversation_id,
                                                         TranscriptEntry.seq == entries))
    if entry is None or entry.hash != head:
        return CopyCheck("altered", conversation_id, entries,
                         "the chain head in the copy is not the record's at that entry", reason="head")
    chain = check_conversation(session, conversation)
    if not chain.intact:
        return CopyCheck("record_broken", conversation_id, entries,
                         "our stored record fails its own check; a person will look into it", reason="broken")
    expected, given = _lines(render(session, conversation, entries)), _lines(block)
    if expected != given and given in _sent_copies(session, conversation, entries):
        # A copy sent before `render` changed (the debtor's lines were masked later): it is word for word what we
        # emailed, and the chain head above proves the record up to it is whole.
        return CopyCheck("intact", conversation_id, entries, "every line matches the copy we emailed, and its chain "
                         "head the record's", reason="intact")
    if expected != given:
        where = next((i for i, (a, b) in enumerate(zip(expected, given, strict=False)) if a != b),
                     min(len(expected), len(given)))
        return CopyCheck("altered", conversation_id, entries,
                         f"line {where + 1} of the copy differs from the record", reason="line", line=where + 1)
    return CopyCheck("intact", conversation_id, entries, "every line matches the record and its chain head",
                     reason="intact")

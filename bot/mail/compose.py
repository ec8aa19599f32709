"""A queued message as an email: a subject by kind, a plain-text part and an HTML part from the templates in
bot/mail/templates (autoescaped: the message's words are text, never markup), the opt-out link in both and in
List-Unsubscribe (RFC 8058 one-click), and a Message-ID the outbox stores with the message.

A message that is a document (the validation notice, DISC-5) is rendered from its facts (ScheduledMessage.document,
bot/compliance/notice_document.py) with validation_notice_body.txt / .html inside the email; `notice_html` renders
the same fragment for the printable page, so the email and the page the debtor keeps say the same."""

from __future__ import annotations

import re
import secrets
import string
from datetime import date, datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot import wording
from bot.money import format_cents
from bot.wording import formats

_env = Environment(loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
                   autoescape=select_autoescape(["html"]), keep_trailing_newline=True)

# Plain words (VOICE.md); nothing here that a subject line shown on a lock screen should not say. The words are in
# bot/wording/ (subject_<kind>), in the debtor's language; SUBJECTS holds the English. DISC-3: a campaign's reader
# may not be the debtor, so its subject says nothing about an account or a debt.
SUBJECT_KINDS = ("validation_notice", "debit_notice", "transcript_copy", "receipt", "plan_confirmation", "campaign")
SUBJECTS = {kind: wording.say(f"subject_{kind}") for kind in SUBJECT_KINDS}
DEFAULT_SUBJECT = wording.say("subject_default")
# The template's own words (email.txt, email.html), by their catalogue keys.
TEMPLATE_KEYS = ("email_questions", "email_check_lead", "email_opt_out_lead", "email_opt_out_html_lead",
                 "email_opt_out_html_mid", "email_opt_out_html_link", "email_stops_only", "email_keep_lead",
                 "email_keep_link")


def message_id(domain: str) -> str:
    """A unique Message-ID of letters only: make_msgid's long digit runs can pass a Luhn check, and the PCI-3 scan
    of the database and logs (tests/sensitive_scan.py) would then rightly call it a card number."""
    return f"<{_letters(26)}@{domain}>"


def _letters(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))


def subject_for(kind: str, language: str | None = None) -> str:
    return wording.say(f"subject_{kind}" if kind in SUBJECTS else "subject_default", language)


def paragraphs(text: str) -> list[str]:
    """The message as the gate approved it, its blank lines splitting paragraphs (the OPT-1 line stays: the footer
    adds the link)."""
    return [p.strip() for p in text.split("\n\n") if p.strip()]


REPLY_PREFIX = re.compile(r"^\s*((re|aw|fwd?)\s*:\s*)+", re.IGNORECASE)


def reply_subject(subject: str) -> str:
    """"Re: <their subject>", once ("Re: Re: Re:" is noise)."""
    bare = REPLY_PREFIX.sub("", subject).strip()
    return f"Re: {bare}" if bare else DEFAULT_SUBJECT


def _spelled(iso: str) -> str:
    day = date.fromisoformat(iso[:10])
    return f"{day:%B} {day.day}, {day.year}"  # VOICE.md: dates spelled out


def notice_view(document: dict[str, Any], *, business_name: str, collector_address: str, support_contact: str,
                online_url: str) -> dict[str, Any]:
    """The validation notice's facts as the templates show them: amounts with cents and the currency sign, dates
    spelled out, and the collector's details from the settings (`collector_address`: lines separated by ";")."""
    money = {k[:-len("_cents")]: format_cents(v, document.get("currency", "USD"))
             for k, v in document.items() if k.endswith("_cents")}
    return {**document, **money, "collector_name": business_name, "collector_contact": support_contact,
            "collector_address": [line.strip() for line in collector_address.split(";") if line.strip()],
            "online_url": online_url, "cfpb_url": "www.cfpb.gov/debt-collection",
            **{k: _spelled(document[k]) for k in ("itemization_date", "sent_on", "ends_on")},
            # The Spanish notice (DISC-5, 1006.34(d)(3)(vi)(B)) shows the same dates spelled out in Spanish.
            "es": {k: formats.long_date(date.fromisoformat(document[k][:10]), "es", weekday=False)
                   for k in ("itemization_date", "sent_on", "ends_on")}}


def notice_html(view: dict[str, Any]) -> Markup:
    """The notice's HTML fragment (no page around it), for the printable page."""
    return Markup(_env.get_template("validation_notice_body.html").render(n=view))


def build(*, kind: str, text: str, to: str, sender: str, business_name: str, support_contact: str,
          opt_out_url: str, now: datetime | None = None, subject: str | None = None,
          in_reply_to: str | None = None, references: str | None = None, notice: dict[str, Any] | None = None,
          notice_url: str | None = None, transcript: str | None = None, check_url: str | None = None,
          language: str | None = None, bare: bool = False) -> EmailMessage:
    """The email for one message; `text` is what the outbound gate approved (DISC-2 notice, OPT-1 line). A reply in
    an email conversation passes its thread: `subject` ("Re: ..."), `in_reply_to` and `references` (RFC 5322).
    `notice`: a validation notice's facts as `notice_view` shows them, with `notice_url` its printable copy.
    `transcript`: a copy of a conversation (bot/records/transcript_copy.py), word for word, with `check_url`.
    `language`: the debtor's (bot/language.py): the subject, the footer and the opt-out keyword are in it.
    `bare`: OPT-3's confirmation of an opt-out (and its one later answer) carries nothing else: no footer, no
    opt-out link or header; only the support address its words point to."""
    speaks = wording.language_or_default(language)
    keyword = "ALTO" if speaks == wording.SPANISH else "STOP"  # both work (bot/compliance/keywords.py)
    words = {key.removeprefix("email_"): wording.say(key, speaks, support=support_contact, keyword=keyword)
             for key in TEMPLATE_KEYS}
    values = {"subject": subject or subject_for(kind, speaks), "paragraphs": paragraphs(text),
              "business_name": business_name, "support_contact": support_contact, "opt_out_url": opt_out_url,
              "reply_keyword": keyword, "n": notice, "notice_url": notice_url, "transcript": transcript,
              "check_url": check_url, "t": words, "lang": speaks, "bare": bare}
    message = EmailMessage()
    message["Subject"] = values["subject"]
    name, address = parseaddr(sender)
    message["From"] = formataddr((name or business_name, address))
    message["To"] = to
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message["Message-ID"] = message_id(address.rsplit("@", 1)[-1] or "settle.invalid")
    if in_reply_to:  # the debtor's mail client shows the answer under what they wrote
        message["In-Reply-To"] = in_reply_to
        message["References"] = " ".join(dict.fromkeys(f"{references or ''} {in_reply_to}".split()))
    # EMAIL-2: mail clients show their own "Unsubscribe" from these; the link's POST opts out (RFC 8058).
    if not bare:
        message["List-Unsubscribe"] = f"<{opt_out_url}>, <mailto:{address}?subject=unsubscribe>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_env.get_template("email.txt").render(values))
    message.add_alternative(_env.get_template("email.html").render(values), subtype="html")
    message.set_boundary(_letters(30))  # the library's is a long run of digits: see message_id()
    return message

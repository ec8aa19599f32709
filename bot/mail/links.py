"""Signed links in emails and texts, no login needed. A token names one value and one purpose, signed with
HMAC-SHA256 (EMAIL_LINK_SECRET), so it cannot be forged for another value or reused for another purpose (128 bits:
unguessable). The tokens carry no date; a page that must expire checks the age of what the token names.

- EMAIL-2: the opt-out link names an email address ("email-opt-out"): a debtor may opt out from an old email
  (1006.6(e) wants it simple).
- DISC-5: the printable validation notice names the queued notice ("notice-view"): the debtor keeps the link as
  long as they keep the email.
- A long text's whole words (bot/sms.as_sent) name the stored outbound message ("text-view"); the page refuses it
  once the message is older than bot/sms.TEXT_LINK_DAYS."""

from __future__ import annotations

import base64
import hashlib
import hmac

PURPOSE = "email-opt-out"
PATH = "/email/opt-out/"
NOTICE_PURPOSE = "notice-view"
NOTICE_PATH = "/notices/"
TEXT_PURPOSE = "text-view"
TEXT_PATH = "/texts/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, value: str, purpose: str = PURPOSE) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}\n{value}".encode(), hashlib.sha256).digest()[:16]


def _token(secret: str, value: str, purpose: str) -> str:
    return f"{_b64(value.encode())}.{_b64(_mac(secret, value, purpose))}"


def _value(secret: str, token: str, purpose: str) -> str | None:
    try:
        encoded, mac = token.split(".", 1)
        value = _unb64(encoded).decode()
        given = _unb64(mac)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if hmac.compare_digest(given, _mac(secret, value, purpose)) else None


def opt_out_token(secret: str, address: str) -> str:
    return _token(secret, address, PURPOSE)


def address_of(secret: str, token: str) -> str | None:
    """The address a genuine token names; None for anything else (a forged, altered or garbled token)."""
    address = _value(secret, token, PURPOSE)
    return address if address is not None and "@" in address else None


def notice_url(base_url: str, secret: str, notice_id: str) -> str:
    return f"{base_url.rstrip('/')}{NOTICE_PATH}{_token(secret, notice_id, NOTICE_PURPOSE)}"


def notice_of(secret: str, token: str) -> str | None:
    """The queued notice's id a genuine notice token names; None for anything else."""
    return _value(secret, token, NOTICE_PURPOSE)


def opt_out_url(base_url: str, secret: str, address: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}{opt_out_token(secret, address)}"


def text_url(base_url: str, secret: str, message_id: int, counter: int = 0) -> str:
    """`counter` gives another token for the same message (bot/sms.TextLinks redraws one that spells a word)."""
    value = f"{message_id}.{counter}" if counter else str(message_id)
    return f"{base_url.rstrip('/')}{TEXT_PATH}{_token(secret, value, TEXT_PURPOSE)}"


def text_of(secret: str, token: str) -> int | None:
    """The stored message's id a genuine text token names; None for anything else."""
    value = _value(secret, token, TEXT_PURPOSE)
    number = (value or "").partition(".")[0]
    return int(number) if number.isdigit() else None

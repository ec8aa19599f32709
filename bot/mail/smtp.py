"""SMTP_URL and one SMTP conversation, with the standard library.

`smtp://user:pass@host:587` speaks STARTTLS (required, except on loopback: the embedded local server);
`smtps://user:pass@host:465` is TLS from the first byte. What the server answers decides the message's fate:
250 to DATA is "sent"; a 4xx anywhere, a refused or dropped connection, or a problem on our side (login, sender)
is temporary (DeliveryDeferred: retried); a 5xx to the recipient or to the content is a bounce (DeliveryRefused)."""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from bot.messaging.queue import DeliveryDeferred, DeliveryRefused


class SmtpUrlError(ValueError):
    """SMTP_URL is not smtp://[user:pass@]host[:port] or smtps://..."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    username: str = ""
    password: str = ""
    timeout: float = 15.0

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"SmtpConfig({'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port})"


def parse_url(url: str, timeout: float = 15.0) -> SmtpConfig:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SmtpUrlError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise SmtpUrlError("SMTP_URL has a port that is not a number") from None
    return SmtpConfig(parts.hostname, port, parts.scheme == "smtps", unquote(parts.username or ""),
                      unquote(parts.password or ""), timeout)


def _fail(code: int, reply: bytes | str, stage: str, permanent_ok: bool = True) -> None:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    reason = f"{stage}: {code} {text}"[:300]
    if permanent_ok and 500 <= code < 600:
        raise DeliveryRefused(reason, code)
    raise DeliveryDeferred(reason)


def send(config: SmtpConfig, message: EmailMessage) -> str:
    """Hand one message to the server for its single recipient; returns the server's reply to DATA (250 ...).
    Raises DeliveryDeferred or DeliveryRefused (see the module docstring)."""
    sender = message["Return-Path"] or message["From"].addresses[0].addr_spec
    recipient = message["To"].addresses[0].addr_spec
    context = ssl.create_default_context()
    try:
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context) \
            if config.implicit_tls else smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except smtplib.SMTPConnectError as exc:  # the greeting was not 220 (e.g. 421 busy, 554 no service)
        _fail(exc.smtp_code, exc.smtp_error, "connect", permanent_ok=False)
    except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timed out, TLS handshake
        raise DeliveryDeferred(f"connect: {type(exc).__name__}: {exc}"[:300]) from None
    try:
        smtp.ehlo()
        if not config.implicit_tls:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif not config.loopback:  # never a password or a debtor's notice in clear over a network
                raise DeliveryDeferred("the server offers no STARTTLS; use smtps:// or a server that does")
        if config.username:
            smtp.login(config.username, config.password)
        code, reply = smtp.mail(sender)
        if code != 250:
            _fail(code, reply, "MAIL FROM", permanent_ok=False)  # our sender: not the debtor's address's fault
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            _fail(code, reply, "RCPT TO")
        code, reply = smtp.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))  # SMTP's CRLF
        if code != 250:
            _fail(code, reply, "DATA")
        return f"{code} {reply.decode('utf-8', 'replace') if isinstance(reply, bytes) else reply}"[:300]
    except smtplib.SMTPDataError as exc:  # DATA itself refused (not 354)
        _fail(exc.smtp_code, exc.smtp_error, "DATA")
        raise  # unreachable: _fail always raises
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryDeferred(f"login refused: {exc.smtp_code}") from None  # ours to fix, not a bounce
    except (DeliveryDeferred, DeliveryRefused):
        raise
    except (OSError, smtplib.SMTPException) as exc:  # dropped connection, timeout, TLS
        raise DeliveryDeferred(f"{type(exc).__name__}: {exc}"[:300]) from None
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

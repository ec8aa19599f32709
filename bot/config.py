"""Settings from the environment (python-dotenv reads `.env`; `.env.example` documents every key).

`Environment` (pydantic-settings) says what each variable may hold and checks it, so a wrong value stops the start
with the variable's name and the expected form (`SettingsError`) instead of a traceback from deep inside; `Settings`
is what the code reads, built from it by `Settings.from_env()` or directly in tests."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from dotenv import load_dotenv
from limits import parse as parse_rate
from pydantic import AfterValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'settle.db'}"


def persisted_secret(path: Path) -> str:
    """A random secret kept in a file (created on first use, owner-only), so that tokens signed with it stay
    valid across restarts when no secret is configured. Safe when two processes start at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other process may still be writing it
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty; delete it or set the secret in the environment") from None
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


EMBEDDED, PRODUCTION = "embedded", "production"


def _mode(value: str | None) -> str:
    """SETTLE_MODE: "embedded" only when asked for (`make run`, `python -m bot run`, the test stack); anything
    else, unset included, is production, where nothing demo-only is served."""
    return EMBEDDED if (value or "").strip().lower() == EMBEDDED else PRODUCTION


def _secret_setting(env: Mapping[str, str], name: str) -> str:
    """A secret from NAME, or from the file NAME_FILE names (a secret store's mount), so it need not sit in a
    command line or in the environment of every process."""
    value = env.get(name, "").strip()
    path = env.get(f"{name}_FILE", "").strip()
    if not value and path:
        value = Path(path).read_text().strip()
    return value


class SettingsError(ValueError):
    """A setting that cannot be used, named with the form it needs. `python -m bot` prints it and exits 2."""


_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")


def _rate(value: str) -> str:
    # The rate limiter's own parser (bot/gateway/rate_limit.py), so what passes here is what it accepts.
    try:
        parse_rate(value.strip())
    except ValueError:
        raise ValueError("a rate") from None
    return value


def _url(value: str) -> str:
    if not _URL.match(value.strip()):
        raise ValueError("a URL")
    return value


Rate = Annotated[str, AfterValidator(_rate)]
Url = Annotated[str, AfterValidator(_url)]

# Never echoed in an error: they may hold a password or a key.
_SECRET_VARIABLES = frozenset({"DATABASE_URL", "SMTP_URL", "REDIS_URL", "TWILIO_AUTH_TOKEN", "STRIPE_SECRET_KEY",
                               "STRIPE_WEBHOOK_SECRET", "WIDGET_SECRET"})


class Environment(BaseSettings):
    """Every variable Settle reads, its type and its expected form (the description, quoted in errors). Unset or
    empty means the default of `Settings`. Secrets that may come from a file (NAME_FILE) are read by
    `_secret_setting`, not here."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, case_sensitive=True)

    DATABASE_URL: Url | None = Field(None, description="a database URL, e.g. postgresql://user@host/settle")
    RASA_URL: Url | None = Field(None, description="a URL, e.g. http://127.0.0.1:5005")
    RASA_URLS: str | None = Field(None, description="comma-separated URLs")
    RASA_RETRY_SECONDS: float | None = Field(None, gt=0, description="a number of seconds above 0, e.g. 45")
    REDIS_URL: Url | None = Field(None, description="a Redis URL, e.g. redis://127.0.0.1:6379/0")
    SETTLE_MODE: str | None = Field(None, description='"embedded" or "production"')
    RATE_LIMIT_PER_IP: Rate | None = Field(None, description='a rate "N/second|minute|hour|day", e.g. 600/minute')
    RATE_LIMIT_PER_CONVERSATION: Rate | None = Field(None, description='a rate "N/unit", e.g. 30/minute')
    RATE_LIMIT_VERIFICATION: Rate | None = Field(None, description='a rate "N/unit", e.g. 10/hour')
    BUSINESS_NAME: str | None = Field(None, description="a name")
    SUPPORT_CONTACT: str | None = Field(None, description="an address or number")
    ID_LOCKOUT_FAILURES: int | None = Field(None, ge=1, description="a whole number of at least 1, e.g. 3")
    ID_LOCKOUT_HOURS: int | None = Field(None, ge=1, description="a whole number of hours, e.g. 24")
    WIDGET_SECRET: str | None = Field(None, description="a random string")
    WIDGET_TOKEN_TTL_MINUTES: int | None = Field(None, ge=1, description="a whole number of minutes, e.g. 60")
    WIDGET_ORIGINS: str | None = Field(None, description='"*" or comma-separated origins')
    SESSION_IDLE_MINUTES: int | None = Field(None, ge=1, description="a whole number of minutes, e.g. 60")
    TWILIO_ACCOUNT_SID: str | None = Field(None, description="an account SID (AC...)")
    TWILIO_AUTH_TOKEN: str | None = Field(None, description="the auth token")
    TWILIO_FROM_NUMBER: str | None = Field(None, description="a phone number, e.g. +15005550006")
    PUBLIC_BASE_URL: Url | None = Field(None, description="a URL, e.g. https://settle.example.com")
    TWILIO_API_URL: Url | None = Field(None, description="a URL")
    TWILIO_TIMEOUT_SECONDS: float | None = Field(None, gt=0, description="a number of seconds above 0, e.g. 10")
    SMS_SEND_ATTEMPTS: int | None = Field(None, ge=1, description="a whole number of at least 1, e.g. 3")
    SMS_RETRY_BACKOFF_SECONDS: float | None = Field(None, ge=0, description="a number of seconds, e.g. 0.5")
    SMS_MAX_SEGMENTS: int | None = Field(None, ge=1, description="a whole number of at least 1, e.g. 10")
    DEMO_PHONE: bool | None = Field(None, description="1 or 0 (true/false, yes/no, on/off)")
    REMINDER_DAYS_AHEAD: int | None = Field(None, ge=0, description="a whole number of days, e.g. 3")
    AGENT_HOURS: str | None = Field(None, description='hours, e.g. "mon-fri 09:00-17:00 America/New_York"')
    AGENT_SESSION_IDLE_MINUTES: int | None = Field(None, ge=1, description="a whole number of minutes, e.g. 60")
    AGENT_SESSION_MAX_HOURS: int | None = Field(None, ge=1, description="a whole number of hours, e.g. 12")
    STRIPE_SECRET_KEY: str | None = Field(None, description="a secret key (sk_...)")
    STRIPE_WEBHOOK_SECRET: str | None = Field(None, description="a signing secret (whsec_...)")
    STRIPE_API_BASE: Url | None = Field(None, description="a URL")
    STRIPE_TIMEOUT_SECONDS: float | None = Field(None, gt=0, description="a number of seconds above 0, e.g. 10")
    STRIPE_MAX_NETWORK_RETRIES: int | None = Field(None, ge=0, description="a whole number, e.g. 2")
    GATEWAY_URL: Url | None = Field(None, description="a URL, e.g. http://127.0.0.1:8000")
    PAY_LINK_TTL_HOURS: int | None = Field(None, ge=1, description="a whole number of hours, e.g. 24")
    AUTOPAY_RETRY_BUSINESS_DAYS: int | None = Field(None, ge=0, description="a whole number of days, e.g. 3")
    SMTP_TIMEOUT_SECONDS: float | None = Field(None, gt=0, description="a number of seconds above 0, e.g. 15")
    EMAIL_FROM: str | None = Field(None, description="an email address")
    COLLECTOR_ADDRESS: str | None = Field(None, description='address lines separated by ";"')
    DEMO_MAILBOX: bool | None = Field(None, description="1 or 0 (true/false, yes/no, on/off)")


def read_environment(env: Mapping[str, str] | None = None) -> Environment:
    """The checked environment (pydantic-settings reads the process's, unless `env` is given), or SettingsError
    naming every wrong variable and its expected form."""
    shown_env = os.environ if env is None else env
    try:
        if env is None:
            return Environment()
        return Environment.model_validate({name: value for name, value in env.items()
                                           if name in Environment.model_fields and value.strip()})
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            name = str(problem["loc"][0])
            expected = Environment.model_fields[name].description
            shown = "(not shown: it may hold a secret)" if name in _SECRET_VARIABLES else repr(shown_env.get(name))
            problems.append(f"{name} must be {expected}; it is {shown}")
        raise SettingsError("Settle cannot start: " + "; ".join(problems)) from None


def check_environment() -> Environment:
    """`.env` loaded, then every variable checked: what a process calls first, so a wrong value stops it at once."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    return read_environment()


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    # "embedded" (the demo `make run` starts: demo-only routes on, the REST channel open to loopback clients) or
    # "production" (the default: no demo routes, the REST channel only with REST_API_TOKEN). README "Security".
    mode: str = PRODUCTION
    # The REST channel's bearer token (an integration API). In production mode the channel is off without one.
    rest_api_token: str = ""
    # Rate limits (bot/gateway/rate_limit.py), in the `limits` notation "N/second|minute|hour|day": every request
    # per client IP, the messages of one conversation, and identity checks per account (bot/identity.py). Kept in
    # memory, or in Redis with REDIS_URL.
    rate_limit_per_ip: str = "600/minute"
    rate_limit_per_conversation: str = "30/minute"
    rate_limit_verification: str = "10/hour"
    database_url: str = field(default_factory=_default_database_url)
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    # Several Rasa instances (RASA_URLS, comma-separated): each conversation is pinned to one by a hash ring
    # (bot/gateway/rasa_router.py). Empty: just rasa_url.
    rasa_urls: tuple[str, ...] = ()
    # How long one turn may keep failing over between instances before the debtor hears "having trouble".
    rasa_retry_seconds: float = 45.0
    # Redis (production): the live hub across gateway workers and the per-conversation lock of the channels.
    # Empty: both stay in the process (one gateway worker).
    redis_url: str = ""
    # Neutral name used before verification (DISC-3): never the creditor's name.
    business_name: str = "Settle Services"
    support_contact: str = "support@example.com"
    lockout_failures: int = 3
    lockout_hours: int = 24
    # Web widget: HMAC key for session tokens (empty: a random key per process), how long a token lives after the
    # widget was last connected, and which sites may embed it ("*": any).
    widget_secret: str = ""
    widget_token_ttl_minutes: int = 60
    widget_origins: tuple[str, ...] = ("*",)
    # After this long without a message a conversation starts a new session and the debtor verifies again (ID-1).
    session_idle_minutes: int = 60
    # SMS (bot/sms.py). Twilio is used only when all three keys are set; otherwise texts stay in the local outbox
    # that the demo phone (/phone) shows. PUBLIC_BASE_URL is the gateway's address as Twilio sees it: webhook
    # signatures are checked against it, and status callbacks go to it. TWILIO_API_URL points the SDK elsewhere
    # (a local stand-in in tests).
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    public_base_url: str = ""
    twilio_api_url: str = ""
    twilio_timeout_seconds: float = 10.0
    sms_send_attempts: int = 3
    sms_retry_backoff_seconds: float = 0.5
    sms_max_segments: int = 10  # per message; longer replies go as several messages split on word boundaries
    demo_phone: bool = True  # /phone, only ever when Twilio is not configured
    # Reminders (bot/reminders.py): installments due within this many days get a reminder.
    reminder_days_ahead: int = 3
    # Agent console (bot/agents/): when people are there to pick up a handoff, e.g. "mon-fri 09:00-17:00
    # America/New_York" (empty: always; outside the hours the bot offers callback times, HO-1), and how long a
    # console sign-in lasts idle and at most.
    agent_hours: str = ""
    agent_session_idle_minutes: int = 60
    agent_session_max_hours: int = 12
    # Payments (bot/payments/). With no STRIPE_SECRET_KEY, the local Stripe stand-in (stripe_standin/, started by
    # `run`) takes Stripe's place at STRIPE_API_BASE, and the webhook secret is a local one kept in var/.
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""  # empty: Stripe itself with a key, the stand-in's default address without one
    stripe_timeout_seconds: float = 10.0
    stripe_max_network_retries: int = 2  # the SDK retries 5xx, 409 and timeouts with the same idempotency key
    gateway_url: str = "http://127.0.0.1:8000"  # where pay links point when PUBLIC_BASE_URL is not set
    pay_link_ttl_hours: int = 24
    autopay_retry_business_days: int = 3
    # Email (bot/mail/). SMTP_URL: smtp://user:pass@host:587 (STARTTLS, required off loopback) or smtps://host:465
    # (implicit TLS). Empty: email stays queued, undelivered, and says so; `make run` points it at its local server.
    smtp_url: str = ""
    smtp_timeout_seconds: float = 15.0
    email_from: str = "notices@settle.test"  # the sender, and the address replies (STOP) come back to
    # Signs the opt-out links; from_env keeps a random one in var/email_link_secret when EMAIL_LINK_SECRET is unset.
    email_link_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    demo_mailbox: bool = True  # /mailbox, the local server's mail: embedded mode only
    # The mail provider's webhook signing key (Mailgun's "HTTP webhook signing key"): POST /webhooks/email/mailgun
    # (delivered, bounced, complained) and .../mailgun/inbound (replies) accept only events signed with it. Empty in
    # production: both answer 503. The embedded default keeps a random one in var/email_webhook_secret, which the
    # local mail server signs the replies it forwards with.
    email_webhook_secret: str = ""
    # /metrics (bot/gateway/ops_routes.py): with a token, only for `Authorization: Bearer <token>`; empty: open.
    metrics_token: str = ""
    # DISC-5: the mailing address the validation notice gives for disputes and requests (1006.34(c)(1)), lines
    # separated by ";". The default is the demo's made-up address; production sets its own.
    collector_address: str = "PO Box 1000; Springfield, IL 62701"

    @property
    def embedded(self) -> bool:
        """The local demo: the demo phone (and any other demo-only page) exists only here."""
        return self.mode == EMBEDDED

    @property
    def rasa_instances(self) -> tuple[str, ...]:
        """The Rasa base URLs the gateway routes between (one in the embedded default)."""
        return self.rasa_urls or (self.rasa_url,)

    @property
    def pay_base_url(self) -> str:
        """The address a debtor's browser reaches the gateway at: pay links and Checkout's return pages."""
        return (self.public_base_url or self.gateway_url).rstrip("/")

    @classmethod
    def from_env(cls) -> Settings:
        e = check_environment()
        env = os.environ

        def given(value: object, default: object) -> object:
            return default if value is None else value

        return cls(
            database_url=e.DATABASE_URL or _default_database_url(),
            rasa_url=given(e.RASA_URL, cls.rasa_url).rstrip("/"),
            mode=_mode(e.SETTLE_MODE),
            rest_api_token=_secret_setting(env, "REST_API_TOKEN"),
            rate_limit_per_ip=given(e.RATE_LIMIT_PER_IP, cls.rate_limit_per_ip).strip(),
            rate_limit_per_conversation=given(e.RATE_LIMIT_PER_CONVERSATION, cls.rate_limit_per_conversation).strip(),
            rate_limit_verification=given(e.RATE_LIMIT_VERIFICATION, cls.rate_limit_verification).strip(),
            rasa_token=_secret_setting(env, "RASA_TOKEN"),
            rasa_urls=_split(e.RASA_URLS or ""),
            rasa_retry_seconds=given(e.RASA_RETRY_SECONDS, cls.rasa_retry_seconds),
            redis_url=(e.REDIS_URL or "").strip(),
            business_name=given(e.BUSINESS_NAME, cls.business_name),
            support_contact=given(e.SUPPORT_CONTACT, cls.support_contact),
            lockout_failures=given(e.ID_LOCKOUT_FAILURES, cls.lockout_failures),
            lockout_hours=given(e.ID_LOCKOUT_HOURS, cls.lockout_hours),
            widget_secret=e.WIDGET_SECRET or persisted_secret(PROJECT_ROOT / "var" / "widget_secret"),
            widget_token_ttl_minutes=given(e.WIDGET_TOKEN_TTL_MINUTES, cls.widget_token_ttl_minutes),
            widget_origins=_split(e.WIDGET_ORIGINS or "*") or ("*",),
            session_idle_minutes=given(e.SESSION_IDLE_MINUTES, cls.session_idle_minutes),
            twilio_account_sid=e.TWILIO_ACCOUNT_SID or "",
            twilio_auth_token=e.TWILIO_AUTH_TOKEN or "",
            twilio_from_number=e.TWILIO_FROM_NUMBER or "",
            public_base_url=(e.PUBLIC_BASE_URL or "").rstrip("/"),
            twilio_api_url=(e.TWILIO_API_URL or "").rstrip("/"),
            twilio_timeout_seconds=given(e.TWILIO_TIMEOUT_SECONDS, cls.twilio_timeout_seconds),
            sms_send_attempts=given(e.SMS_SEND_ATTEMPTS, cls.sms_send_attempts),
            sms_retry_backoff_seconds=given(e.SMS_RETRY_BACKOFF_SECONDS, cls.sms_retry_backoff_seconds),
            sms_max_segments=given(e.SMS_MAX_SEGMENTS, cls.sms_max_segments),
            demo_phone=given(e.DEMO_PHONE, True),
            reminder_days_ahead=given(e.REMINDER_DAYS_AHEAD, cls.reminder_days_ahead),
            agent_hours=(e.AGENT_HOURS or "").strip(),
            agent_session_idle_minutes=given(e.AGENT_SESSION_IDLE_MINUTES, cls.agent_session_idle_minutes),
            agent_session_max_hours=given(e.AGENT_SESSION_MAX_HOURS, cls.agent_session_max_hours),
            stripe_secret_key=(e.STRIPE_SECRET_KEY or "").strip(),
            stripe_webhook_secret=(e.STRIPE_WEBHOOK_SECRET or "").strip() or (
                "" if (e.STRIPE_SECRET_KEY or "").strip()
                else "whsec_" + persisted_secret(PROJECT_ROOT / "var" / "stripe_standin_webhook_secret")),
            stripe_api_base=(e.STRIPE_API_BASE or "").rstrip("/"),
            stripe_timeout_seconds=given(e.STRIPE_TIMEOUT_SECONDS, cls.stripe_timeout_seconds),
            stripe_max_network_retries=given(e.STRIPE_MAX_NETWORK_RETRIES, cls.stripe_max_network_retries),
            gateway_url=given(e.GATEWAY_URL, cls.gateway_url).rstrip("/"),
            pay_link_ttl_hours=given(e.PAY_LINK_TTL_HOURS, cls.pay_link_ttl_hours),
            autopay_retry_business_days=given(e.AUTOPAY_RETRY_BUSINESS_DAYS, cls.autopay_retry_business_days),
            smtp_url=_secret_setting(env, "SMTP_URL"),
            smtp_timeout_seconds=given(e.SMTP_TIMEOUT_SECONDS, cls.smtp_timeout_seconds),
            email_from=(e.EMAIL_FROM or "").strip() or cls.email_from,
            collector_address=(e.COLLECTOR_ADDRESS or "").strip() or cls.collector_address,
            email_link_secret=_secret_setting(env, "EMAIL_LINK_SECRET")
            or persisted_secret(PROJECT_ROOT / "var" / "email_link_secret"),
            email_webhook_secret=_secret_setting(env, "EMAIL_WEBHOOK_SECRET") or (
                persisted_secret(PROJECT_ROOT / "var" / "email_webhook_secret")
                if _mode(e.SETTLE_MODE) == EMBEDDED else ""),
            demo_mailbox=given(e.DEMO_MAILBOX, True),
            metrics_token=_secret_setting(env, "METRICS_TOKEN"),
        )

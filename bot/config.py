"""Settings from the environment (python-dotenv reads `.env`; `.env.example` documents every key)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

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
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL") or _default_database_url(),
            rasa_url=env.get("RASA_URL", cls.rasa_url).rstrip("/"),
            mode=_mode(env.get("SETTLE_MODE")),
            rest_api_token=_secret_setting(env, "REST_API_TOKEN"),
            rate_limit_per_ip=env.get("RATE_LIMIT_PER_IP", "").strip() or cls.rate_limit_per_ip,
            rate_limit_per_conversation=(env.get("RATE_LIMIT_PER_CONVERSATION", "").strip()
                                         or cls.rate_limit_per_conversation),
            rate_limit_verification=env.get("RATE_LIMIT_VERIFICATION", "").strip() or cls.rate_limit_verification,
            rasa_token=_secret_setting(env, "RASA_TOKEN"),
            rasa_urls=_split(env.get("RASA_URLS", "")),
            rasa_retry_seconds=float(env.get("RASA_RETRY_SECONDS", cls.rasa_retry_seconds)),
            redis_url=env.get("REDIS_URL", "").strip(),
            business_name=env.get("BUSINESS_NAME", cls.business_name),
            support_contact=env.get("SUPPORT_CONTACT", cls.support_contact),
            lockout_failures=int(env.get("ID_LOCKOUT_FAILURES", cls.lockout_failures)),
            lockout_hours=int(env.get("ID_LOCKOUT_HOURS", cls.lockout_hours)),
            widget_secret=env.get("WIDGET_SECRET") or persisted_secret(PROJECT_ROOT / "var" / "widget_secret"),
            widget_token_ttl_minutes=int(env.get("WIDGET_TOKEN_TTL_MINUTES", cls.widget_token_ttl_minutes)),
            widget_origins=_split(env.get("WIDGET_ORIGINS", "*")) or ("*",),
            session_idle_minutes=int(env.get("SESSION_IDLE_MINUTES", cls.session_idle_minutes)),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
            twilio_api_url=env.get("TWILIO_API_URL", "").rstrip("/"),
            twilio_timeout_seconds=float(env.get("TWILIO_TIMEOUT_SECONDS", cls.twilio_timeout_seconds)),
            sms_send_attempts=int(env.get("SMS_SEND_ATTEMPTS", cls.sms_send_attempts)),
            sms_retry_backoff_seconds=float(env.get("SMS_RETRY_BACKOFF_SECONDS", cls.sms_retry_backoff_seconds)),
            sms_max_segments=int(env.get("SMS_MAX_SEGMENTS", cls.sms_max_segments)),
            demo_phone=env.get("DEMO_PHONE", "1").strip().lower() not in ("0", "false", "no", "off"),
            reminder_days_ahead=int(env.get("REMINDER_DAYS_AHEAD", cls.reminder_days_ahead)),
            agent_hours=env.get("AGENT_HOURS", "").strip(),
            agent_session_idle_minutes=int(env.get("AGENT_SESSION_IDLE_MINUTES", cls.agent_session_idle_minutes)),
            agent_session_max_hours=int(env.get("AGENT_SESSION_MAX_HOURS", cls.agent_session_max_hours)),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY", "").strip(),
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", "").strip() or (
                "" if env.get("STRIPE_SECRET_KEY", "").strip()
                else "whsec_" + persisted_secret(PROJECT_ROOT / "var" / "stripe_standin_webhook_secret")),
            stripe_api_base=env.get("STRIPE_API_BASE", "").rstrip("/"),
            stripe_timeout_seconds=float(env.get("STRIPE_TIMEOUT_SECONDS", cls.stripe_timeout_seconds)),
            stripe_max_network_retries=int(env.get("STRIPE_MAX_NETWORK_RETRIES", cls.stripe_max_network_retries)),
            gateway_url=env.get("GATEWAY_URL", cls.gateway_url).rstrip("/"),
            pay_link_ttl_hours=int(env.get("PAY_LINK_TTL_HOURS", cls.pay_link_ttl_hours)),
            autopay_retry_business_days=int(env.get("AUTOPAY_RETRY_BUSINESS_DAYS", cls.autopay_retry_business_days)),
            smtp_url=_secret_setting(env, "SMTP_URL"),
            smtp_timeout_seconds=float(env.get("SMTP_TIMEOUT_SECONDS", cls.smtp_timeout_seconds)),
            email_from=env.get("EMAIL_FROM", "").strip() or cls.email_from,
            collector_address=env.get("COLLECTOR_ADDRESS", "").strip() or cls.collector_address,
            email_link_secret=_secret_setting(env, "EMAIL_LINK_SECRET")
            or persisted_secret(PROJECT_ROOT / "var" / "email_link_secret"),
            email_webhook_secret=_secret_setting(env, "EMAIL_WEBHOOK_SECRET") or (
                persisted_secret(PROJECT_ROOT / "var" / "email_webhook_secret")
                if _mode(env.get("SETTLE_MODE")) == EMBEDDED else ""),
            demo_mailbox=env.get("DEMO_MAILBOX", "1").strip().lower() not in ("0", "false", "no", "off"),
            metrics_token=_secret_setting(env, "METRICS_TOKEN"),
        )

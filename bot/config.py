"""Settings from the environment (python-dotenv reads `.env`; `.env.example` documents every key).

`Settings` is what the code reads, built by `Settings.from_env()` or directly in tests. Each of its fields declares,
once, its variable, default and expected form (`setting`); `Environment` (pydantic-settings) is made from those and
checks what each variable holds, so a wrong value stops the start with the variable's name and the expected form
(`SettingsError`) instead of a traceback from deep inside."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, get_type_hints

from dotenv import load_dotenv
from limits import parse as parse_rate
from pydantic import AfterValidator, Field, ValidationError, create_model
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


@dataclass(frozen=True)
class Variable:
    """Where a setting comes from: its environment variable, the form it must hold (quoted in errors), and how it
    is read. Declared once, on the setting's field of `Settings`; `Environment` and `Settings.from_env` follow it."""

    name: str
    form: str = "a text"
    # Never echoed in an error: it may hold a password or a key.
    secret: bool = False
    # May come from the file NAME_FILE names (a secret store's mount), so it need not sit in a command line or in the
    # environment of every process; read as text, unchecked.
    from_file: bool = False
    # pydantic's checks beyond the type: bounds (ge, gt) and validators (_rate, _url).
    bounds: Mapping[str, float] = field(default_factory=dict)
    checks: tuple[AfterValidator, ...] = ()
    # How a checked value becomes the setting's (a URL loses its trailing "/", a list is split); stripped by default.
    clean: Callable[[Any], Any] | None = None


def setting(default: Any = MISSING, *, env: str, form: str = "a text", factory: Callable[[], Any] | Any = MISSING,
            secret: bool = False, from_file: bool = False, checks: tuple[AfterValidator, ...] = (),
            clean: Callable[[Any], Any] | None = None, **bounds: float) -> Any:
    """A field of `Settings` read from the environment variable `env` (unset or empty: the default)."""
    variable = Variable(env, form, secret, from_file, bounds, checks, clean)
    return field(default=default, default_factory=factory, metadata={"variable": variable})


def _strip_slash(value: str) -> str:
    return value.strip().rstrip("/")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())


# The checks and forms several settings share.
URL, RATE = (AfterValidator(_url),), (AfterValidator(_rate),)
WHOLE, POSITIVE_WHOLE, SECONDS = {"ge": 0}, {"ge": 1}, {"gt": 0}
SWITCH = "1 or 0 (true/false, yes/no, on/off)"


@dataclass(frozen=True)
class Settings:
    """What the code reads. Each field names its environment variable (`setting(env=...)`); tests build it directly."""

    # "embedded" (the demo `make run` starts: demo-only routes on, the REST channel open to loopback clients) or
    # "production" (the default: no demo routes, the REST channel only with REST_API_TOKEN). README "Security".
    mode: str = setting(PRODUCTION, env="SETTLE_MODE", form='"embedded" or "production"', clean=_mode)
    # The REST channel's bearer token (an integration API). In production mode the channel is off without one.
    rest_api_token: str = setting("", env="REST_API_TOKEN", from_file=True)
    # Rate limits (bot/gateway/rate_limit.py), in the `limits` notation "N/second|minute|hour|day": every request
    # per client IP, the messages of one conversation, and identity checks per account (bot/identity.py). Kept in
    # memory, or in Redis with REDIS_URL.
    rate_limit_per_ip: str = setting("600/minute", env="RATE_LIMIT_PER_IP", checks=RATE,
                                     form='a rate "N/second|minute|hour|day", e.g. 600/minute')
    rate_limit_per_conversation: str = setting("30/minute", env="RATE_LIMIT_PER_CONVERSATION", checks=RATE,
                                               form='a rate "N/unit", e.g. 30/minute')
    rate_limit_verification: str = setting("10/hour", env="RATE_LIMIT_VERIFICATION", checks=RATE,
                                           form='a rate "N/unit", e.g. 10/hour')
    database_url: str = setting(env="DATABASE_URL", factory=_default_database_url, secret=True, checks=URL,
                                form="a database URL, e.g. postgresql://user@host/settle")
    rasa_url: str = setting("http://127.0.0.1:5005", env="RASA_URL", checks=URL, clean=_strip_slash,
                            form="a URL, e.g. http://127.0.0.1:5005")
    rasa_token: str = setting("", env="RASA_TOKEN", from_file=True)
    # Several Rasa instances (RASA_URLS, comma-separated): each conversation is pinned to one by a hash ring
    # (bot/gateway/rasa_router.py). Empty: just rasa_url.
    rasa_urls: tuple[str, ...] = setting((), env="RASA_URLS", form="comma-separated URLs", clean=_split)
    # How long one turn may keep failing over between instances before the debtor hears "having trouble".
    rasa_retry_seconds: float = setting(45.0, env="RASA_RETRY_SECONDS", form="a number of seconds above 0, e.g. 45",
                                        **SECONDS)
    # How often the gateway itself answers messages saved while no Rasa answered (bot/gateway/saved_answers.py), in
    # seconds; 0: only the answer-saved job does. `make run` sets 5: its one gateway's in-process hub reaches the
    # open widgets, which a job in another process cannot without Redis.
    answer_saved_seconds: float = setting(0.0, env="ANSWER_SAVED_SECONDS",
                                          form="a number of seconds, 0 for off, e.g. 5", **WHOLE)
    # Redis (production): the live hub across gateway workers and the per-conversation lock of the channels.
    # Empty: both stay in the process (one gateway worker).
    redis_url: str = setting("", env="REDIS_URL", secret=True, checks=URL, form="a Redis URL, e.g. redis://127.0.0.1:6379/0")
    # Neutral name used before verification (DISC-3): never the creditor's name.
    business_name: str = setting("Settle Services", env="BUSINESS_NAME", form="a name")
    support_contact: str = setting("support@example.com", env="SUPPORT_CONTACT", form="an address or number")
    lockout_failures: int = setting(3, env="ID_LOCKOUT_FAILURES", form="a whole number of at least 1, e.g. 3",
                                    **POSITIVE_WHOLE)
    lockout_hours: int = setting(24, env="ID_LOCKOUT_HOURS", form="a whole number of hours, e.g. 24", **POSITIVE_WHOLE)
    # Web widget: HMAC key for session tokens (from_env keeps a random one in var/widget_secret when unset), how long
    # a token lives after the widget was last connected, and which sites may embed it ("*": any).
    widget_secret: str = setting("", env="WIDGET_SECRET", secret=True, form="a random string")
    widget_token_ttl_minutes: int = setting(60, env="WIDGET_TOKEN_TTL_MINUTES",
                                            form="a whole number of minutes, e.g. 60", **POSITIVE_WHOLE)
    widget_origins: tuple[str, ...] = setting(("*",), env="WIDGET_ORIGINS", form='"*" or comma-separated origins',
                                              clean=lambda value: _split(value) or ("*",))
    # After this long without a message a conversation starts a new session and the debtor verifies again (ID-1).
    session_idle_minutes: int = setting(60, env="SESSION_IDLE_MINUTES", form="a whole number of minutes, e.g. 60",
                                        **POSITIVE_WHOLE)
    # SMS (bot/sms.py). Twilio is used only when all three keys are set; otherwise texts stay in the local outbox
    # that the demo phone (/phone) shows. PUBLIC_BASE_URL is the gateway's address as Twilio sees it: webhook
    # signatures are checked against it, and status callbacks go to it. TWILIO_API_URL points the SDK elsewhere
    # (a local stand-in in tests).
    twilio_account_sid: str = setting("", env="TWILIO_ACCOUNT_SID", form="an account SID (AC...)")
    twilio_auth_token: str = setting("", env="TWILIO_AUTH_TOKEN", secret=True, form="the auth token")
    twilio_from_number: str = setting("", env="TWILIO_FROM_NUMBER", form="a phone number, e.g. +15005550006")
    public_base_url: str = setting("", env="PUBLIC_BASE_URL", checks=URL, clean=_strip_slash,
                                   form="a URL, e.g. https://settle.example.com")
    twilio_api_url: str = setting("", env="TWILIO_API_URL", checks=URL, clean=_strip_slash, form="a URL")
    twilio_timeout_seconds: float = setting(10.0, env="TWILIO_TIMEOUT_SECONDS",
                                            form="a number of seconds above 0, e.g. 10", **SECONDS)
    sms_send_attempts: int = setting(3, env="SMS_SEND_ATTEMPTS", form="a whole number of at least 1, e.g. 3",
                                     **POSITIVE_WHOLE)
    sms_retry_backoff_seconds: float = setting(0.5, env="SMS_RETRY_BACKOFF_SECONDS",
                                               form="a number of seconds, e.g. 0.5", **WHOLE)
    # Per message; longer replies go as several messages split on word boundaries.
    sms_max_segments: int = setting(10, env="SMS_MAX_SEGMENTS", form="a whole number of at least 1, e.g. 10",
                                    **POSITIVE_WHOLE)
    demo_phone: bool = setting(True, env="DEMO_PHONE", form=SWITCH)  # /phone, only ever when Twilio is not configured
    # Reminders (bot/reminders.py): installments due within this many days get a reminder.
    reminder_days_ahead: int = setting(3, env="REMINDER_DAYS_AHEAD", form="a whole number of days, e.g. 3", **WHOLE)
    # Agent console (bot/agents/): when people are there to pick up a handoff, e.g. "mon-fri 09:00-17:00
    # America/New_York" (empty: always; outside the hours the bot offers callback times, HO-1), and how long a
    # console sign-in lasts idle and at most.
    agent_hours: str = setting("", env="AGENT_HOURS", form='hours, e.g. "mon-fri 09:00-17:00 America/New_York"')
    agent_session_idle_minutes: int = setting(60, env="AGENT_SESSION_IDLE_MINUTES",
                                              form="a whole number of minutes, e.g. 60", **POSITIVE_WHOLE)
    agent_session_max_hours: int = setting(12, env="AGENT_SESSION_MAX_HOURS", form="a whole number of hours, e.g. 12",
                                           **POSITIVE_WHOLE)
    # Payments (bot/payments/). With no STRIPE_SECRET_KEY, the local Stripe stand-in (stripe_standin/, started by
    # `run`) takes Stripe's place at STRIPE_API_BASE, and the webhook secret is a local one kept in var/.
    stripe_secret_key: str = setting("", env="STRIPE_SECRET_KEY", secret=True, form="a secret key (sk_...)")
    stripe_webhook_secret: str = setting("", env="STRIPE_WEBHOOK_SECRET", secret=True,
                                         form="a signing secret (whsec_...)")
    # Empty: Stripe itself with a key, the stand-in's address (127.0.0.1:STRIPE_STANDIN_PORT) without one.
    stripe_api_base: str = setting("", env="STRIPE_API_BASE", checks=URL, clean=_strip_slash, form="a URL")
    # Where `run` starts the stand-in; a second stack side by side needs its own, like GATEWAY_PORT.
    stripe_standin_port: int = setting(12111, env="STRIPE_STANDIN_PORT", form="a port number, e.g. 12111",
                                       ge=1, le=65535)
    stripe_timeout_seconds: float = setting(10.0, env="STRIPE_TIMEOUT_SECONDS",
                                            form="a number of seconds above 0, e.g. 10", **SECONDS)
    # The SDK retries 5xx, 409 and timeouts with the same idempotency key.
    stripe_max_network_retries: int = setting(2, env="STRIPE_MAX_NETWORK_RETRIES", form="a whole number, e.g. 2",
                                              **WHOLE)
    # Where pay links point when PUBLIC_BASE_URL is not set.
    gateway_url: str = setting("http://127.0.0.1:8000", env="GATEWAY_URL", checks=URL, clean=_strip_slash,
                               form="a URL, e.g. http://127.0.0.1:8000")
    pay_link_ttl_hours: int = setting(24, env="PAY_LINK_TTL_HOURS", form="a whole number of hours, e.g. 24",
                                      **POSITIVE_WHOLE)
    autopay_retry_business_days: int = setting(3, env="AUTOPAY_RETRY_BUSINESS_DAYS",
                                               form="a whole number of days, e.g. 3", **WHOLE)
    # Email (bot/mail/). SMTP_URL: smtp://user:pass@host:587 (STARTTLS, required off loopback) or smtps://host:465
    # (implicit TLS). Empty: email stays queued, undelivered, and says so; `make run` points it at its local server.
    smtp_url: str = setting("", env="SMTP_URL", from_file=True)
    smtp_timeout_seconds: float = setting(15.0, env="SMTP_TIMEOUT_SECONDS", form="a number of seconds above 0, e.g. 15",
                                          **SECONDS)
    # The sender, and the address replies (STOP) come back to.
    email_from: str = setting("notices@settle.test", env="EMAIL_FROM", form="an email address")
    # Signs the opt-out links; from_env keeps a random one in var/email_link_secret when EMAIL_LINK_SECRET is unset.
    email_link_secret: str = setting(env="EMAIL_LINK_SECRET", from_file=True,
                                     factory=lambda: secrets.token_urlsafe(32))
    demo_mailbox: bool = setting(True, env="DEMO_MAILBOX", form=SWITCH)  # /mailbox, the local mail: embedded only
    # The mail provider's webhook signing key (Mailgun's "HTTP webhook signing key"): POST /webhooks/email/mailgun
    # (delivered, bounced, complained) and .../mailgun/inbound (replies) accept only events signed with it. Empty in
    # production: both answer 503. The embedded default keeps a random one in var/email_webhook_secret, which the
    # local mail server signs the replies it forwards with.
    email_webhook_secret: str = setting("", env="EMAIL_WEBHOOK_SECRET", from_file=True)
    # /metrics (bot/gateway/ops_routes.py): with a token, only for `Authorization: Bearer <token>`; empty: open.
    metrics_token: str = setting("", env="METRICS_TOKEN", from_file=True)
    # DISC-5: the mailing address the validation notice gives for disputes and requests (1006.34(c)(1)), lines
    # separated by ";". The default is the demo's made-up address; production sets its own.
    collector_address: str = setting("PO Box 1000; Springfield, IL 62701", env="COLLECTOR_ADDRESS",
                                     form='address lines separated by ";"')

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
        """Every setting from the checked environment (and NAME_FILE for secrets that may come from a file); unset or
        empty ones keep their defaults."""
        checked, env = check_environment(), os.environ
        values: dict[str, Any] = {}
        for name, variable in _variables().items():
            raw = _secret_setting(env, variable.name) if variable.from_file else getattr(checked, variable.name)
            if isinstance(raw, str):
                raw = raw.strip()
            if raw is None or raw == "":
                continue
            values[name] = variable.clean(raw) if variable.clean else raw
        # Secrets Settle keeps itself in var/ when none is given, so that what was signed with them survives a restart.
        # Only when none is given: the images have no writable var/ and every secret comes from a file.
        kept = {"widget_secret": "widget_secret", "email_link_secret": "email_link_secret"}  # setting: its file
        if "stripe_secret_key" not in values:  # the local stand-in's webhooks
            kept["stripe_webhook_secret"] = "stripe_standin_webhook_secret"
        if values.get("mode") == EMBEDDED:  # the local mail server signs the replies it forwards with it
            kept["email_webhook_secret"] = "email_webhook_secret"
        for name, file in kept.items():
            if name not in values:
                secret = persisted_secret(PROJECT_ROOT / "var" / file)
                values[name] = "whsec_" + secret if name == "stripe_webhook_secret" else secret
        return cls(**values)


def _variables() -> dict[str, Variable]:
    """Each setting's field name and variable, in declaration order."""
    return {each.name: each.metadata["variable"] for each in fields(Settings) if "variable" in each.metadata}


class _EnvironmentBase(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, case_sensitive=True)


def _environment_model() -> type[BaseSettings]:
    """The variables Settle reads and checks (those that may come from a file are read as text by `_secret_setting`),
    each with the type of its setting (a list is one comma-separated text) and its form as the description."""
    hints = get_type_hints(Settings)
    checked: dict[str, Any] = {}
    for name, variable in _variables().items():
        if variable.from_file:
            continue
        kind = hints[name] if hints[name] in (int, float, bool) else str
        checked_kind = Annotated[kind, *variable.checks] if variable.checks else kind
        checked[variable.name] = (checked_kind | None, Field(None, description=variable.form, **variable.bounds))
    return create_model("Environment", __base__=_EnvironmentBase, **checked)


Environment = _environment_model()
_SECRET_VARIABLES = frozenset(variable.name for variable in _variables().values() if variable.secret)


def read_environment(env: Mapping[str, str] | None = None) -> BaseSettings:
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


def check_environment() -> BaseSettings:
    """`.env` loaded, then every variable checked: what a process calls first, so a wrong value stops it at once."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    return read_environment()

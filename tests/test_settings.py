"""Settings from the environment (bot/config.py): a wrong value stops the start with the variable's name and the
form it needs, never a traceback, and never the value of a secret."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings, SettingsError, read_environment

ROOT = Path(__file__).resolve().parents[1]


def test_unset_and_empty_variables_take_the_defaults(monkeypatch):
    monkeypatch.setenv("ID_LOCKOUT_FAILURES", "")
    monkeypatch.delenv("RATE_LIMIT_PER_IP", raising=False)
    settings = Settings.from_env()
    assert settings.lockout_failures == Settings.lockout_failures == 3
    assert settings.rate_limit_per_ip == "600/minute"


def test_given_values_are_read_with_their_types(monkeypatch):
    monkeypatch.setenv("ID_LOCKOUT_FAILURES", "5")
    monkeypatch.setenv("RASA_RETRY_SECONDS", "12.5")
    monkeypatch.setenv("DEMO_PHONE", "off")
    monkeypatch.setenv("RATE_LIMIT_VERIFICATION", "4/hour")
    settings = Settings.from_env()
    assert (settings.lockout_failures, settings.rasa_retry_seconds) == (5, 12.5)
    assert settings.demo_phone is False and settings.rate_limit_verification == "4/hour"


def test_a_wrong_value_names_the_variable_and_the_expected_form():
    """Mutation tried: the description dropped from the message -> the expected form is missing and this fails."""
    with pytest.raises(SettingsError) as raised:
        read_environment({"ID_LOCKOUT_FAILURES": "three", "RATE_LIMIT_PER_IP": "lots"})
    message = str(raised.value)
    assert "ID_LOCKOUT_FAILURES must be a whole number of at least 1, e.g. 3; it is 'three'" in message
    assert 'RATE_LIMIT_PER_IP must be a rate "N/second|minute|hour|day", e.g. 600/minute' in message


def test_a_wrong_secret_is_named_but_never_shown():
    """PCI-3: a database URL holds a password. Mutation tried: secrets echoed like other values -> this fails."""
    with pytest.raises(SettingsError) as raised:
        read_environment({"DATABASE_URL": "postgres user:hunter2 at db"})
    assert "DATABASE_URL must be a database URL" in str(raised.value)
    assert "hunter2" not in str(raised.value)


@given(st.text(max_size=12))
def test_any_text_for_a_number_is_either_a_number_or_a_settings_error(text):
    try:
        environment = read_environment({"SMS_MAX_SEGMENTS": text})
    except SettingsError as error:
        assert "SMS_MAX_SEGMENTS must be" in str(error)
    else:
        value = environment.SMS_MAX_SEGMENTS
        assert value is None or (isinstance(value, int) and value >= 1)


def test_the_command_line_says_what_is_wrong_and_exits_2():
    env = {**os.environ, "ID_LOCKOUT_HOURS": "a day"}
    done = subprocess.run([sys.executable, "-m", "bot", "check-policies"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "ID_LOCKOUT_HOURS must be a whole number of hours, e.g. 24; it is 'a day'" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_rate_the_rate_limiter_reads_is_accepted():
    """The check is the limiter's own parser: a rate it enforces is never refused at start. Mutation tried: the old
    pattern "N/unit" -> '100/5 minutes' and '10 per hour' were refused."""
    for rate in ("600/minute", "100/5 minutes", "10 per hour", "10/month"):
        assert read_environment({"RATE_LIMIT_PER_IP": rate}).RATE_LIMIT_PER_IP == rate


def test_every_setting_is_documented_in_env_example_and_checked_by_its_declared_form():
    """Each setting names its variable once, on its field (bot/config.py `setting`): `.env.example` documents every
    one (with NAME_FILE where a secret may come from a file), and a value just past a bound is refused with the
    field's form. Mutations tried: SESSION_IDLE_MINUTES removed from .env.example; the bounds not passed to
    `Environment`; the validators not passed -> each fails."""
    from bot.config import Environment, _variables

    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    variables = _variables().values()
    assert {variable.name for variable in variables} <= documented
    assert {variable.name + "_FILE" for variable in variables if variable.from_file} <= documented
    for variable in variables:
        if not variable.from_file:
            assert Environment.model_fields[variable.name].description == variable.form
            # Just past the bound (1 below "ge", the bound itself for "gt"), or a text no URL or rate reads as one.
            wrong = [str(limit - 1) for limit in [variable.bounds.get("ge")] if limit is not None]
            wrong += [str(limit) for limit in [variable.bounds.get("gt")] if limit is not None]
            wrong += ["-5 of them"] if variable.checks else []
            for value in wrong:
                with pytest.raises(SettingsError, match=f"{variable.name} must be {re.escape(variable.form)}"):
                    read_environment({variable.name: value})


def test_a_second_stack_can_put_the_stripe_stand_in_on_its_own_port(monkeypatch):
    """A user running two stacks side by side: the second `make run` stopped with "stripe stopped unexpectedly"
    because the stand-in's port was fixed at 12111. STRIPE_STANDIN_PORT moves it, and the payments code (without
    a key) looks for it there. Mutation tried: stripe_client.api_base back to the fixed 12111 -> fails."""
    from bot.payments.stripe_client import api_base
    from bot.stack import StackConfig

    monkeypatch.setenv("STRIPE_STANDIN_PORT", "12999")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)
    settings = Settings.from_env()
    assert settings.stripe_standin_port == 12999
    assert api_base(settings) == "http://127.0.0.1:12999"
    assert StackConfig.__dataclass_fields__["stripe_port"].default == Settings().stripe_standin_port == 12111
    with pytest.raises(SettingsError, match="STRIPE_STANDIN_PORT must be a port number"):
        read_environment({"STRIPE_STANDIN_PORT": "70000"})


def test_given_secrets_leave_var_untouched(monkeypatch, tmp_path):
    """The container images have no writable var/: with every secret given (from files, as compose and Kubernetes
    do), reading the settings must not create var/ or a secret in it. The settle-init container died with
    "Permission denied: '/app/var'" when from_env made each var/ secret before looking whether one was given.
    Without them, they are still made and kept there."""
    import bot.config

    monkeypatch.setattr(bot.config, "PROJECT_ROOT", tmp_path)
    given = {"WIDGET_SECRET": "w" * 32, "EMAIL_LINK_SECRET": "e" * 32, "STRIPE_WEBHOOK_SECRET": "whsec_given"}
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setenv("SETTLE_MODE", "production")
    settings = Settings.from_env()
    assert (settings.widget_secret, settings.email_link_secret, settings.stripe_webhook_secret) == tuple(given.values())
    assert not (tmp_path / "var").exists()

    for name in given:
        monkeypatch.delenv(name)
    kept = Settings.from_env()
    assert kept.widget_secret == (tmp_path / "var" / "widget_secret").read_text().strip()
    assert kept.stripe_webhook_secret.startswith("whsec_")

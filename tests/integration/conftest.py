"""Fixtures the integration tests share."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.gateway.app import create_app
from tests.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

PUBLIC = "https://settle.example.com"  # the public address the Twilio signatures are made for


@pytest.fixture
def sms_gateway(running_stack):
    """An in-process gateway with Twilio keys on the shared stack's Rasa and database, texting the stand-in."""
    with TwilioStandIn() as twilio:
        settings = Settings(
            database_url=running_stack.config.database_url, rasa_url=running_stack.config.rasa_url,
            rasa_token=running_stack.config.rasa_token,
            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_from_number=FROM_NUMBER,
            twilio_api_url=twilio.url, public_base_url=PUBLIC, sms_retry_backoff_seconds=0.0)
        with TestClient(create_app(settings)) as client:
            yield client, twilio

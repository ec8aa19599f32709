"""The gateway's couriers for the outbox (bot/messaging/delivery.py): the widget's live push, Twilio and SMTP. Made per
app, from the app's live hub and its SMS channel's sender (None without Twilio keys: the local outbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from bot import sms
from bot.config import Settings
from bot.gateway.live import LiveHub
from bot.mail.courier import EmailCourier
from bot.messaging.delivery import Couriers
from bot.messaging.outbox import Posted


class WidgetCourier:
    """A sent message pushed to the debtor's open widget tabs (the conversation's topic); a widget that is not open
    reads it from its history on the next visit."""

    def __init__(self, hub: LiveHub) -> None:
        self.hub = hub

    async def deliver(self, posted: Posted) -> None:
        if posted.conversation_id is not None and posted.event:
            await self.hub.publish(posted.conversation_id, posted.event)


def couriers_for(app: Any) -> Couriers:
    from bot.gateway import sms_channel  # made on first use, once the app's pipeline exists

    hub: LiveHub | None = getattr(app.state, "live", None)
    return _couriers(app.state.engine, app.state.settings, hub, sms_channel.get_channel(app).courier)


def couriers_outside_gateway(engine: Engine, settings: Settings, hub: LiveHub | None) -> Couriers:
    """The same couriers for a job's process (`answer-saved`): Twilio from the settings' keys, the widget's push only
    through a shared hub (Redis); without one a widget reads the answer from its history when it next connects."""
    sender = sms.sender_from_settings(settings)
    courier = sms.SmsCourier(engine, sender, settings.sms_max_segments, sms.text_links(settings)) \
        if sender is not None else None
    return _couriers(engine, settings, hub, courier)


def _couriers(engine: Engine, settings: Settings, hub: LiveHub | None, sms_courier: Any) -> Couriers:
    return Couriers({"web": WidgetCourier(hub) if hub is not None else None,
                     "sms": sms_courier,
                     # Without SMTP_URL an email conversation's replies stay stored, undelivered (as texts without
                     # Twilio keys): the conversation and the console show them.
                     "email": EmailCourier(engine, settings) if settings.smtp_url else None})

"""SMS keywords handled before NLU (OPT-2): a whole message that is one of these words, in any case and with any
punctuation, is acted on directly. Natural phrasing ("stop texting me") goes through NLU to the same service."""

from __future__ import annotations

import re

from bot.config import Settings

# OPT-2: 47 CFR 64.1200(a)(10)-(12), CTIA, Twilio Advanced Opt-Out.
STOP_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
START_KEYWORDS = frozenset({"start", "unstop"})
HELP_KEYWORDS = frozenset({"help", "info"})

STOP, START, HELP = "stop", "start", "help"


def classify(text: str) -> str | None:
    """STOP, START or HELP when the whole message is that keyword ("Stop.", "OPT OUT", "stop all"), else None."""
    word = re.sub(r"[^a-z]", "", text.lower())
    if len(text) > 40:
        return None  # a sentence, not a keyword: NLU decides
    if word in STOP_KEYWORDS:
        return STOP
    if word in START_KEYWORDS:
        return START
    if word in HELP_KEYWORDS:
        return HELP
    return None


def stop_reply(channel: str) -> str:
    # OPT-3: one confirmation with nothing else in it: no balance, no link, no other ask.
    if channel == "sms":
        return "You're unsubscribed and won't get more texts from us. Reply START to resubscribe."
    return "You're unsubscribed from messages on this channel. Type START to resubscribe."


def start_reply(channel: str) -> str:
    return "You're subscribed again. Reply STOP at any time to opt out." if channel == "sms" else \
        "You're subscribed again. Type STOP at any time to opt out."


def opted_out_reply(channel: str) -> str:
    # OPT-3: the one answer a consumer who writes in after STOP gets; nothing more until START.
    start = "Reply START" if channel == "sms" else "Type START"
    return f"You're unsubscribed, so this is our only reply. {start} if you want answers here again."


def help_reply(settings: Settings) -> str:
    # OPT-2: HELP gives the company name, a support contact and how to stop.
    return (f"{settings.business_name}: for help, contact {settings.support_contact}. "
            "Reply STOP to opt out.")

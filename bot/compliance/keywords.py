"""SMS keywords handled before NLU (OPT-2): a whole message that is one of these words, in any case and with any
punctuation, is acted on directly. Natural phrasing ("stop texting me") goes through NLU to the same service."""

from __future__ import annotations

import re

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

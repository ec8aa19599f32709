"""Legal disclosures. The wording is fixed: it must not depend on a probabilistic policy. It lives in
bot/wording/ with the other texts, one catalogue per language; these names are the English ones."""

from __future__ import annotations

from bot import wording

# DISC-1: the first message that conveys any debt information (12 CFR 1006.18(e)(1)).
DEBT_COLLECTOR_DISCLOSURE = wording.say("debt_collector_disclosure")

# DISC-2: later communications say they are from a debt collector (1006.18(e)(2)).
FROM_DEBT_COLLECTOR = wording.say("from_debt_collector")


def debt_collector_disclosure(language: str | None) -> str:
    return wording.say("debt_collector_disclosure", language)


def from_debt_collector(language: str | None) -> str:
    return wording.say("from_debt_collector", language)

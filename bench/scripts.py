"""The scripted conversations the load generator plays, and the debtors Settle's script needs.

Settle's script is what a debtor does end to end: greet, ask what they owe, verify (date of birth, SSN last 4,
account number), hear the balance, ask for a plan at $100 to $300 a month, pick the first option, agree and get the
first payment's link, say goodbye. Each conversation is a different debtor of a generated portfolio and words its
requests in one of several ways (the amount too), so the NLU and the database see what real traffic would show
them: dates, SSN digits and account numbers never repeat, greetings, "1" and "yes" often do.

The baseline plays the bot `rasa init` makes (the moodbot) with its own six-turn script."""

from __future__ import annotations

import csv
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bot.gateway.pipeline import UNAVAILABLE_REPLY

BENCH_CREDITOR = "Woodgrove Bank"  # the default plan policy ($150 a month on $2,400.00 is 16 payments)
BENCH_BALANCE = "2400.00"
GREETINGS = ("hi", "hello", "hey there", "good morning", "hi, I got your letter", "hello?", "hey",
             "good afternoon", "hi there")
BALANCE_ASKS = ("what do I owe?", "how much do i owe", "what's my balance", "can you tell me my balance",
                "how much is my bill", "what is the amount due", "whats my balance", "what do i owe you guys",
                "I want to know how much I owe")
PLAN_ASKS = ("I can pay ${amount} a month", "can i do {amount} a month", "could I pay ${amount} monthly",
             "i can afford ${amount} per month", "what about ${amount} a month")
AGREEMENTS = ("YES", "yes", "Yes", "yes I agree")
GOODBYES = ("thanks, bye", "thank you, goodbye", "bye", "ok thanks", "that's all, thank you")

@dataclass(frozen=True)
class Conversation:
    turns: tuple[str, ...]
    checks: dict[int, str] = field(default_factory=dict)  # turn index -> text its reply must contain


class Script(ABC):
    def __init__(self, name: str, summary: str, turns_per_conversation: int, degraded: str | None = None) -> None:
        self.name = name
        self.summary = summary  # the turns, as the tables print them
        self.turns_per_conversation = turns_per_conversation
        self.degraded = degraded  # text of a 200 reply that still means the turn failed

    @abstractmethod
    def conversation(self, number: int) -> Conversation:
        """Conversation `number` of a run (each has its own sender id)."""


@dataclass(frozen=True)
class BenchDebtor:
    account_ref: str
    dob: date
    ssn_last4: str


def bench_debtor(number: int) -> BenchDebtor:
    """Debtor `number` of the generated portfolio; the same number always gives the same debtor."""
    rng = random.Random(number)
    # The account number has the shape of the ones in our letters (letters, a dash, digits: bot/identity.py).
    return BenchDebtor(f"BCH-{number:06d}", date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50)),
                       f"{rng.randrange(10000):04d}")


def write_portfolio(path: Path, count: int) -> Path:
    """A portfolio CSV (bot/portfolio_import.py's columns) of `count` bench debtors, no phone: web-chat debtors."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_ref", "first_name", "last_name", "dob", "ssn_last4", "zip", "phone", "email",
                         "timezone", "creditor", "balance"])
        for number in range(count):
            debtor = bench_debtor(number)
            writer.writerow([debtor.account_ref, "Bench", f"Debtor{number}", debtor.dob.isoformat(),
                             debtor.ssn_last4, "60601", "", "", "America/Chicago", BENCH_CREDITOR, BENCH_BALANCE])
    return path


class SettleScript(Script):
    def __init__(self) -> None:
        super().__init__("settle", "hi / what do I owe? / DOB / SSN last 4 / account / $100-300 a month / 1 / YES / "
                                   "bye, each in one of several wordings", 9, UNAVAILABLE_REPLY)

    def conversation(self, number: int) -> Conversation:
        debtor = bench_debtor(number)
        pick = random.Random(-number - 1)
        amount = pick.randrange(100, 310, 10)  # $100 to $300 a month on $2,400.00: 8 to 24 payments
        turns = (pick.choice(GREETINGS), pick.choice(BALANCE_ASKS), debtor.dob.strftime("%m/%d/%Y"),
                 debtor.ssn_last4, debtor.account_ref, pick.choice(PLAN_ASKS).format(amount=amount), "1",
                 pick.choice(AGREEMENTS), pick.choice(GOODBYES))
        # The balance once verified; the plan's first payment link once agreed (PLAN-2, PCI-1).
        return Conversation(turns, {4: "$2,400.00", 7: "/pay/"})


class MoodbotScript(Script):
    def __init__(self) -> None:
        super().__init__("moodbot", "hi / I am sad / yes / great / are you a bot? / bye", 6)

    def conversation(self, number: int) -> Conversation:
        return Conversation(("hi", "I am sad", "yes", "great", "are you a bot?", "bye"), {1: "Did that help you?"})


SETTLE_SCRIPT = SettleScript()
MOODBOT_SCRIPT = MoodbotScript()

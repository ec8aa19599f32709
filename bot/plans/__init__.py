"""Instalment plans (COMPLIANCE.md section H): creditor policy, what the debtor says they can afford, the
plan options we may offer, and the plain-words terms.

Pure Python on purpose: no Rasa, HTTP or database here, so every rule can be tested in isolation. The caller
loads the account, converts "today" into the debtor's time zone, and records consent (PLAN-2).
"""

from bot.plans.affordability import Affordability, parse_affordability
from bot.plans.engine import propose
from bot.plans.options import Installment, PlanOption, Proposal
from bot.plans.policy import (
    DEFAULT_POLICY_PATH,
    DownPayment,
    Fee,
    PlanPolicy,
    PolicyBook,
    PolicyError,
    SettlementOffer,
    load_policy,
    parse_policy,
)
from bot.plans.terms import describe_option, describe_schedule, format_date

__all__ = [
    "DEFAULT_POLICY_PATH",
    "Affordability",
    "DownPayment",
    "Fee",
    "Installment",
    "PlanOption",
    "PlanPolicy",
    "PolicyBook",
    "PolicyError",
    "Proposal",
    "SettlementOffer",
    "describe_option",
    "describe_schedule",
    "format_date",
    "load_policy",
    "parse_affordability",
    "parse_policy",
    "propose",
]

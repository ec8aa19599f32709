"""Compliance-critical requests: opt-out, cease, attorney, bankruptcy, deceased, wrong person, hardship and
asking for a person. Each is recorded with its rule ID and answered without revealing anything about a debt,
so the same reply is safe before and after verification.

Not yet built here (see the README's compliance status): the account status changes, attorney and case-number
capture, channel suppression and the live handoff queue. Today each request is recorded as an audit event
for the team to act on, and the debtor is told honestly how to reach a person."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot import audit
from bot.db.models import Conversation


@dataclass(frozen=True)
class SensitiveRule:
    rule_id: str
    event: str
    reply: str


RULES: dict[str, SensitiveRule] = {
    # OPT-3: the confirmation carries nothing else (no balance, no link).
    "opt_out": SensitiveRule("OPT-2", "opt_out_requested",
                             "You're opted out and won't get more texts from us. Reply START to opt back in."),
    "cease_contact": SensitiveRule(
        "CEASE-1", "cease_requested",
        "Understood. I've recorded your request that we stop contacting you. "
        "A person on our team will review it. You can reach them at {support}."),
    "attorney_represented": SensitiveRule(
        "CEASE-2", "attorney_reported",
        "Thanks for telling me. I've noted that you have an attorney. Please send their name and phone "
        "number to {support}, and we'll deal with them from now on."),
    "bankruptcy": SensitiveRule(
        "CEASE-3", "bankruptcy_reported",
        "Thanks for telling me. I've noted it for our team. If you have your case number, "
        "please send it to {support}."),
    "deceased": SensitiveRule(
        "CEASE-4", "deceased_reported",
        "I'm so sorry for your loss. I've noted it, and a person on our team will handle this with care. "
        "You can reach them at {support}."),
    "wrong_person": SensitiveRule(
        "ID-4", "wrong_party_reported",
        "Sorry for the mix-up. I've noted that we reached the wrong person. You don't need to do anything."),
    "hardship": SensitiveRule(
        "VUL-2", "hardship_reported",
        "I'm sorry things are hard right now. A person on our team can talk through options with you. "
        "You can reach them at {support}."),
    "request_human": SensitiveRule(
        "HO-1", "handoff_requested",
        "You can reach a person on our team at {support}. I've noted that you asked."),
}

# VUL-2: self-harm cues get the crisis line, whatever else the message says.
_CRISIS_CUES = re.compile(
    r"\b(kill myself|suicid\w*|end it all|end my life|can'?t go on|don'?t want to (?:live|be here)|"
    r"hurt myself|self[- ]harm|no reason to live)\b",
    re.IGNORECASE,
)
CRISIS_LINE = "If you're thinking about harming yourself, please call or text 988 (Suicide & Crisis Lifeline) now."
# VUL-1: military cues are flagged for a person.
_MILITARY_CUES = re.compile(r"\b(deployed|deployment|active duty|military|army|navy|marines?|air force|"
                            r"national guard|servicemember|soldier)\b", re.IGNORECASE)


def handle(session: Session, conversation_id: str, intent: str, text: str, support_contact: str) -> list[str]:
    """Record the request with its rule ID and return the reply to send."""
    rule = RULES[intent]
    conversation = session.get(Conversation, conversation_id)
    account_id = conversation.account_id if conversation is not None else None
    audit.record(session, rule.event, rule_id=rule.rule_id, conversation_id=conversation_id,
                 account_id=account_id, actor="debtor", detail={"intent": intent})
    replies = []
    if _CRISIS_CUES.search(text):
        audit.record(session, "crisis_cue", rule_id="VUL-2", conversation_id=conversation_id, account_id=account_id)
        replies.append(CRISIS_LINE)
    if _MILITARY_CUES.search(text):
        audit.record(session, "military_cue", rule_id="VUL-1", conversation_id=conversation_id, account_id=account_id)
    replies.append(rule.reply.format(support=support_contact))
    return replies

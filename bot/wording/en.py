"""English: the texts the Python side sends (keys shared with bot/wording/es.py). VOICE.md: plain, short, calm."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # DISC-1: the first message that conveys any debt information (12 CFR 1006.18(e)(1)).
    "debt_collector_disclosure": ("This is a debt collector. This is an attempt to collect a debt, "
                                  "and any information obtained will be used for that purpose."),
    # DISC-2: later communications say they are from a debt collector (1006.18(e)(2)).
    "from_debt_collector": "This message is from a debt collector.",
    # OPT-1: the exact line every bot-initiated SMS or email ends with.
    "opt_out_line": "Reply STOP to opt out.",
    # OPT-3: one confirmation with nothing else in it: no balance, no link, no other ask.
    "stop_reply_sms": "You're unsubscribed and won't get more texts from us. Reply START to resubscribe.",
    "stop_reply_other": "You're unsubscribed from messages on this channel. Type START to resubscribe.",
    "start_reply_sms": "You're subscribed again. Reply STOP at any time to opt out.",
    "start_reply_other": "You're subscribed again. Type STOP at any time to opt out.",
    # OPT-3: the one answer a consumer who writes in after STOP gets; nothing more until START.
    "opted_out_reply_sms": ("You're unsubscribed, so this is our only reply. Reply START if you want answers here "
                            "again."),
    "opted_out_reply_other": ("You're unsubscribed, so this is our only reply. Type START if you want answers here "
                              "again."),
    # OPT-2: HELP gives the company name, a support contact and how to stop.
    "help_reply": "{business}: for help, contact {support}. Reply STOP to opt out.",
    # VUL-2: the crisis line, whatever the NLU makes of the message.
    "crisis_line": ("If you're thinking about harming yourself, please call or text 988 (Suicide & Crisis Lifeline) "
                    "now."),
    # The inbound gate's own answers (bot/gateway/pipeline.py). DISC-3: said to anyone, so they name no debt.
    "empty_message_reply": ("Sorry, I didn't catch that. Tell me in a few words what you need, or say 'talk to a "
                            "person'."),
    "unavailable_reply": ("Sorry, I'm having trouble right now. Your message is saved. "
                          "Please try again in a few minutes, or say 'talk to a person'."),
    "inconvenient_time_revoked": "Thanks, we'll keep talking now. How can I help?",
    # PCI-1; DISC-3.
    "card_warning": ("For your safety, please don't send card details in chat. I've removed them. "
                     "We never take card details here; we only ever send a secure link of ours."),
    # PCI-1: a picture could be a card or an ID (bot/gateway/sms_channel.py).
    "media_reply": ("Sorry, I can't open pictures or files sent by text. Please type your message instead, or say "
                    "'talk to a person'. For your safety, please don't send photos of cards or IDs."),
    # Verification (actions/verification.py). DISC-3: neutral wording, no "debt", creditor or amount before it.
    "verify_locked": ("Sorry, I couldn't confirm your details. For your security, I can't share account details in "
                      "chat for the next 24 hours. Say 'talk to a person' and someone on our team can help."),
    "verify_retry": "Sorry, I couldn't confirm those details. Let's try once more.",
    # ID-2: said for any details, existing or not, so it tells a stranger nothing.
    "verify_throttled": "I can't check those details again just yet. Please try again in {minutes}.",
    "minute_one": "a minute",
    "minutes_many": "{count} minutes",
    "verify_first": "I can help with that. First I need to confirm who you are.",
    "verify_start": "Thanks. Let me confirm who you are.",
    "ask_dob_again": "Sorry, I didn't catch that date. Please type it like this: 03/14/1979.",
    "ask_secret_again": ("Sorry, I didn't catch that. Please type the last 4 digits of your Social Security number, "
                         "or your 5-digit ZIP code."),
    "ask_locator_again": ("Sorry, I didn't catch that. Please type the account number from our letter (like "
                          "SET-100001), or your first and last name."),
    # ID-2: a ZIP verifies only beside the account reference, so a name there is not enough.
    "ask_reference_again": ("With a ZIP code I also need the account number from our letter (like SET-100001). If "
                            "you don't have it, type the last 4 digits of your Social Security number instead."),
    # The balance (bot/accounts.py): read from the ledger, after the DISC-1/DISC-2 disclosure.
    "balance_line": "Your balance with {creditor} (account ending {last4}) is {amount}{status}.",
    "balance_status": " (status: {status})",
    "no_balance": "I couldn't find an open balance for you.",
    "balance_next": "What would you like to do next? You can say 'payment plan', 'pay now' or 'talk to a person'.",
    "status_active": "active", "status_disputed": "disputed", "status_ceased": "ceased",
    "status_attorney": "attorney", "status_bankrupt": "bankrupt", "status_deceased": "deceased",
    "status_paid": "paid", "status_closed": "closed",
    # Disputes (bot/disputes.py, actions/disputes.py): DSP-1 to DSP-3.
    "dispute_kind_all": "All of it",
    "dispute_kind_amount": "The amount is wrong",
    "dispute_kind_not_mine": "It's not mine",
    "dispute_kind_already_paid": "I already paid",
    "dispute_ask_kind": "I'm sorry about the trouble. What do you dispute?\n{choices}",
    "dispute_kind_again": "Sorry, I didn't catch that. Please pick 1, 2, 3 or 4.",
    "dispute_amount_again": "Sorry, I didn't catch that. Please type an amount like $500, or say 'I don't know'.",
    "dispute_no_account": "I couldn't find an open account to dispute. Say 'talk to a person' and someone can help.",
    "dispute_item": "{amount} on the account ending {last4}",
    "dispute_recorded": ("Got it. On {when} I recorded your dispute of {disputed}. We've paused collection on it "
                         "while we check, and we'll send you what we find in writing. You don't need to pay the "
                         "disputed amount while we check."),
    # DSP-2: not "ask you to pay it" (the gate takes those words for a payment ask on the held account).
    "must_pay_disputed": ("No. You've disputed this debt, so we won't ask you for any payment on it until we send "
                          "you what we find, in writing. Say 'talk to a person' if you have questions."),
    "must_pay_until": ("You have the right to dispute this debt. If you dispute it by {date}, we'll stop collecting "
                       "until we send you proof of it. Say 'dispute' to dispute it, or ask me anything else."),
    "must_pay_any_time": ("You have the right to dispute this debt at any time. Say 'dispute' to dispute it, or "
                          "'talk to a person' if you have questions."),
    # The language of the conversation (bot/language.py).
    "language_question": "¿Prefiere español? Responda ESPAÑOL. / Prefer English? Reply ENGLISH.",
    "language_now": "OK, we'll continue in English. Say 'en español' any time to switch.",
    # Reminders (bot/reminders.py): the gate adds DISC-2 and OPT-1 in the same language.
    "reminder_installment": ("Hi, this is {business}. Payment {number} of {count} on your plan {reference}, {amount}, "
                             "is due on {due}. To pay, reply 'pay now' and we'll send a secure link. Questions? Reply "
                             "'talk to a person'."),
    "reminder_missed": ("Hi, this is {business}. We haven't received payment {number} of {count} on your plan "
                        "{reference}, {amount}, which was due on {due}. If you've paid it, thank you. If not, reply "
                        "'pay now' for a secure link, or 'talk to a person' to talk about your plan."),
    # DISC-3: nothing about a debt, nothing that names the creditor or the debtor.
    "first_contact": ("Hello, this is an automated message from {business}. We'd like to talk with you about a "
                      "personal business matter. Please reply to this text, or contact us at {support}."),
}

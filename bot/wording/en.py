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
    # The language of the conversation (bot/language.py).
    "language_question": "¿Prefiere español? Responda ESPAÑOL. / Prefer English? Reply ENGLISH.",
    "language_now": "OK, we'll continue in English. Say 'en español' any time to switch.",
}

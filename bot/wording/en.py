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
    # OPT-3 by email: a START by email never opts back in (a From line is easy to forge, README "Email"), so the
    # confirmation says the way that works: the support address every email's footer gives (a person).
    "stop_reply_email": ("You're unsubscribed and won't get more emails from us. Replying START can't turn them back "
                         "on: to get emails again, write to the support address below."),
    "opted_out_reply_email": ("You're unsubscribed from our emails, so this is our only reply. Replying START can't "
                              "turn them back on: to get emails again, write to the support address below."),
    "start_reply_sms": "You're subscribed again. Reply STOP at any time to opt out.",
    "start_reply_other": "You're subscribed again. Type STOP at any time to opt out.",
    # OPT-3: the one answer a consumer who writes in after STOP gets; nothing more until START.
    "opted_out_reply_sms": ("You're unsubscribed, so this is our only reply. Reply START if you want answers here "
                            "again."),
    "opted_out_reply_other": ("You're unsubscribed, so this is our only reply. Type START if you want answers here "
                              "again."),
    # OPT-2 in a live chat: a lone CANCEL, END or QUIT may mean "cancel this"; it asks, and STOP opts out.
    "cancel_or_stop_reply": ("Do you want to stop all messages in this chat? If so, type STOP. If not, tell me "
                             "what you'd like to do, or say 'talk to a person'."),
    # OPT-2: HELP gives the company name, a support contact and how to stop.
    "help_reply": "{business}: for help, contact {support}. Reply STOP to opt out.",
    # VUL-2: the crisis line, whatever the NLU makes of the message.
    # VUL-2: 988 first, then the person crisis_cue has asked for and what the debtor can do now (VOICE: always a
    # next step); nothing about a debt.
    "crisis_line": ("If you're thinking about harming yourself, please call or text 988 (Suicide & Crisis Lifeline) "
                    "now. I've also asked a person on our team to check on you here. You can reply any time."),
    # The inbound gate's own answers (bot/gateway/pipeline.py). DISC-3: said to anyone, so they name no debt.
    # Not the NLU fallback's words: an empty message is not one the bot misunderstood, so two in a row queue no
    # person (HO-1's repeated fallback, bot/agents/escalation.after_fallbacks).
    "empty_message_reply": ("Your message came through empty. Tell me in a few words what you need, or say 'talk "
                            "to a person'."),
    # Said when no Rasa answers: the message is queued and answered once Rasa is back (bot/messaging/saved.py), so
    # this promises that, not "try again" (which asked the debtor to repeat what we kept). The next step is HELP, which
    # the gate answers without Rasa (the support contact); "talk to a person" needs the NLU, down too. No "urgent":
    # TONE-1's filter refuses it in any message.
    "unavailable_reply": ("Sorry, I'm having trouble right now. Your message is saved and I'll answer it as soon "
                          "as I can. To reach a person sooner, reply HELP."),
    # ID-2: a saved message that answered a security question is stored as what it was, never its value, so it
    # cannot be answered later: the debtor is asked again (bot/gateway/pipeline.py, answer_saved).
    "saved_identity_answer_again": ("Sorry for the wait. For your safety I don't keep answers to security "
                                    "questions, so please send that answer again."),
    # DISC-5: the validation notice in two sentences (the message's text; the document carries the whole notice).
    "notice_summary": ("Validation notice. {creditor} says you owe {amount} on the account ending {last4}. You have "
                       "the right to dispute all or part of this debt. If you dispute it by {ends}, we must stop "
                       "collection until we send you verification."),
    # TIME-2: said with the one reply given at a time the consumer marked inconvenient.
    "inconvenient_time_question": ("You told us this is not a good time to reach you, so we'll answer the rest "
                                   "later. Reply YES if now is fine after all."),
    "inconvenient_time_revoked": "Thanks, we'll keep talking now. How can I help?",
    # PLAN-2: the debtor stopped automatic payments in the chat (bot/payments/autopay.revoke_on_request).
    "autopay_revoked": ("Done. Automatic payments for plan {reference} are off now. Nothing more will be charged to "
                        "your card on its own."),
    "autopay_revoked_next": ("Your plan is still on. Next payment: {amount} on {date}. To pay it, say 'pay now' and "
                             "I'll send a secure link."),
    # PLAN-2 before verification (bot/payments/autopay.keep_until_verified). DISC-3: said to anyone, names no debt.
    "autopay_stop_after_verify": ("Got it. I've noted your request, and I'll do it as soon as I've confirmed who you "
                                  "are."),
    "autopay_revoked_plan_person": "To end the plan itself, say 'talk to a person'.",
    "autopay_none": ("Automatic payments are not on for you, so nothing is charged to your card on its own. Say 'my "
                     "plan' to see your plan, or 'talk to a person'."),
    # TIME-1: the debtor told us when not to text them (bot/contact_preferences.mark_inconvenient_times).
    "inconvenient_marked": "Got it. We won't text or call you {times}, your time.",
    "inconvenient_before": "before {time}",
    "inconvenient_after": "after {time}",
    "inconvenient_between": "between {start} and {end}",
    "inconvenient_day": "on {day}",
    "inconvenient_and": " or ",
    "inconvenient_place": ("Thanks for telling me. I've noted it for our team, and a person will see it. How else "
                           "can I help?"),
    # PCI-1; DISC-3.
    "card_warning": ("For your safety, please don't send card details in chat. I've removed them. "
                     "We never take card details here; we only ever send a secure link of ours."),
    # PCI-1: a picture could be a card or an ID (bot/gateway/sms_channel.py).
    "media_reply": ("Sorry, I can't open pictures or files sent by text. Please type your message instead, or say "
                    "'talk to a person'. For your safety, please don't send photos of cards or IDs."),
    # Verification (actions/verification.py). DISC-3: neutral wording, no "debt", creditor or amount before it.
    "verify_locked": ("Sorry, I couldn't confirm your details. For your security, I can't share account details in "
                      "chat for the next 24 hours. Say 'talk to a person' and someone on our team can help."),
    # ID-3: the same words for any details (a locked person's answer as made-up ones), true in either case.
    # The lock comes first and the count is said to be this chat's: a locked person's right details get these
    # same words, and "You have 2 more tries" alone read as a promise that could not be kept (F33).
    "verify_retry": ("Sorry, I couldn't confirm those details. If they were tried 3 times in the last day, in any "
                     "chat, they're locked for 24 hours for your security: say 'talk to a person'. If not, {tries}"),
    "verify_tries_one": "this chat has 1 more try.",
    "verify_tries_many": "this chat has {count} more tries.",
    # ID-2: said for any details, existing or not, so it tells a stranger nothing.
    "verify_throttled": "I can't check those details again just yet. Please try again in {minutes}.",
    "minute_one": "a minute",
    "minutes_many": "{count} minutes",
    "verify_first": "I can help with that. First I need to confirm who you are.",
    "verify_start": "Thanks. Let me confirm who you are.",
    # A question asked while verification waits for an answer (the NLU read a request, not an answer): it is
    # answered after the check, never met with "I didn't catch that date".
    "verify_question_first": "I'll answer that once I've confirmed who you are.",
    "ask_dob_again": "Sorry, I didn't catch that date. Please type it like this: 03/14/1979.",
    # ID-2: another answer typed where the date was asked is kept, never confirmed (actions/verification.py).
    "verify_kept": "Thanks, I've noted that.",
    "ask_secret_again": ("Sorry, I didn't catch that. Please type the last 4 digits of your Social Security number, "
                         "or your 5-digit ZIP code."),
    "ask_locator_again": ("Sorry, I didn't catch that. Please type the account number from our letter (like "
                          "SET-100001), or your first and last name."),
    # ID-2: a ZIP verifies only beside the account reference, so a name there is not enough.
    "ask_reference_again": ("With a ZIP code I also need the account number from our letter (like SET-100001). If "
                            "you don't have it, type the last 4 digits of your Social Security number instead."),
    # The balance (bot/accounts.py): read from the ledger, after the DISC-1/DISC-2 disclosure.
    "balance_line": "Your balance with {creditor} (account ending {last4}) is {amount}.",
    "no_balance": "I couldn't find an open balance for you.",
    "balance_next": "What would you like to do next? You can say 'payment plan', 'pay now' or 'talk to a person'.",
    # DISC-4 and DISC-3: "are you a bot?", "are you a person?", "who is this?", "what company is this?" all get the
    # neutral business name and that this is an automated assistant, not a person (never the creditor or a debt).
    "who_we_are": ("This is {business}. I'm an automated assistant, not a person. Say 'talk to a person' any time to "
                   "reach someone on our team."),
    # N4: whether a payment arrived, from our records (bot/payments/status.py). A question, never a dispute.
    "payment_status_received": "We received your payment of {amount} on {date} (reference {reference}).",
    "payment_status_held": ("We received your payment of {amount} on {date} (reference {reference}). It's on hold "
                            "while we look into your account, so it isn't applied yet."),
    "payment_status_none": ("I don't see a payment from you in our records yet. A card payment usually shows here "
                            "within minutes."),
    "payment_status_next": ("If a payment you made is missing, say 'talk to a person' and someone will check. Or tell "
                            "me what else you need."),
    # Disputes (bot/disputes.py, actions/disputes.py): DSP-1 to DSP-3.
    "dispute_kind_all": "All of it",
    "dispute_kind_amount": "The amount is wrong",
    "dispute_kind_not_mine": "It's not mine",
    "dispute_kind_already_paid": "I already paid",
    "dispute_ask_kind": "I'm sorry about the trouble. What do you dispute?\n{choices}",
    "dispute_kind_again": "Sorry, I didn't catch that. Please pick 1, 2, 3 or 4.",
    # DSP-1: with more than one open account, which one the dispute is about (actions/disputes.py).
    "dispute_ask_account": "Which account is this about?\n{choices}",
    "dispute_account_item": "The account ending {last4} ({creditor})",
    "dispute_account_all": "All of them",
    "dispute_account_again": ("Sorry, I didn't catch that. Please pick {numbers}, or type the last 4 digits of the "
                              "account."),
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
    # DSP-3 asked at the dispute menu, which follows: the choice is right below, so no "say 'dispute'".
    "must_pay_until_menu": ("You have the right to dispute this debt. If you dispute it by {date}, we'll stop "
                            "collecting until we send you proof of it. Pick what you dispute, or say 'never mind'."),
    "must_pay_any_time_menu": ("You have the right to dispute this debt at any time. While we check a dispute, we "
                               "pause collection. Pick what you dispute, or say 'never mind'."),
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
    # Payments (bot/payments/texts.py): receipts and notices. PCI-1: a link of ours, never card details in chat.
    "no_cards_in_chat": "Please don't send card details in chat.",
    "pay_ask_a_person": "Say 'talk to a person' if you need help.",
    "expiry_time": "{date} at {time}",
    "expiry_midnight": "at the end of {date}",
    "pay_link": ("Here's your secure link to pay {amount}: {url} It works once and expires {expires}. Please don't "
                 "send card details in chat."),
    "pay_link_autopay": ("On the payment page you can also choose to have later plan payments taken from the same "
                         "card on their due dates."),
    "receipt": ("Thank you. We received your payment of {amount} on {date}{paid_with}. Your balance with {creditor} "
                "is now {balance}. Receipt number: {reference}."),
    "receipt_paid_with": " with your {card}",
    "settled": "Your account with {creditor} is now settled in full. Thank you.",
    "progress_done": "Payment {number} of {count} on plan {reference} is done.",
    "progress_complete": "Your plan is complete. Thank you.",
    "progress_next": "Next payment: {amount} on {date}.",
    "progress_autopay": "We'll take it from your {card}.",
    "progress_link": "We'll send you a link before then.",
    "autopay_on": "Automatic payments are on for your {card}. Your authorisation, for your records: {authorisation}",
    # PLAN-2 (Reg E 1005.10(b), Nacha WEB): what is charged, when, and how to stop it.
    "authorisation": ("I authorise {business} to charge this card for the rest of plan {reference}: {payments} of "
                      "{amount}, on each due date from {first} to {last}, and to keep the card on file for them. I "
                      "will get a notice before each payment. I can stop this at any time by saying 'talk to a "
                      "person' in the chat or writing to {support} at least 3 business days before a payment."),
    "authorisation_one": "payment",
    "authorisation_many": "{count} payments",
    # PLAN-3: names the payment plan, so the gate holds it if the account goes on hold (DSP-2).
    "debit_notice": ("A reminder: on {date} we'll take {amount} from your {card} for your payment plan {reference} "
                     "(payment {number} of {count}). To stop automatic payments, say 'talk to a person' at least 3 "
                     "business days before."),
    "autopay_declined": ("Your automatic payment of {amount} due {due} didn't go through: {reason} Nothing was "
                         "taken. You can pay it with this secure link: {url}"),
    # PLAN-3: the notice before this debit could not be given, so the debit will never run; told once.
    "autopay_notice_blocked": ("Your automatic payment of {amount} due {due} didn't run: we couldn't give you the "
                               "notice the law requires before we take a payment. Nothing was taken, and nothing will "
                               "be taken automatically for it. You can pay it with this secure link: {url} It expires "
                               "{expires}."),
    "autopay_retry": "If you don't, we'll try your card again on {date}.",
    "autopay_missed_on": "If it isn't paid by {date}, we'll mark it as missed.",
    "missed": ("We couldn't collect your plan payment of {amount} due {due}, so it's marked as missed. You can still "
               "pay it with this secure link: {url}"),
    "decline_authentication_required": "your bank wants you to confirm this payment yourself.",
    "decline_insufficient_funds": "your bank said there wasn't enough money available.",
    "decline_expired_card": "your card has expired.",
    "decline_other": "your bank declined it.",
    "refund": ("We've refunded {amount}{to}. Your balance with {creditor} is now {balance}. It can take 5 to 10 days "
               "to show on your statement."),
    "refund_to": " to your {card}",
    # DSP-2: money for a disputed debt is acknowledged, not applied, and never followed by an ask.
    "payment_held": ("We received a payment of {amount}. Because we're looking into your dispute, we haven't applied "
                     "it to this account. A person on our team will review it and write to you."),
    "async_failed": ("Your payment of {amount} didn't go through, so nothing was taken. Say 'pay now' to get a new "
                     "link."),
    "card_label": "{brand} card ending {last4}",
    "card_label_plain": "card ending {last4}",
    "card_word": "card",
    "authorisation_now": "I agree to pay {amount} now.",
    "amount_range": "{low} to {high}",
    # Why nothing can be paid on a held account (bot/compliance/holds.py): never a payment ask (DSP-2, CEASE-*).
    "hold_DSP-2": ("This account is on hold while we look into your dispute, so there's nothing to pay right now. "
                   "We'll send you what we find in writing. Say 'talk to a person' if you have questions."),
    "hold_CEASE-1": ("You've asked us to stop contacting you about this account, so I can't take payments on it here. "
                     "Say 'talk to a person' if you'd like help."),
    "hold_CEASE-2": ("Your attorney is handling this account, so please talk to them about it. If you no longer "
                     "have an attorney, say 'talk to a person'."),
    "hold_CEASE-3": ("This account is part of a bankruptcy, so we're not collecting on it. Say 'talk to a person' "
                     "if you have questions."),
    "hold_CEASE-4": "A person on our team is handling this account. Say 'talk to a person' to reach them.",
    # VUL-2: why (the hardship they told us), and what a person will go over; never a bare refusal.
    "hold_VUL-2": ("Since things are hard right now, we've paused collection on this account, so we won't ask you for "
                   "money for now. A person on our team will go over your options with you, like a hardship plan or a "
                   "longer pause. Say 'talk to a person' to reach them."),
    "hold_ACCOUNT-CLOSED": "There's nothing to pay on this account. Say 'talk to a person' if you have questions.",
    # Pay now (bot/payments/service.py, actions/payments.py).
    "pay_no_account": "I couldn't find an open account for you. Say 'talk to a person' if you need help.",
    "pay_choice_installment": "Next plan payment: {amount}",
    "pay_choice_balance": "Full balance: {amount}",
    "pay_choice_settlement": "Settle for {amount}",
    "pay_choice_amount": "{amount} toward your balance",
    "pay_amount_negative": "I can only take an amount above zero, like $50.00.",
    "pay_amount_inexact": "Sorry, I couldn't read that amount exactly. Please type it like $12.50.",
    "pay_too_small": "The smallest payment I can take is {amount}.",
    "pay_too_big": "That's more than your balance of {amount}.",
    "pay_confirm_balance": "You'd like to pay your full balance of {amount}.",
    "pay_confirm_installment": "You'd like to pay your next plan payment of {amount}.",
    "pay_confirm_settlement": ("You'd like to settle this account for {amount} in one payment. Once it's paid, your "
                               "balance of {balance} is settled in full."),
    "pay_confirm_amount": "You'd like to pay {amount}. Your balance after it will be {left}.",
    "pay_confirm_ask": "Is that right? Reply YES for your secure payment link, or tell me a different amount.",
    "pay_below_card_minimum": ("Your balance is {balance}. That's less than the {minimum} our secure payment page "
                               "can take, so I can't make a payment link for it. A person on our team can sort it "
                               "out with you: say 'talk to a person'."),
    "pay_refused_amount": ("Your balance is {balance}, so I can't make a link for that amount. Tell me another "
                           "amount, or say 'talk to a person'."),
    "pay_balance_changed": "Your balance has just changed. Say 'pay now' to see it again.",
    "pay_settlement_changed": ("Your balance has just changed, so that settlement no longer applies. Say 'pay now' "
                               "to see your options again."),
    "pay_installment_changed": "That plan payment is already done or has changed. Say 'my plan' to check it.",
    "first_payment_next": ("What happens next: your first payment of {amount} is due {date}. {link} Say 'my plan' "
                           "to check it, or 'talk to a person'."),
    "or": "or",
    "sorry_again": "Sorry, I didn't catch that.",
    "pay_declined": ("No problem. Nothing has been charged. Say 'pay now' any time, or 'talk to a person' if you "
                     "need help."),
    "pay_plan_instead": "It sounds like you'd like to pay over time. Say 'payment plan' and I'll show you the options.",
    "pay_finish_plan_first": ("Let's finish setting up your plan first. Once it's set up, I'll send you a secure link "
                              "for the first payment."),
    "pay_yes_button": "Yes, send the link",
    "pay_no_button": "No, change it",
    "pay_pick": "Reply {numbers}, or type an amount like {example}. Say 'never mind' to stop.",
    "pay_pick_only": "Reply {numbers} to pay your balance. Say 'never mind' to stop.",
    "pay_how_much": "Your balance with {creditor} is {balance}. How much would you like to pay?",
    "pay_other_accounts": "You also owe {others}. To pay that one instead, say its name.",
    "pay_lost_track": "Sorry, I lost track of the amount. Say 'pay now' to start again.",
    "pay_confirm_again": ("To get your secure link for {amount}, reply YES. Or tell me a different amount, or say "
                          "'never mind'."),
    # Plans (bot/plans/terms.py, engine.py, service.py; actions/plans.py). PLAN-1: complete terms; PLAN-2: an explicit
    # yes to them; PLAN-4: a person when the offer is far from what the debtor can pay.
    "terms_settlement": ("One payment of {total} on {date} settles this account in full. That is {discount} less "
                         "than the balance of {balance}. Total: {total}. {fees}"),
    "terms_single": "One payment of {total} on {date}. Total: {total}. {fees}",
    "terms_head_equal": "{count} {counted} of {amount}",
    "terms_run": "{count} of {amount}",
    "terms_then": ", then ",
    "terms_head_runs": "{count} {counted}: {runs}",
    "terms_plan": "{head}, from {first} to {last}. Total: {total}. {fees}",
    "schedule_run": "Then {amount} {every} until {date} (payments {first} to {last}).",
    "schedule_run_monthly": ("Then {amount} on the {day} of each month{short} until {date} (payments {first} to "
                             "{last}). If that day is a Saturday or Sunday, it's the Monday after."),
    "counted_weekly": "weekly payments", "counted_biweekly": "payments every 2 weeks",
    "counted_monthly": "monthly payments", "counted_other": "payments",
    "every_weekly": "every week", "every_biweekly": "every 2 weeks", "every_monthly": "every month",
    "every_other": "each time",
    "no_fees": "No fees.",
    "fees": "Includes {amount} in fees: {items}.",
    "fee_item": "{name} {amount} ({authority})",
    "authority_contract": "allowed by your contract", "authority_state_law": "allowed by state law",
    "plan_next_step": "If you have questions, you can talk to a person.",
    "plan_refusal_disputed": ("This account is on hold while we look into your dispute, so I can't set up a plan on "
                              "it right now."),
    "plan_refusal_ceased": "Collection on this account has stopped, so I can't set up a plan on it.",
    "plan_refusal_attorney": "Your attorney is handling this account, so I can't set up a plan on it here.",
    "plan_refusal_bankrupt": "This account is part of a bankruptcy, so I can't set up a plan on it.",
    "plan_refusal_deceased": "I can't set up a plan on this account.",
    "plan_refusal_paid": "This account is paid off. There's nothing left to pay.",
    "plan_refusal_closed": "This account is closed, so there's no plan to set up.",
    "plan_refusal_other": "I can't set up a plan on this account right now.",
    "plan_note_down_payment": "The first payment has to be at least {amount}.",
    "plan_note_needs_person": ("That's more than you said you can pay. A person on our team can look at other "
                               "options with you."),
    "plan_note_one_payment": ("Your balance is less than the smallest plan payment of {minimum}, so it's one payment "
                              "of {balance}."),
    "plan_note_not_available_instead": ("{named} aren't available for this account, so this plan has a payment "
                                        "{every} instead."),
    "plan_note_not_available": "{named} aren't available for this account.",
    "plan_note_minimum": "The smallest plan payment is {amount}.",
    "plan_note_too_long": ("At {amount} {per}, paying this off would take longer than {months} months, the longest "
                           "plan we can offer."),
    "plan_note_fits": "Paying {amount} {every} fits what you offered.",
    "plan_note_closest": "The closest plan I can offer is {amount} {every}.",
    "plan_note_anchor": "The first payment has to be by {date}, so it's due then. After that, payments are on {rest}.",
    "named_weekly": "Weekly payments", "named_biweekly": "Payments every 2 weeks", "named_monthly": "Monthly payments",
    "per_weekly": "a week", "per_biweekly": "every 2 weeks", "per_monthly": "a month", "per_payment": "per payment",
    "per_once": "once",
    "weekdays_0": "Mondays", "weekdays_1": "Tuesdays", "weekdays_2": "Wednesdays", "weekdays_3": "Thursdays",
    "weekdays_4": "Fridays", "weekdays_5": "Saturdays", "weekdays_6": "Sundays",
    "day_of_month": "the {day} of the month",
    "or_last_day": " (or the last day of a shorter month)",
    "plan_how_to_pay": ("We'll send you a link to make each payment. Nothing is taken from your account automatically "
                        "unless you choose automatic payments on the first payment page."),
    "plan_how_to_pay_once": ("We'll send you a link to make this payment. Nothing is taken from your account "
                             "automatically."),
    "plan_ask_a_person": "Say 'talk to a person' if you have questions.",
    "talk_to_a_person": "talk to a person",
    "plan_refusal_hold": "I can't set up a plan on this account.",
    # VUL-2: after a hardship a person sets up the plan, so the debtor hears why and what happens next.
    "plan_refusal_VUL-2": ("Since things are hard right now, we've paused collection, and a person on our team will "
                           "set up any plan with you. They can go over your options, like a smaller hardship plan or "
                           "a longer pause. Say 'talk to a person' to reach them."),
    "plan_refusal_VUL-2_queued": ("Since things are hard right now, we've paused collection, and a person on our team "
                                  "will set up any plan with you. They're on the way, and can go over your options, "
                                  "like a smaller hardship plan or a longer pause."),
    "summary_settlement": "Settle for {amount}",
    "summary_single": "One payment of {amount}",
    "summary_head": "{count} {counted} of {amount}",
    "summary_first": "{head} (first {amount})",
    "summary_last": "{head} (last {amount})",
    "plan_no_account": "I couldn't find an open account for you. Say 'talk to a person' if you have questions.",
    "plan_existing": ("You already have a plan with us, reference {reference}. Say 'my plan' to see it, or 'talk to a "
                      "person' if you'd like to change it."),
    "plan_existing_change": ("You already have a plan with us, reference {reference}. Say 'talk to a person' if you'd "
                             "like to change it."),
    "plan_consent_required": "To agree to these terms, please reply YES.",
    "plan_changed_balance": "Your balance has changed since I showed you these options, so here are new ones.",
    "plan_changed_dates": "The dates in those options have passed, so here are new ones.",
    "plan_changed_terms": "Those terms have changed since I showed them, so here are new options.",
    # REC-3 (GDPR 22(3)): the bot alone decided this plan, so the debtor is offered a person to look at it again.
    "plan_human_review": "Our assistant set this plan up. If you'd like a person to review it, say 'talk to a person'.",
    "plan_set_up": "Thank you. Your plan is set up. Your reference is {reference}.",
    "plan_next_default": ("What happens next: we'll send you a link to make your first payment of {amount}, due "
                          "{date}. Say 'my plan' any time to check it, or 'talk to a person' with questions."),
    "status_balance": "Your balance with {creditor} is {amount}.",
    "status_suggest_plan": "Say 'payment plan' if you'd like to set one up.",
    "status_no_plan": "You don't have a plan with us right now.",
    "status_plan": "Your plan {reference}: {summary}",
    "status_all_done": "Every payment on this plan is done. Thank you.",
    "status_not_recorded": ("Your payment of {amount} due {date} hasn't been recorded yet. If you've paid it, thank "
                            "you; it can take a few days to show."),
    "status_pay_now": "Say 'pay now' for a link to pay it.",
    "status_next": "Next payment: {amount} on {date}.",
    "count_one": "{count} payment", "count_many": "{count} payments",
    "status_left": "Left to pay on this plan: {amount} ({count}).",
    "plan_consent_prompt": "Reply YES to agree to these terms, or NO to go back to the options.",
    "plan_consent_again": ("To agree to these terms, please reply YES. Reply NO to go back to the options, or say "
                           "'never mind' to stop."),
    "plan_declined": ("No problem. I haven't set anything up. If you'd like other options, tell me what you can pay, "
                      "or say 'talk to a person'."),
    "plan_person_next": "Say 'talk to a person' to reach them.",
    "plan_yes_button": "Yes, I agree", "plan_no_button": "No, go back", "plan_person_button": "Talk to a person",
    "plan_lost_track": "Sorry, I lost track of the options. Say 'payment plan' to see them again.",
    "plan_pick": "Reply {numbers} to choose, or tell me a different amount. Say 'never mind' to stop.",
    "plan_person_note": "A person on our team can look at other options with you.",
    "plan_heading_one": "Here is what I can offer:", "plan_heading_many": "Here are your options:",
    "plan_heading_one_again": "Here is what I can offer again:",
    "plan_heading_many_again": "Here are your options again:",
    "plan_amount_intro": "I can help you set up a plan. {question} Or say 'never mind' to stop.",
    "plan_ask_each": "How much can you pay {every}?",
    "plan_each_weekly": "each week", "plan_each_biweekly": "every 2 weeks", "plan_each_monthly": "each month",
    "plan_each_other": "each time",
    "plan_ask_how_often": "How much can you pay, and how often? For example: {examples}.",
    "plan_example_monthly": "$50 a month", "plan_example_biweekly": "$25 every 2 weeks",
    "plan_example_weekly": "$15 a week",
    # Replies to sensitive requests (bot/compliance/sensitive_requests.py, actions/sensitive.py). DISC-3: said to
    # anyone, so they name no debt; the _verified ones only after verification.
    "cease_reply": "Understood. We'll stop contacting you. A person on our team will confirm this in writing.",
    # CEASE-2: a question asked where the attorney's details were asked for (actions/sensitive.py). DISC-3: names no
    # debt, since it may be said before verification.
    "attorney_question_reply": ("Since a lawyer is helping you, we'll talk with them about this, not with you. They "
                                "can tell you your options, including how to pay."),
    "resume_request_noted": ("I've noted that you'd like our messages again. By text, reply START. For email, a "
                             "person on our team will check your request and turn them back on."),
    "attorney_reply": "Thanks for telling me. We'll contact your attorney instead of you.",
    # CEASE-3: a question asked where the case number was asked for (actions/sensitive.py); DISC-3: names no debt.
    "bankruptcy_question_reply": ("It's the number on the papers you got when you filed for bankruptcy, like "
                                  "1:26-bk-12345. You don't have to give it. A person will check either way."),
    "bankruptcy_reply": "Thanks for telling me. A person on our team will review it.",
    "bankruptcy_reply_verified": ("Thanks for telling me. We've stopped collection, and a person on our team will "
                                  "review it."),
    "deceased_reply": ("I'm so sorry for your loss. You don't need to do anything now. A person on our team will "
                       "handle this with care and can help the family or executor. You can reach them at {support}."),
    # ID-4 / CEASE-4 (ID-1: a spouse or executor goes to a person): any later request in a conversation where
    # someone said they are not the debtor, or reported the debtor's death. DISC-3: neutral, never "you must pay".
    "third_party_handed_over": ("I can only talk about this with the person it's about, so I can't share anything "
                                "here. A person on our team can help. You can reach them at {support}."),
    "deceased_handed_over": ("I'm so sorry for your loss. There's nothing you need to do, and I can't share details "
                             "here. A person on our team will handle this with care and can help the family or "
                             "executor. You can reach them at {support}."),
    "wrong_person_reply": ("Sorry for the mix-up. We won't contact this number about it again. You don't need to do "
                           "anything."),
    # CEASE-1..4, ID-4: words that say the opposite of the report the NLU read ("I don't have a lawyer"): nothing
    # is held (sensitive_requests.denied_report). DISC-3: the first is said before verification too.
    "report_denied": "Got it, thanks for telling me. Nothing has changed. How can I help?",
    "report_denied_verified": ("Got it, thanks for telling me. Nothing has changed. You can say 'balance', 'payment "
                               "plan', 'pay now' or 'talk to a person'."),
    # ID-2: "I don't know my SSN" at that question is a missing answer; the ZIP route goes on (actions/sensitive.py).
    "verify_secret_unknown": "That's OK. Your 5-digit ZIP code works instead.",
    # ID-2: which detail did not match is never said.
    "verify_cant_say_which": "For your security, I can't say which detail didn't match.",
    # ID-4 is not this: "you have my address wrong" is the debtor's own details, noted for a person.
    "details_noted": ("Thanks for telling me. A person on our team will update your details. What else can I help "
                      "with?"),
    "hardship_reply": ("I'm sorry things are hard right now. A person on our team can help. Say 'talk to a person' to "
                       "reach them, or {support}."),
    "hardship_reply_verified": ("I'm sorry things are hard right now. We've paused reminders. A person on our team "
                                "can talk through options with you, like a smaller plan. Say 'talk to a person' to "
                                "reach them, or {support}."),
    "request_human_reply": ("I've asked a person on our team to pick this up. They'll reply here. You can also reach "
                            "them at {support}."),
    # VUL-1: nothing about a debt, and never a word about a commanding officer or their command.
    "military_reply": ("Thanks for telling me. If you or your family serve in the military, you may have extra "
                       "protections. A person on our team will look into it and get back to you. You can also reach "
                       "them at {support}."),
    "hardship_reply_queued": ("I'm sorry things are hard right now. A person on our team is already on the way, and "
                              "can talk through options with you."),
    "hardship_reply_queued_verified": ("I'm sorry things are hard right now. We've paused reminders. A person on our "
                                       "team is already on the way, and can talk through options with you, like a "
                                       "smaller plan."),
    "hardship_with_person": "Thanks for telling me. I'm sorry things are hard right now.",
    "details_thanks": "Thank you. A person on our team will take it from here.",
    # EMAIL-1 (E-SIGN, 15 U.S.C. 7001(c)): the consent question and its answers (bot/compliance/esign.py).
    "esign_question": ("Can we email you the notices the law says we must send, like your validation notice, at "
                       "{address}? You'll need a device that opens email and web pages, and you can keep or print "
                       "them. You can still ask for paper copies for free, or stop emails, at any time."),
    "esign_yes_button": "Yes, email them", "esign_no_button": "No, send them by post",
    "esign_consented": ("Thanks. We'll email your notices to {address}. You can also say 'email me a copy' to get "
                        "this chat by email."),
    "esign_declined": "No problem. We'll send your notices by post.",
    # Debtor feedback (bot/feedback.py): one short question at the end, a digit to answer.
    "feedback_question": ("Before you go: how did we do today? Reply with a number from 1 (poor) to 5 (great). You can "
                          "add a few words too."),
    "feedback_thanks_score": ("Thanks for your answer. If you'd like to tell us more, type it now. Or just say what "
                              "else you need."),
    "feedback_thanks_comment": "Thanks for telling us. You can message again any time.",
    # Email (bot/mail/compose.py and its templates): subjects by kind, and the words around every message. EMAIL-2:
    # the opt-out keyword and link in every email.
    "subject_validation_notice": "Your validation notice: what we have on file and your rights",
    "subject_debit_notice": "Your next automatic payment",
    "subject_transcript_copy": "A copy of your chat with us",
    "subject_receipt": "Your receipt",
    "subject_plan_confirmation": "Your payment plan",
    "subject_campaign": "A message for you",
    "subject_default": "A message about your account",
    "email_questions": "Questions? Reply to this email or write to {support}. You can also talk to a person.",
    "email_check_lead": "Check that this copy was not changed: paste it at",
    "email_opt_out_lead": "Don't want these emails? Reply {keyword} to opt out, or open this link:",
    "email_opt_out_html_lead": "Don't want these emails? Reply",
    "email_opt_out_html_mid": "to opt out, or",
    "email_opt_out_html_link": "stop emails from us",
    "email_stops_only": "This stops email only. It costs nothing, and texts (if you get them) are not affected.",
    "email_keep_lead": "Keep or print this notice:",
    "email_keep_link": "open the printable copy",
    # A person (HO-1: bot/agents/escalation.py, hours.py, queue.py): what happens next, the wait, callback times.
    "callback_label": "{date}, {start} to {end} {zone}",
    "hours_always": "every day, at any time",
    "hours_day_range": "{first} to {last}",
    "hours_span": "{days}, {start} to {end}",
    "hours_zone": "{spans} {zone}",
    "wait_minutes": "about {minutes} minutes", "wait_hour": "more than an hour",
    "handoff_where_sms": "by text", "handoff_where_chat": "right here",
    "handoff_none_free": ("I've asked a person on our team to join, but no one is available right now, so I can't say "
                          "how long it will be. They'll reply {where} as soon as someone is free. You can also reach "
                          "them at {support}."),
    "handoff_choose_time": "Or choose a time for a person to get back to you:",
    "handoff_next": "You're next in line", "handoff_one_ahead": "There's 1 person ahead of you",
    "handoff_many_ahead": "There are {count} people ahead of you",
    "handoff_queued": ("I've asked a person on our team to join. {line}, and the wait is {wait}. They'll reply "
                       "{where}. You can also reach them at {support}."),
    "handoff_away": ("Our team is away right now. They're here {hours}. You can also reach them at {support}. When "
                     "should a person get back to you? Choose a time:"),
    "callback_unavailable": ("Sorry, I can't book that time now. Say 'talk to a person' to see the times, or reach our "
                             "team at {support}."),
    "callback_booked": "Thanks. A person will get back to you {label}. Until then, I'm here if you need me.",
    "still_not_getting_it": "Sorry, I'm still not getting it. {text}",
    "day_0": "Monday", "day_1": "Tuesday", "day_2": "Wednesday", "day_3": "Thursday", "day_4": "Friday",
    "day_5": "Saturday", "day_6": "Sunday",
    "zone_new_york": "Eastern time", "zone_detroit": "Eastern time", "zone_chicago": "Central time",
    "zone_denver": "Mountain time", "zone_phoenix": "Arizona time", "zone_los_angeles": "Pacific time",
    "zone_anchorage": "Alaska time", "zone_honolulu": "Hawaii time", "zone_utc": "UTC",
    # Stripe's hosted page (PLAN-2: the autopay choice beside its authorisation; Stripe limits a label to 50
    # characters, an option to 100) and our pages around a pay link (bot/gateway/pay_routes.py, LinkProblem).
    "autopay_field_label": "Later plan payments",
    "autopay_option_yes": "Take them from this card on their due dates",
    "autopay_option_no": "I'll pay each one with a link",
    "autopay_prefix": "If you choose to have later payments taken from this card: ",
    "pay_page_invalid": "This payment link isn't valid. Say 'pay now' in the chat to get a new one.",
    "pay_page_done_receipt": "This payment is already done. Thank you. Your receipt is in the chat.",
    # The Checkout line item's name, which heads Stripe's page: neutral (DISC-3), whoever holds the phone may see it.
    "checkout_item": "{business} payment",
    "pay_page_done": "This payment is already done. Thank you.",
    "pay_page_replaced": ("This link was replaced by a newer one. Please use the latest link, or say 'pay now' in the "
                          "chat to get a new one."),
    "pay_page_expired": "This payment link has expired. Say 'pay now' in the chat to get a new one.",
    "pay_page_held": ("We can't take a payment on this account right now. Please check the chat or say 'talk to a "
                      "person' there."),
    "pay_page_changed": ("Your balance has changed since this link was made. Say 'pay now' in the chat to get a new "
                         "link."),
    "pay_page_plan_done": "This plan payment is already done. Thank you.",
    "page_title_payment": "Payment", "page_title_received": "Payment received", "page_thank_you": "Thank you",
    "page_receipt_soon": "If you paid, your receipt will be in the chat shortly.",
    "page_received": "We received your payment of {amount}. Receipt number: {reference}.",
    "page_receipt_in_chat": "Your receipt is in the chat too. You can close this page.",
    "page_held": "We received your payment. A person on our team will review it and write to you.",
    "page_processing": "Your payment of {amount} is being processed. Your receipt will be in the chat when it's done.",
    "page_no_payment": "No payment was made",
    "page_left": "You left the payment page, so nothing was charged.",
    "page_go_back": "Go back to pay",
    "page_or_person": "Or say 'talk to a person' in the chat.",
    "page_cant_open": "We can't open this payment",
    "page_try_again": "Please try again in a few minutes",
    "page_unavailable": ("Sorry, we couldn't open the secure payment page just now. Nothing was charged. Please try "
                         "this same link again in a few minutes, or say 'talk to a person' in the chat."),
    # A copy of the chat by email (REC-1: bot/records/transcript_copy.py).
    "copy_cover": ("Here is a copy of your chat with us, as our record holds it. Keep it if you like. The code at its "
                   "end (the chain head) lets anyone check that nobody changed a word of it."),
    "copy_sent": ("I'll email a copy of this chat to {address}. It comes with a code that shows nobody changed it. "
                  "What would you like to do next?"),
    # The ways to pay, asked about (bot/payments/ways.py): a card on our page; any other way through a person.
    "ways_to_pay": ("You can pay by debit or credit card on our secure payment page. Say 'pay now' for the link. "
                    "For other ways, like a check, money order, Zelle or a bank transfer, a person on our team can "
                    "help: say 'talk to a person'. Or we can carry on where we left off."),
    # ID-1, DISC-3: before verification the answer names nothing; the identity check starts.
    "ways_to_pay_verify_first": "I can answer that once we've confirmed who you are. What's your date of birth?",
    "copy_not_verified": "I can email you a copy once we've confirmed who you are. What's your date of birth?",
    "copy_no_email": ("We don't have an email address for you, so I can't email a copy. You can say 'talk to a "
                      "person' to ask for one another way."),
    "copy_suppressed": ("You asked us not to email {address}, so I can't send a copy there. You can say 'talk to a "
                        "person' to ask for one another way."),
    # The gateway's never-a-dead-end reply when nothing else could go (DISC-3: said to anyone).
    "safe_reply": "Sorry, I can't help with that here. You can say 'talk to a person'.",
    # EMAIL-1 on the payment-done page (bot/gateway/pay_routes.py): the box, stored word for word when answered.
    "esign_web_checkbox": ("Email me the notices the law says we must send about this plan, like the notice before "
                           "each card payment, at {address}. I have a device that opens email and web pages, and I "
                           "can keep or print them. I can ask for paper copies for free, or stop emails, at any "
                           "time."),
    "esign_web_save": "Save my choice",
    "esign_web_ticked": 'Ticked the box, then pressed "{save}"',
    "esign_web_unticked": 'Left the box empty, then pressed "{save}"',
    "page_notices_heading": "Notices about your plan",
    "page_notices_if_empty": ("If you leave it empty, we'll text them to you if you've texted us, or we can't take "
                              "later payments automatically."),
    "page_notices_title": "Notices", "page_nothing_to_change": "Nothing to change", "page_saved": "Saved",
    "page_no_choice": "There is no choice to make on this page. You can close it.",
    "page_saved_yes": ("We'll email the notices about your plan. You can ask for paper copies, or stop emails, at any "
                       "time."),
    "page_saved_no": "We won't email the notices about your plan.",
    "page_close": "You can close this page.",
    # The email opt-out page (EMAIL-2), a debtor's: in the address's language when Settle knows it, else the browser's.
    "optout_title": "Stop emails",
    "optout_invalid_heading": "This link doesn't work",
    "optout_invalid_body": "Sorry, we couldn't read this link. It may have been cut short when it was copied.",
    "optout_invalid_still": "You can still stop our emails: reply STOP to any email from us.",
    "optout_done_heading": "Done: no more emails",
    "optout_done_body": "We won't email {address} again.",
    "optout_done_note": ("This covers email only. Texts, if you get them, are not affected: reply STOP to a text to "
                         "stop those too. You can still write to us or ask to talk to a person."),
    "optout_confirm_heading": "Stop emails from us?",
    "optout_confirm_body": "Tap the button and we'll stop emailing {address}. It's free.",
    "optout_button": "Stop emails",
    "optout_confirm_note": "This covers email only. Texts, if you get them, are not affected.",
    # The printable validation notice's page (/notices/<token>): the notice itself is the email's fragment.
    "notice_page_title": "Validation notice: {creditor}, {account}",
    "notice_page_heading": "Validation notice",
    "notice_page_hint": ("This is the notice we sent you on {date}. Keep this page, or print it or save it as a PDF "
                         "with your browser's Print command (Ctrl+P or \u2318P)."),
    "notice_page_invalid_body": ("Sorry, we couldn't read this link. It may have been cut short when it was copied. "
                                 "The full notice is also in the email we sent you."),
    "notice_page_missing_title": "Notice not found",
    "notice_page_missing_heading": "We can't find this notice",
    "notice_page_missing_body": ("Sorry, this notice is not in our records any more. The full notice is also in the "
                                 "email we sent you. You can write to us to ask for another copy."),
    # A long text over SMS (bot/sms.as_sent): its opening lines, then this link to the whole of it.
    "sms_whole_text": "Read all of it here: {url}",
    # The page that link opens (/texts/<token>, bot/gateway/document_routes.py).
    "text_page_title": "Our message to you",
    "text_page_hint": ("This is the whole message we texted you on {date}. Keep this page, or print it or save it as a "
                       "PDF with your browser's Print command."),
    "text_page_expired_heading": "This link has expired",
    "text_page_expired_body": ("For your privacy, the links in our texts work for {days} days. Text us if you need "
                               "this again, or say 'talk to a person'."),
    "text_page_missing_heading": "We can't find this message",
    "text_page_missing_body": ("Sorry, this message is not in our records. If you need help, text us 'talk to a "
                               "person'."),
    # The transcript check page (/transcripts/check, REC-1): anyone with a copy may check it; the browser's language.
    "check_title": "Check a copy of a chat",
    "check_intact": "Intact: this copy matches our record.",
    "check_intact_more": "Not a word of it was changed.",
    "check_altered": "Altered: this copy does not match our record.",
    "check_altered_more": "Something in it was changed.",
    "check_no_record": "Not found: this copy doesn't match any chat in our records.",
    "check_broken": "We can't confirm this copy right now.",
    "check_broken_more": "Our own record failed its check, so a person will look into it.",
    "check_entries": "The copy covers {entries} entries of the record.",
    "check_why_header": "The lines naming the conversation and the chain head were changed.",
    "check_why_unknown": "No conversation in our records has this id.",
    "check_why_head": "The chain head in the copy is not the record's at that entry.",
    "check_why_broken": "Our stored record fails its own check.",
    "check_why_line": "Line {line} of the copy differs from the record.",
    "check_why_intact": "Every line matches the record and its chain head.",
    "check_not_a_copy": "We couldn't find a copy in what you pasted.",
    "check_not_a_copy_more": ("Paste everything from the line \"{begin}\" to the line \"{end}\", or upload the "
                              "saved email."),
    "check_too_big": "That is too long to be one of our copies.",
    "check_too_big_more": "Paste just the part from the BEGIN line to the END line.",
    "check_lead": ("Got a copy of a chat with us by email? Paste it here, or upload the saved email, to see whether it "
                   "is exactly what our record holds. Anyone can check; this page shows nothing from the record "
                   "itself."),
    "check_paste": "Paste the copy",
    "check_upload": "Or upload the saved email or a text file",
    "check_button": "Check the copy",
    # DSP-1: what the dispute form says when a message was not a dispute, or the debtor leaves it (actions/disputes.py).
    "dispute_left": ("OK, I haven't recorded a dispute. You can say 'balance', 'pay now', 'payment plan' or 'talk to "
                     "a person'. Or say 'dispute' any time to start again."),
    "dispute_give_up": ("Sorry, I'm still not sure what you'd like to dispute, so I haven't recorded anything. Say "
                        "'talk to a person' and someone will help, or say 'dispute' to start again."),
    "dispute_withdraw_person": ("I can't undo a dispute myself, so I've asked a person on our team to look at it "
                                "with you. I haven't recorded anything new."),
    "notice_copy_person": ("I've asked our team to send you a copy of your notice by post. It's free. I haven't "
                           "recorded a dispute."),
    "card_use_pay_link": ("Please never send card numbers here. To pay, say 'pay now' and I'll send you a secure "
                          "link. I haven't recorded a dispute."),
    "what_is_a_collector": ("A debt collector is a company that asks people to pay money they owe to someone else. "
                            "We must tell you that's who we are. You can ask me anything about it, or say 'talk to "
                            "a person'."),
    "creditor_is": "The creditor for the account ending {last4} is {creditor}.",
    "creditor_next": "If you think this is wrong, say 'dispute'. Or tell me what else you need.",
    # ID-1: the form was open when the verification expired; content-neutral, it is said unverified (DISC-3).
    "verify_again_form_ended": ("For your safety, I need to confirm who you are again before we go on. What can I "
                                "help you with?"),
    # 1006.6(b)(3): "don't call me at work" is a place, not a cease (bot/compliance/sensitive_requests.py).
    "work_calls_noted": ("Thanks for telling me. I've noted that we must not call you at work, and a person on our "
                         "team will make sure of it."),
    "mailing_address": "Our mailing address is {address}.",
}

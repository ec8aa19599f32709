"""The one way out: every message Settle sends to a debtor, whoever writes it.

`outbox.post_replies` / `outbox.post_reply` take a reply in a conversation (the bot's, an agent's, a hand-back
notice, a receipt); `outbox.schedule` queues a bot-initiated message (a reminder, a notice, a campaign message) and
`queue.process_due` sends what is due. Each applies every rule that fits the message and its recipient
(bot/compliance/outbound_gate.py), stores it as sent, deferred or blocked with the rule IDs, audits a refusal, and
returns what a channel's courier (`delivery.Couriers`) then delivers after the transaction commits. Nothing else
writes an outbound message or calls a channel's sender.

A reply is only a reply while the consumer's session is live (their last message within the session window); a
reply written later (an agent answering a queue hours on, a receipt for a payment made long after the chat) starts
a contact of its own and gets the rules of a bot-initiated message (TIME-1, FREQ-1, ID-5, DISC-2, OPT-1)."""

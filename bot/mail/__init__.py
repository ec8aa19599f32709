"""Email, through the outbox like every other message (bot/messaging): the queue's email transport
(transport.py) renders a queued message as multipart text + HTML (compose.py, templates/), hands it to the mail
server named by SMTP_URL (smtp.py) and records it as sent only when the server accepted it (EMAIL-3, a 250 to
DATA); a 4xx or a refused connection defers it (the queue retries with backoff), a 5xx bounces it and suppresses
the address (EMAIL-1). Every email carries an opt-out (EMAIL-2, 1006.6(e)): a signed link (links.py) and a reply
("STOP", "unsubscribe": inbound.py), covering email only (OPT-3 is per channel).

The embedded default (`make run`) runs a local mail server on loopback (server.py) that keeps what it receives for
the demo mailbox (/mailbox) and hands replies to Settle's address to inbound.py."""

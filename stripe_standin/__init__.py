"""A local stand-in for the part of Stripe that Settle uses, so that the real `stripe` SDK, the hosted checkout
page and signed webhooks all work without the internet (see app.py for what it serves and its test knobs).
It is started by `python -m bot run` when no STRIPE_SECRET_KEY is set, as a process of its own:
`python -m stripe_standin --port 12111 --webhook-url http://127.0.0.1:8000/webhooks/stripe
--state var/stripe-standin.db`. Like a Stripe test account it remembers its objects (customers, saved cards,
sessions, payments) across restarts, in that SQLite file (store.py; STRIPE_STANDIN_STATE names another); delete it
with Settle stopped to start from an empty account. Without `--state` (the tests' in-process stand-ins) it keeps
them in memory only."""

from stripe_standin.app import create_app

DEFAULT_PORT = 12111

__all__ = ["DEFAULT_PORT", "create_app"]

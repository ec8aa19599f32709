"""Payments through Stripe: pay links, Checkout, the ledger, receipts (service.py), autopay for plans
(autopay.py) and webhook events (webhooks.py). The SDK client comes from stripe_client.py; the wording the debtor
reads is in texts.py."""

"""Payments through Stripe. Each module imports only those listed after it:

- webhooks.py: Stripe's webhook events, turned into ledger changes and messages.
- autopay.py: the scheduler that charges a plan's later payments to the saved card, declines, missed payments.
- service.py: what a debtor may pay, our pay links, Checkout Sessions and the success page's check.
- payment_intents.py: a succeeded PaymentIntent read from Stripe and applied to the ledger once, whoever reports it.
- ledger.py: applying a payment, a refund or a chargeback, and the receipt; the payment rows.
- autopay_authorisation.py: the autopay authorisation (PLAN-2) and its debit notices (PLAN-3).
- messages.py: where a payment's messages go; texts.py: their wording; stripe_client.py: the SDK client."""

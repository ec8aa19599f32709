"""Settle: a compliance-first self-service assistant for people who owe money.

`bot/` holds the gateway (channels, routing) and the plain-Python domain services
(accounts, identity, portfolio import, audit). Nothing here imports Rasa.
"""

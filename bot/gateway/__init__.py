"""The gateway: the only public face of Settle. Channels come in here; Rasa listens on loopback behind it."""

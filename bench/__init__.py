"""Settle's benchmark: NLU scoring on held-out sets and load against the full stack (see bench/README.md)."""

"""Random codes a debtor reads: pay-link tokens, plan references ("PLN-7KQ4XW") and payment references
("PAY-3MZ8RT"). Every one is made here, so every one gets the same check.

TONE-1: the outbox lints everything a debtor reads, codes included, and blocks a message with a banned word in it. A
random code can spell one (about one pay-link token in 100,000 contains "fuck"; a reference can read "DAMNED" or,
once 5 is read as S, "A55HAT"), and the message carrying it would then never reach the debtor: no pay link, no
receipt. So a code the banned-phrase list objects to is drawn again, before anything stores or sends it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from bot.compliance import tone
from bot.db.models import opaque_token

# Read aloud or typed from a receipt: no 0/O, no 1/I/L.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 6
TOKEN_LENGTH = 20


def _random_reference_body() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def _random_token() -> str:
    return opaque_token(TOKEN_LENGTH)  # 100 random bits, short to type, never a long digit run (PCI-3)


def _first_clean(draw: Callable[[], str], taken: Callable[[str], bool]) -> str:
    while True:
        code = draw()
        if not tone.lint(code) and not taken(code):
            return code


def reference(prefix: str, taken: Callable[[str], bool] = lambda _: False,
              draw: Callable[[], str] | None = None) -> str:
    """`prefix` and six readable characters, e.g. reference("PLN-", taken) -> "PLN-7KQ4XW": drawn again while the
    whole reference spells a banned word (TONE-1) or `taken` says it is in use."""
    body = draw or _random_reference_body
    return _first_clean(lambda: prefix + body(), taken)


def link_token(draw: Callable[[], str] | None = None) -> str:
    """A pay-link token (it travels in a URL the debtor reads), drawn again while it spells a banned word (TONE-1)."""
    return _first_clean(draw or _random_token, lambda _: False)

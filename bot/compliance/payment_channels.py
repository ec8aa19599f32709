"""PCI-1 / PCI-2: what a person may not ask for or point to in chat, SMS or email.

Card details and a full Social Security number are never taken in a conversation (PCI-1: only Stripe's hosted
pages take a card; PCI-2: whatever is typed is redacted, but asking for it invites it). A payment goes only through
Settle's own pay link (`<pay base URL>/pay/<token>`, bot/payments/service.py), so a person's text that points
anywhere else to pay (another address, PayPal, Zelle, Venmo, Cash App, a wire, gift cards...) is not sent either.

The bot's own templates are reviewed and say "please don't type your card number here": a sentence that tells the
reader not to send something is not a request for it, in either language."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from bot.config import Settings

# What a card is made of, or a full SSN (the last four are a verification factor, ID-2, and may be asked for).
_CARD_TERMS = re.compile(
    r"\b(?:(?:credit|debit|bank)\s+card|card\s*(?:number|no\.?|#|details?|info(?:rmation)?|digits|data)|"
    r"long\s+number\s+on\s+(?:the\s+|your\s+)?card|expir(?:y|ation|es|ation\s+date|y\s+date)|exp\s+date|"
    r"cvv2?|cvc2?|cid|security\s+code|(?:3|three|4|four)[-\s]digit\s+code|(?:front|back)\s+of\s+(?:the\s+|your\s+)?card|"
    r"n[uú]mero\s+de\s+(?:la\s+|su\s+)?tarjeta|(?:datos|detalles)\s+de\s+(?:la\s+|su\s+)?tarjeta|"
    r"tarjeta\s+de\s+(?:cr[eé]dito|d[eé]bito)|fecha\s+de\s+(?:vencimiento|caducidad|expiraci[oó]n)|"
    r"c[oó]digo\s+de\s+seguridad)\b",
    re.IGNORECASE,
)
_FULL_SSN = re.compile(
    r"\b(?P<full>(?:full|complete|entire|whole)\s+)?(?:social\s+security(?:\s+(?:number|no\.?|#))?|ssn|"
    r"(?:n[uú]mero\s+(?:completo\s+)?de(?:l)?\s+)?seguro\s+social(?P<completo>\s+completo)?)\b",
    re.IGNORECASE,
)
_LAST_FOUR = re.compile(r"\b(?:last|[uú]ltimos)\s+(?:4|four|cuatro)\b", re.IGNORECASE)
# Asking for it: a request verb or the offer to take the payment, in the same sentence.
_ASK = re.compile(
    r"\b(?:reply|send|text|type|enter|give|tell|share|provide|read|put|write|post|confirm|need|want|"
    r"what(?:'s|\s+is|\s+are)|can\s+i\s+(?:have|get)|i'?ll\s+(?:take|run|process|charge)|"
    r"(?:take|run|process|charge)\s+(?:the\s+|your\s+)?(?:payment|card|it)\s+(?:for\s+you|here|now|over)|"
    r"escrib\w*|env[ií]\w*|mand\w*|d[ií]game|d[eé]me|compart\w*|respond\w*|proporcion\w*|ingres\w*|"
    r"necesito|p[aá]seme|cu[aá]l\s+es|procesar[eé]|cobrar[eé])\b",
    re.IGNORECASE,
)
# "Please don't type your card number here": a sentence telling the reader not to is no request.
_TELLS_NOT_TO = re.compile(r"\b(?:don'?t|do\s+not|never|no\s+(?:escriba|env[ií]e|mande|comparta)|nunca)\b",
                           re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")

# Anywhere else to pay: payment apps and methods that are not Settle's pay link.
_ELSEWHERE = re.compile(
    r"\b(?:zelle|venmo|cash\s*app|paypal|pay\s*pal|apple\s+(?:cash|pay)|google\s+pay|western\s+union|moneygram|"
    r"money\s+orders?|wire(?:\s+transfer)?|wiring|bank\s+transfer|gift\s*cards?|bitcoin|crypto\w*|"
    r"giro\s+(?:postal|bancario)|transferencia\s+(?:bancaria|electr[oó]nica)|tarjetas?\s+de\s+regalo|"
    r"orden\s+de\s+pago)\b|(?<![\w$])\$[a-z][\w-]{2,}",  # a $cashtag
    re.IGNORECASE,
)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|me|io|co|app|"
                  r"us|biz|info|link|ly|gg|pay)/[^\s<>\"')]*", re.IGNORECASE)
_PAY_WORDS = re.compile(r"\b(?:pay\w*|paid|send\s+(?:the\s+)?money|pag\w+|abon\w+|checkout|deposit\w*)\b",
                        re.IGNORECASE)
_OWN_PAY_PATH = re.compile(r"/pay/[A-Za-z0-9_-]+/?")


@lru_cache(maxsize=1)
def _own_host() -> str:
    """The host of Settle's pay links (PUBLIC_BASE_URL, or the gateway's address): read once per process."""
    return urlsplit(Settings.from_env().pay_base_url).netloc.lower()


def is_own_pay_link(url: str, own_host: str | None = None) -> bool:
    """A pay link of ours: <pay base URL>/pay/<token> (PCI-1: it opens Stripe's hosted page)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return parts.netloc.lower() == (own_host or _own_host()) and bool(_OWN_PAY_PATH.fullmatch(parts.path))


def card_or_ssn_requests(text: str) -> list[str]:
    """PCI-1 / PCI-2: the card details or full SSN `text` asks for (empty when it asks for none)."""
    found: list[str] = []
    for sentence in _SENTENCE.findall(text):
        if _TELLS_NOT_TO.search(sentence) or not _ASK.search(sentence):
            continue
        found += [m.group(0) for m in _CARD_TERMS.finditer(sentence)]
        last_four = bool(_LAST_FOUR.search(sentence))  # ID-2: the last four may be asked for
        found += [m.group(0) for m in _FULL_SSN.finditer(sentence)
                  if not last_four or m["full"] or m["completo"] or "completo" in m.group(0).lower()]
    return found


def elsewhere_to_pay(text: str, own_host: str | None = None) -> list[str]:
    """PCI-1: the other places `text` sends money to: a payment app or method, or any address but our pay link
    when the text talks about paying (an address whose own name says pay, such as paypal.me/..., always counts)."""
    found = [m.group(0) for m in _ELSEWHERE.finditer(text)]
    talks_of_paying = bool(_PAY_WORDS.search(_URL.sub(" ", text)))
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if is_own_pay_link(url, own_host):
            continue
        if talks_of_paying or _PAY_WORDS.search(url):
            found.append(url)
    return found

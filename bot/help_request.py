"""A request for help in general, in so many words: "I need help with my account", "necesito ayuda con mi cuenta".

The model was unsure of both (nlu_fallback: "Sorry, I didn't catch that", and a second one hands the chat to a
person, HO-1), though the person asked plainly for what the menu offers. The inbound gate sends such a message to the
dialogue as the greeting, whose answer is the menu: content-neutral before verification (DISC-3), the fuller menu
after, in the conversation's language (LANG-1). Only a whole message that asks for help and nothing else: "I need
help paying" or "help me stop the calls" name a request of their own, which the model reads."""

from __future__ import annotations

import re

from bot.compliance import cues

MENU_INTENT = "greet"  # the dialogue's answer to a greeting is the menu (domain/conversation.yml, utter_greet)

_OPENING = r"(?:(?:hi|hello|hey|hola|buenas|buenos dias|buenas tardes|good morning|good afternoon)\s+)?"
_THANKS = r"(?:\s+(?:please|pls|thanks|thank you|por favor|gracias))?"
_ACCOUNT = r"\s+(?:with|con)\s+(?:my|mi|the|la)\s+(?:account|cuenta)"
# "I need help (with my account)" says what it needs; a bare "help me" or "can you help me?" may be asking for a
# person (HO-1), so it counts only when it names the account.
_HELP = re.compile(
    rf"^{_OPENING}(?:"
    rf"(?:(?:i\s+)?(?:need|want|would like|could use)\s+(?:some\s+)?help"
    rf"|(?:yo\s+)?(?:necesito|quiero|quisiera)\s+(?:una\s+)?ayuda)(?:{_ACCOUNT})?"
    rf"|(?:(?:can|could)\s+(?:you|someone|somebody)\s+help\s+me|help\s+me"
    rf"|(?:me\s+)?(?:puede|pueden|podria|podrian)\s+ayudar(?:me)?|ayud(?:eme|enme|ame)){_ACCOUNT}"
    rf"){_THANKS}$")




def asks_for_help(text: str) -> bool:
    """The whole message asks for help in general, in English or Spanish, and for nothing more. Never raises."""
    return bool(_HELP.fullmatch(cues.folded(text)))

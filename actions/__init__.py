"""The action server (the newest rasa-sdk, which speaks Rasa 3.6's action protocol): thin adapters that gather
slots, call a service in bot/, and turn the result into messages and events. No business rule lives here. Run:
`python -m actions` (rasa-sdk's server with the action journal, actions/journal.py)."""

from actions import answers, disputes, language, plans, sensitive, verification  # noqa: F401  (registers the actions)
from bot.records.listeners import register_flush_listeners

# rasa-sdk loads this package to start the action server (`python -m actions`, or `python -m rasa_sdk --actions
# actions`): its start. REC-1: every message or event an action stores is sealed in the transcript chain.
register_flush_listeners()

"""The action server (rasa-sdk 3.6.2): thin adapters that gather slots, call a service in bot/, and turn the
result into messages and events. No business rule lives here. Run: `python -m actions` (rasa-sdk's server with the
action journal, actions/journal.py)."""

from actions import answers, disputes, plans, sensitive, verification  # noqa: F401  (registers the actions)

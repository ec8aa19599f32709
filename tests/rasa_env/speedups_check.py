"""Run in the Rasa environment by tests/test_rasa_speedups.py: parses held-out messages with Rasa as released, then
with Settle's speedups (rasa_extensions/speedups.py) applied, and writes both readings as JSON so the test can
compare them (argv: model, CSV, how many rows, output JSON file). Also tries the compiled check of action server
answers on answers that jsonschema accepts and refuses."""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def readings(agent, texts: list[str]) -> list[dict]:
    loop = asyncio.new_event_loop()
    out = []
    for text in texts:
        parsed = loop.run_until_complete(agent.parse_message(text))
        out.append({"text": text, "intent": parsed["intent"]["name"],
                    "confidence": round(float(parsed["intent"]["confidence"]), 5),
                    "ranking": [r["name"] for r in parsed.get("intent_ranking", [])[:3]]})
    loop.close()
    return out


def action_answers() -> list[tuple[dict, bool]]:
    """Answers an action server may give, each with whether Rasa's jsonschema check accepts it."""
    from jsonschema import validate
    from jsonschema.exceptions import ValidationError
    from rasa.core.actions.action import RemoteAction

    samples = [
        {"events": [{"event": "slot", "name": "verified", "value": True}], "responses": [{"text": "hi"}]},
        {"events": [{"event": "slot", "name": "x"}], "responses": []},  # SlotSet without value
        {"events": [{"event": "nonsense"}]},
        {"events": [{"event": "user", "text": 3}]},
        {"events": [{"event": "action", "name": "utter_x", "policy": None, "confidence": 1.0}]},
        {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "a"}]},
        {"events": "not a list"},
        {"responses": [{"text": "x", "buttons": []}, "not an object"]},
        {"events": [{"name": "missing event key"}]},
        {},
    ]
    out = []
    for sample in samples:
        try:
            validate(sample, RemoteAction.action_response_format_spec())
            out.append((sample, True))
        except ValidationError:
            out.append((sample, False))
    return out


def main() -> None:
    import structlog

    logging.disable(logging.WARNING)  # Rasa logs through structlog too; without this its debug lines reach stdout
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    model, heldout, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[4])
    with heldout.open(newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][: int(sys.argv[3])]
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    before = readings(agent, texts)
    answers = action_answers()

    from rasa_extensions import speedups

    applied = speedups.apply()
    after = readings(agent, texts)
    validate = speedups.action_response_validator()
    checked = []
    for sample, accepted in answers:
        try:
            validate(sample)
            checked.append({"sample": sample, "rasa": accepted, "settle": True})
        except Exception:  # noqa: BLE001 - any refusal
            checked.append({"sample": sample, "rasa": accepted, "settle": False})
    out.write_text(json.dumps({"applied": applied, "before": before, "after": after, "answers": checked}))


if __name__ == "__main__":
    main()

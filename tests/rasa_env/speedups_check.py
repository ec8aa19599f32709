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


def past_states_agree(agent) -> dict:
    """Replays every training story event by event and compares the (incremental) past states at each step with
    Rasa's own states_for_tracker_history, for the argument combinations the policies use."""
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
    from rasa.shared.importers.importer import TrainingDataImporter

    from rasa_extensions import speedups

    domain = agent.domain
    policy = next(node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                  if type(node._component).__name__ == "RulePolicy")
    rule_only = policy._get_rule_only_data()  # what the policies pass when they read the past states
    importer = TrainingDataImporter.load_from_config(str(ROOT / "config.yml"), str(ROOT / "domain"),
                                                     [str(ROOT / "data")])
    stories = importer.get_stories()
    trackers = TrainingDataGenerator(stories, domain, augmentation_factor=0, use_story_concatenation=False).generate()
    variants = [(False, False, None), (True, False, None), (False, True, rule_only), (True, True, rule_only)]
    compared = mismatched = encoded = encoded_differently = 0
    for source in trackers:
        tracker = DialogueStateTracker(source.sender_id, domain.slots)
        for event in source.events:
            tracker.update(event)
            for omit, ignore, data in variants:
                ours = tracker.past_states(domain, omit, ignore, data)
                rasas = domain.states_for_tracker_history(tracker, omit, ignore, data)
                compared += 1
                mismatched += ours != rasas
        # An action call's body, as the kept session encodes it and as Rasa's json.dumps did: the same when read.
        state = tracker.current_state(EventVerbosity.ALL)
        encoded += 1
        encoded_differently += json.loads(speedups.action_call_json(state)) != json.loads(json.dumps(state))
    return {"trackers": len(trackers), "compared": compared, "mismatched": mismatched, "encoded": encoded,
            "encoded_differently": encoded_differently}


def language_cases(agent) -> list[dict]:
    """The language slot's in-process reading (rasa_extensions/language_slot.py) through ActionExtractSlots, on
    trackers of every kind the action server's ActionReadLanguage also gets: each case's tracker as the action server
    receives it, and the events Rasa took from the in-process reading."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    domain = agent.domain
    cases = []
    metadatas = [{"language": "es"}, {"language": "en"}, {"language": "fr"}, {"language": None}, {"language": ["es"]},
                 {"language": "ES"}, {}, None]
    for slot in ("en", "es", None, "__other__"):
        for earlier in (None, {"language": "es"}, {"language": "en"}):
            for latest in [*metadatas, "no user message"]:
                events: list = [ActionExecuted("action_listen")]
                if slot is not None:
                    events.append(SlotSet("language", slot))
                if earlier is not None:
                    events += [UserUttered("hola", {"name": "greet", "confidence": 1.0}, metadata=earlier),
                               ActionExecuted("action_listen")]
                if latest != "no user message":
                    events.append(UserUttered("what do I owe?", {"name": "check_balance", "confidence": 1.0},
                                              metadata=latest))
                tracker = DialogueStateTracker.from_events("case", events, domain.slots)
                taken = asyncio.run(ActionExtractSlots(None)._run_custom_action(
                    "action_read_language", None, None, tracker, domain))
                cases.append({"tracker": tracker.current_state(EventVerbosity.ALL),
                              "events": [event.as_dict() for event in taken]})
    return cases


def tf_data_iterators() -> int:
    """How many tf.data iterators the garbage collector tracks: each holds a generator's thread until freed."""
    import gc

    from tensorflow.python.data.ops import iterator_ops

    return sum(isinstance(o, iterator_ops.OwnedIterator) for o in gc.get_objects())


def main() -> None:
    import structlog

    logging.disable(logging.WARNING)  # Rasa logs through structlog too; without this its debug lines reach stdout
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    model, heldout, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[4])
    with heldout.open(newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][: int(sys.argv[3])]
    from rasa.core.agent import Agent

    from rasa_extensions import speedups

    speedups.serving_gc()  # as the launcher does, before the model loads
    agent = Agent.load(model)
    loading = {"iterators_left": tf_data_iterators()}
    loading["collected"], _ = speedups.collect_loading_garbage()
    loading["iterators_after_collection"] = tf_data_iterators()
    before = readings(agent, texts)
    answers = action_answers()

    applied = speedups.apply()
    after = readings(agent, texts)
    again = readings(agent, texts)  # the same texts once more: now from the kept readings
    loop = asyncio.new_event_loop()
    handed_out = loop.run_until_complete(agent.parse_message(texts[0]))
    handed_out["intent"]["name"] = "changed by a caller"
    unharmed = loop.run_until_complete(agent.parse_message(texts[0]))["intent"]["name"] != "changed by a caller"
    loop.close()
    validate = speedups.action_response_validator()
    checked = []
    for sample, accepted in answers:
        try:
            validate(sample)
            checked.append({"sample": sample, "rasa": accepted, "settle": True})
        except Exception:  # noqa: BLE001 - any refusal
            checked.append({"sample": sample, "rasa": accepted, "settle": False})
    states = past_states_agree(agent)
    languages = language_cases(agent)
    out.write_text(json.dumps({"applied": applied, "before": before, "after": after, "again": again,
                               "kept_reading_unharmed": unharmed, "answers": checked, "past_states": states,
                               "language_cases": languages, "loading": loading}))


if __name__ == "__main__":
    main()

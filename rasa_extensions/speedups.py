"""Faster paths through rasa 3.6.21 that keep its behaviour, applied by the launcher (rasa_extensions/__main__.py)
before Rasa starts. Each was found with py-spy under bench/ load; its docstring says what it removes.
tests/test_rasa_speedups.py checks each against Rasa's own code.

rasa 3.6.21 is pinned and is the last open-source release, so these target that one version and are not applied to
any other (a Rasa upgrade must re-check them)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"


def apply() -> list[str]:
    """Install every speedup; returns their names."""
    import rasa

    if rasa.__version__ != RASA_VERSION:
        logger.warning("rasa %s is not %s: Settle's speedups are not applied", rasa.__version__, RASA_VERSION)
        return []
    return [patch() for patch in PATCHES]


GC_FIRST_GENERATION = 100_000


def serving_gc() -> None:
    """A serving process allocates and drops many small objects per message (events, states, dicts); with
    CPython's default first-generation threshold of 700 allocations the cyclic collector ran several times a turn,
    scanning the same long-lived model objects each time. Collecting every 100,000 allocations instead cut the Rasa
    server's CPU per turn by about a tenth here; memory grows by at most that much uncollected garbage."""
    import gc

    gc.set_threshold(GC_FIRST_GENERATION, 50, 100)


def collect_loading_garbage() -> tuple[int, float]:
    """Collect, before the first message, what loading the model left for the garbage collector; returns how many
    objects and how long it took.

    Rasa builds each TensorFlow model by fitting it on one example (RasaModel.load), through a tf.data iterator fed
    by a Python generator on its own thread. With the first generation's threshold raised (serving_gc), that
    iterator was still uncollected when serving began, and the first collection, started by some turn, freed it:
    destroying it waits for the generator's thread, and the event loop stood still for 4-41 s (docs/performance.md).
    Collected here, that wait falls before the server takes its first message."""
    import gc

    started = time.monotonic()
    collected = gc.collect()
    return collected, time.monotonic() - started


def action_response_validator() -> Callable[[Any], None]:
    """A check of an action server's answer that accepts and refuses exactly what Rasa's schema does.

    Rasa calls `jsonschema.validate(result, schema)` on every answer: that re-checks the schema against the JSON
    Schema meta-schema and builds a new validator each time, then tries each event against all 23 event schemas of
    a `oneOf`. That was a third of the Rasa server's CPU per turn. Here the validator is built once, and each event
    is first checked against the one branch whose `event` constant it names (no other branch can match it). Only
    when that fast check fails does the full validator run, so a bad answer raises the very error Rasa raises."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    schema = RemoteAction.action_response_format_spec()
    full = validators.validator_for(schema)(schema)
    base = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    by_event: dict[str, Any] = {}
    for branch in EVENT_SCHEMA["oneOf"]:
        name = branch["properties"]["event"]["const"]
        by_event[name] = validators.validator_for(base)({**base, "allOf": [branch]})
    responses = validators.validator_for(schema)(schema["properties"]["responses"])

    def fast_ok(result: Any) -> bool:
        if not isinstance(result, dict):
            return False
        events = result.get("events", [])
        if not isinstance(events, list) or not responses.is_valid(result.get("responses", [])):
            return False
        for event in events:
            branch = by_event.get(event.get("event")) if isinstance(event, dict) else None
            if branch is None or not branch.is_valid(event):
                return False
        return True

    def validate(result: Any) -> None:
        if not fast_ok(result):
            full.validate(result)

    return validate


def _compiled_action_response_schema() -> str:
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validate = action_response_validator()

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validate(result)
            return True
        except ValidationError as e:  # Rasa's own wording
            e.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result
    return "compiled action response schema"


def _event_types_by_name() -> str:
    """`Event.resolve_by_type` walks every Event subclass (with an `inspect.isabstract` check each) for every event
    it deserialises: 5% of the Rasa server's CPU, for a table that is fixed once Rasa is imported. The table is
    built on first use, in Rasa's own search order, and rebuilt once when a name is missing (a class imported
    later)."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    table: dict[str, type] = {}

    def build() -> None:
        table.clear()
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            table.setdefault(cls.type_name, cls)

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        found = table.get(type_name)
        if found is None:
            build()
            found = table.get(type_name)
        return found if found is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)
    return "event types by name"


class _KeptSession:
    """What `async with endpoint.session()` gets: the endpoint's long-lived aiohttp session, not closed on exit."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: object) -> None:
        return None


def action_call_json(value: Any) -> str:
    """JSON for a call's body, as `json.dumps` writes it for everything a tracker holds (the same value when read
    back; tests/test_rasa_speedups.py checks every training story's tracker), by ujson, which is several times
    faster. What ujson refuses (an integer past 64 bits) is written by `json.dumps`, as before."""
    import json

    import ujson

    try:
        return ujson.dumps(value)
    except (OverflowError, TypeError, ValueError):
        return json.dumps(value)


def _one_session_per_endpoint() -> str:
    """`EndpointConfig.request` builds a new aiohttp session (a connector, cookie jar, timeouts) for every call to the
    action server, several per turn, and tears it down after. One session per endpoint and event loop is kept
    instead. Its connections are not kept alive between calls (force_close): a call sent on a kept connection just
    as the action server closed it failed to write ("Can not write request body", seen under load), and Rasa does
    not retry an action call, so the turn lost its replies. A new loopback connection per call is cheap; the session
    was the cost. The call's body (the whole tracker) is encoded by `action_call_json` (ujson, a twelfth of Rasa's
    CPU per turn with the standard library's encoder)."""
    import asyncio

    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    sessions: dict[tuple[str, str, int], aiohttp.ClientSession] = {}

    def session(self: EndpointConfig) -> _KeptSession:
        # Keyed by what configures a session (not the object: Rasa copies endpoint configs).
        key = (repr(sorted(self.headers.items())), repr(sorted(self.basic_auth.items())),
               id(asyncio.get_running_loop()))
        kept = sessions.get(key)
        if kept is None or kept.closed:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            kept = sessions[key] = aiohttp.ClientSession(
                headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(force_close=True), json_serialize=action_call_json,
            )
        return _KeptSession(kept)

    EndpointConfig.session = session
    return "one session per endpoint"


def _sequential_graph_runner() -> str:
    """Every NLU parse and every action prediction runs Rasa's model graph through `dask.get`, which rebuilds the
    minimal schema and a dask task graph and schedules it through dask's local executor each time: about a millisecond
    a call, several calls a turn. The graph is small and runs on one thread anyway, so it is run in a topological
    order worked out once per set of targets. Each node gets the same inputs as under dask (a node's output is
    `(name, value)`, a missing input is passed as its bare name) and the result has the same shape."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def plan(self: DaskGraphRunner, targets: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
        plans = self.__dict__.setdefault("_settle_plans", {})
        found = plans.get(targets)
        if found is None:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            order: list[tuple[str, tuple[str, ...]]] = []
            done: set[str] = set()

            def visit(name: str, path: frozenset[str]) -> None:
                if name in done or name not in schema.nodes:
                    return
                if name in path:
                    raise GraphRunError(f"the graph has a cycle through '{name}'")
                needs = tuple(schema.nodes[name].needs.values())
                for need in needs:
                    visit(need, path | {name})
                done.add(name)
                order.append((name, needs))

            for target in targets:
                visit(target, frozenset())
            found = plans[targets] = order
        return found

    def run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None,
            targets: list[str] | None = None) -> dict[str, Any]:
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        steps = plan(self, run_targets)
        values: dict[str, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            if isinstance(input_value, str) and input_value in self._graph_schema.nodes:
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure that none of the input names "
                    f"passed to the `run` method are the same as node names in the graph schema.")
            values[input_name] = (input_name, input_value)
        try:
            for name, needs in steps:
                values[name] = self._instantiated_nodes[name](*(values.get(need, need) for need in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] if target in values else (target, None) for target in run_targets)

    DaskGraphRunner.run = run
    return "sequential graph runner"


class _History:
    """Where one reading of a tracker's past states got to: the events read, a tracker replayed up to them, the
    states of every turn before the last, and the reading's two loop variables at that point."""

    def __init__(self, tracker: Any) -> None:
        self.events: list[Any] = []
        self.replayed = tracker.init_copy()
        self.states: list[Any] = []
        self.last_ml_action: Any = None
        self.turn_was_hidden = False


def _incremental_past_states() -> str:
    """Each prediction asks for the tracker's past states once or more per policy (RulePolicy, MemoizationPolicy),
    and Rasa answers each time by replaying the whole conversation from its first event. Events are only ever
    added, so the replay is kept on the tracker and continued from where it stopped: the states of the turns
    before are the same, only the new turns are read. If the events read before are not the start of the events
    now (an undo or restart took some away), it starts over. The loop is Rasa's `states_for_tracker_history`,
    step for step; states are handed out as copies (featurizers delete keys from what they get)."""
    from rasa.shared.core.constants import PREVIOUS_ACTION
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    def read(domain: Any, history: _History, tr: Any, hide_rule_turn: bool, omit_unset_slots: bool,
             ignore_rule_only_turns: bool, rule_only_data: Any, states: list[Any]) -> None:
        # The body of Domain.states_for_tracker_history's loop, for one prior tracker.
        if ignore_rule_only_turns:
            if not history.turn_was_hidden:
                history.last_ml_action = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                history.turn_was_hidden = hide_rule_turn
            if history.turn_was_hidden:
                return
        state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if history.last_ml_action:
                state[PREVIOUS_ACTION] = history.last_ml_action
        states.append(domain._clean_state(state))

    def past_states(self: DialogueStateTracker, domain: Any, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False, rule_only_data: dict[str, Any] | None = None) -> list:
        applied = self.applied_events()
        key = (id(domain), omit_unset_slots, ignore_rule_only_turns, id(rule_only_data) if rule_only_data else None)
        kept = self.__dict__.setdefault("_settle_histories", {})
        history = kept.get(key)
        seen = len(history.events) if history is not None else 0
        if history is None or seen > len(applied) or any(
                a is not b for a, b in zip(history.events, applied, strict=False)):
            history = kept[key] = _History(self)
            seen = 0
        for event in applied[seen:]:
            if isinstance(event, ActionExecuted):
                read(domain, history, history.replayed, event.hide_rule_turn, omit_unset_slots,
                     ignore_rule_only_turns, rule_only_data, history.states)
            history.replayed.update(event)
        history.events = applied
        # The last turn (the tracker as it is now) is read on copies: the next call continues from before it.
        final = _History.__new__(_History)
        final.last_ml_action, final.turn_was_hidden = history.last_ml_action, history.turn_was_hidden
        states = list(history.states)
        read(domain, final, history.replayed, False, omit_unset_slots, ignore_rule_only_turns, rule_only_data,
             states)
        return [{name: dict(sub_state) for name, sub_state in state.items()} for state in states]

    DialogueStateTracker.past_states = past_states
    return "incremental past states"


def _rule_matching_stops_at_longest_rule() -> str:
    """RulePolicy finds the rules that fit the conversation by checking every rule (280 here) against every turn of
    the conversation, newest first, parsing and reversing each rule's states again at every check, although a rule
    of k turns is satisfied by any turn older than its k-th (Rasa's own check answers True there without looking).
    Here each rule's states are parsed and reversed once per model, and the search stops at the length of the
    longest rule still in the running. The checks themselves are Rasa's, in Rasa's order; the set is the same."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import PREVIOUS_ACTION

    def reversed_rules(self: RulePolicy, lookup: dict[str, str]) -> dict[str, list[Any]]:
        kept = self.__dict__.setdefault("_settle_reversed_rules", {})
        found = kept.get(id(lookup))
        if found is None or found[0] is not lookup or len(found[1]) != len(lookup):
            found = kept[id(lookup)] = (lookup, {key: list(reversed(self._rule_key_to_state(key))) for key in lookup})
        return found[1]

    def applicable(rule_states: list[Any], turn_index: int, conversation_state: Any) -> bool:
        # RulePolicy._is_rule_applicable, given the rule's states already reversed.
        if turn_index >= len(rule_states):
            return True
        current_previous_action = conversation_state.get(PREVIOUS_ACTION)
        rule_previous_action = rule_states[turn_index].get(PREVIOUS_ACTION)
        if not rule_previous_action and not current_previous_action:
            return True
        if not rule_previous_action or not current_previous_action:
            return False
        return RulePolicy._does_rule_match_state(rule_states[turn_index], conversation_state)

    def _get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[Any]) -> set[str]:
        rules = reversed_rules(self, lookup)
        possible_keys = set(lookup.keys())
        for i, state in enumerate(reversed(states)):
            if not possible_keys or i >= max(len(rules[key]) for key in possible_keys):
                break
            possible_keys = {key for key in possible_keys if applicable(rules[key], i, state)}
        return possible_keys

    RulePolicy._get_possible_keys = _get_possible_keys
    return "rule matching stops at the longest rule"


def _lighter_feature_combining() -> str:
    """Before DIET sees a message, Rasa joins each featurizer's sparse features: it deep-copies the first (36 calls to
    `copy.deepcopy` a message) and appends the others with `scipy.sparse.hstack`, whose generality (block matrices,
    format checks) costs a tenth of a millisecond for two one-row matrices. The copy is now made directly and two
    COO matrices are joined by concatenating their entries, the same entries, order, shape and dtype as hstack's."""
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    def hstack_pair(left: Any, right: Any) -> Any:
        if left.shape[0] != right.shape[0]:
            return scipy.sparse.hstack([left, right])  # scipy's own error for a mismatch
        left, right = left.tocoo(), right.tocoo()
        return scipy.sparse.coo_matrix(
            (np.concatenate([left.data, right.data]).astype(np.result_type(left.dtype, right.dtype), copy=False),
             (np.concatenate([left.row, right.row]), np.concatenate([left.col, right.col + left.shape[1]]))),
            shape=(left.shape[0], left.shape[1] + right.shape[1]))

    original_combine = Features._combine_sparse_features

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        if self.features.shape[0] != additional_features.features.shape[0]:
            return original_combine(self, additional_features)  # Rasa's error message
        self.features = hstack_pair(self.features, additional_features.features)
        self._cached_fingerprint = None

    def _combine_features(features: list[Features], featurizers: list[str]) -> Features | None:
        combined = None
        for f in features:
            if combined is None:
                combined = Features(f.features.copy(), f.type, f.attribute, featurizers)
            else:
                combined.combine_with_features(f)
        return combined

    Features._combine_sparse_features = _combine_sparse_features
    Message._combine_features = staticmethod(_combine_features)
    return "lighter feature combining"


def _concrete_prediction_function() -> str:
    """DIET's prediction step is a `tf.function` with a fixed input signature, yet each call goes through the
    function's dispatch (canonicalising the arguments, looking up the trace): more time than the computation. The
    one concrete function that signature allows is looked up once and called directly: 1.4 ms down to 0.8 ms per
    parse here. Eager mode and the first call (which builds the function) are left to Rasa."""
    import weakref

    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow import models

    original = models.RasaModel._rasa_predict
    concrete: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # Keras tracks its own attributes

    def _rasa_predict(self: models.RasaModel, batch_in: Any) -> dict[str, Any]:
        function = concrete.get(self)
        if function is None:
            outputs = original(self, batch_in)
            if not self._run_eagerly and self._tf_predict_step is not None:
                concrete[self] = self._tf_predict_step.get_concrete_function(*self._dynamic_signature(batch_in))
            return outputs
        self._training = False
        outputs = models.tf_utils.sync_to_numpy_or_python_type(function(batch_in))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    models.RasaModel._rasa_predict = _rasa_predict
    return "concrete prediction function"


# NLU graph nodes whose reading of a message depends on its text alone (and the model and domain): no tracker, no
# metadata.
TEXT_ONLY_NLU = frozenset({
    "NLUMessageConverter", "RegexMessageHandler", "DomainProvider", "WhitespaceTokenizer", "RegexFeaturizer",
    "LexicalSyntacticFeaturizer", "CountVectorsFeaturizer", "DIETClassifier", "FallbackClassifier",
    "LogisticRegressionClassifier", "EntitySynonymMapper", "MiniLMSentenceFeaturizer",
})
PARSES_KEPT = 10_000


def _parse_results_kept_by_text() -> str:
    """The same words get the same reading: a model whose NLU components read only the text (TEXT_ONLY_NLU) gives
    the same parse for the same text every time, and people send the same short texts again and again ("yes", "1",
    "hi", "thanks"). The last PARSES_KEPT readings are kept per loaded model and handed out as copies. A pipeline
    with any other component (one that could look at the tracker or the metadata) is always run."""
    import copy
    from collections import OrderedDict

    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._parse_message_with_graph
    text_only: dict[int, bool] = {}
    kept: OrderedDict[tuple[int, str, bool], dict[str, Any]] = OrderedDict()

    def is_text_only(self: MessageProcessor) -> bool:
        runner = self.graph_runner
        found = text_only.get(id(runner))
        if found is None:
            schema = runner._graph_schema.minimal_graph_schema([self.model_metadata.nlu_target])
            found = text_only[id(runner)] = all(node.uses.__name__ in TEXT_ONLY_NLU
                                                for node in schema.nodes.values())
        return found

    def _parse_message_with_graph(self: MessageProcessor, message: Any, tracker: Any,
                                  only_output_properties: bool = True) -> dict[str, Any]:
        if not isinstance(message.text, str) or not is_text_only(self):
            return original(self, message, tracker, only_output_properties)
        key = (id(self.graph_runner), message.text, only_output_properties)
        parsed = kept.get(key)
        if parsed is None:
            parsed = kept[key] = original(self, message, tracker, only_output_properties)
            if len(kept) > PARSES_KEPT:
                kept.popitem(last=False)
        else:
            kept.move_to_end(key)
        return copy.deepcopy(parsed)

    MessageProcessor._parse_message_with_graph = _parse_message_with_graph
    return "parse results kept by text"


def _language_slot_read_in_process() -> str:
    """The `language` slot's custom mapping answered in this process (rasa_extensions/language_slot.py), not by an
    action server call per user message and per form activation; any other custom mapping still calls its action."""
    from rasa.core.actions.action import ActionExtractSlots

    from rasa_extensions import language_slot

    original = ActionExtractSlots._run_custom_action

    async def _run_custom_action(self: ActionExtractSlots, custom_action: str, output_channel: Any, nlg: Any,
                                 tracker: Any, domain: Any) -> list[Any]:
        if custom_action == language_slot.ACTION:
            return language_slot.language_events(tracker)
        return await original(self, custom_action, output_channel, nlg, tracker, domain)

    ActionExtractSlots._run_custom_action = _run_custom_action
    return "language slot read in process"


PATCHES = (_compiled_action_response_schema, _event_types_by_name, _one_session_per_endpoint,
           _sequential_graph_runner, _incremental_past_states, _rule_matching_stops_at_longest_rule,
           _lighter_feature_combining, _concrete_prediction_function, _parse_results_kept_by_text,
           _language_slot_read_in_process)

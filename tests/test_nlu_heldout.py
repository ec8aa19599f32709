"""The held-out NLU sets stay held out: no row of them may reappear in the training data.

A held-out row copied (or lightly re-cased) into data/nlu/ would make the score measure memory rather than
generalisation, which is how the first own_heldout.csv stopped being fair. Rows are compared after
lower-casing and dropping punctuation, the way a count-vector featuriser would see them.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT

BENCH_DATA = PROJECT_ROOT / "bench" / "data"
OWN_HELDOUT = BENCH_DATA / "own_heldout_v2.csv"
EXTERNAL_HELDOUT = BENCH_DATA / "external_heldout.csv"
SPANISH_HELDOUT = BENCH_DATA / "es_heldout.csv"  # issue 23: written before data/nlu/spanish.yml


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", re.sub(r"\s+", " ", text.lower())).strip()


def _training_examples() -> dict[str, str]:
    examples: dict[str, str] = {}
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
            if "intent" not in item:
                continue
            for line in item["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples[_norm(line[2:])] = f"{path.name}:{item['intent']}"
    return examples


def _rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["intent"]) for row in csv.DictReader(handle)]


def _domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in (PROJECT_ROOT / "domain").glob("*.yml"):
        intents.update(yaml.safe_load(path.read_text()).get("intents", []) or [])
    return intents


def test_own_heldout_shares_no_row_with_training_data() -> None:
    training = _training_examples()
    leaked = [(text, training[_norm(text)]) for text, _ in _rows(OWN_HELDOUT) if _norm(text) in training]
    assert leaked == []


def test_external_heldout_shares_no_row_with_training_data() -> None:
    training = _training_examples()
    leaked = [(text, training[_norm(text)]) for text, _ in _rows(EXTERNAL_HELDOUT) if _norm(text) in training]
    assert leaked == []


def test_own_heldout_covers_every_intent_and_out_of_scope() -> None:
    # out_of_scope is a domain intent too, so equality means every intent and nothing unknown.
    assert {intent for _, intent in _rows(OWN_HELDOUT)} == _domain_intents()


def test_spanish_heldout_shares_no_row_with_training_data_and_covers_every_intent() -> None:
    """Mutation tried: the first version of the set, whose "hola", "si", "no" and "adios" are English training
    rows too: this test listed those four."""
    training = _training_examples()
    rows = _rows(SPANISH_HELDOUT)
    leaked = [(text, training[_norm(text)]) for text, _ in rows if _norm(text) in training]
    assert leaked == []
    assert {intent for _, intent in rows} == _domain_intents()

"""The NLU bench's own arithmetic (issue 22 item 4, issue 23): the fallback-threshold sweep that chose config.yml's
threshold, and the out-of-scope leave-out run that must score only the tuning side of the external split."""

from __future__ import annotations

import csv
from pathlib import Path

from bench.nlu_oos_leaveout import _build_module, tune_side_out_of_scope, without_intent
from bench.nlu_score import NLU_FALLBACK, OUT_OF_SCOPE, classifier_ranking, fallback_sweep
from bot.config import PROJECT_ROOT

CSV = Path("x.csv")
INTENTS = {"check_balance", "pay_now", OUT_OF_SCOPE}


def test_a_higher_fallback_threshold_reads_a_low_confidence_guess_as_out_of_scope() -> None:
    gold = ["check_balance", OUT_OF_SCOPE]
    rankings = [("check_balance", 0.90, 0.05), ("check_balance", 0.57, 0.10)]
    at_05, at_06 = fallback_sweep(CSV, gold, rankings, [0.5, 0.6], 0.05, INTENTS)
    assert (at_05["out_of_scope_recall"], at_05["macro_f1_in_scope"]) == (0.0, 2 / 3)
    assert (at_06["out_of_scope_recall"], at_06["macro_f1_in_scope"]) == (1.0, 1.0)


def test_the_sweep_applies_the_ambiguity_threshold_as_the_fallback_classifier_does() -> None:
    """Mutation tried: dropping `c1 - c2 < ambiguity` from the sweep: the close call stayed pay_now."""
    sweep = fallback_sweep(CSV, [OUT_OF_SCOPE], [("pay_now", 0.80, 0.77)], [0.5], 0.05, INTENTS)
    assert sweep[0]["out_of_scope_recall"] == 1.0


def test_the_sweep_reads_the_classifier_ranking_behind_nlu_fallback() -> None:
    parsed = {"intent": {"name": NLU_FALLBACK, "confidence": 0.55},
              "intent_ranking": [{"name": NLU_FALLBACK, "confidence": 0.55}, {"name": "pay_now", "confidence": 0.52},
                                 {"name": "check_balance", "confidence": 0.30}]}
    assert classifier_ranking(parsed) == ("pay_now", 0.52, 0.30)
    assert classifier_ranking({"intent": None, "intent_ranking": []}) == (NLU_FALLBACK, 0.0, 0.0)


def test_the_leaveout_model_loses_only_the_external_out_of_scope_rows() -> None:
    yml = ('version: "3.1"\nnlu:\n- intent: affirm\n  examples: |\n    - yes\n\n'
           "- intent: out_of_scope\n  examples: |\n    - who is radiohead\n\n"
           "- intent: pay_now\n  examples: |\n    - pay my bill\n")
    left = without_intent(yml, OUT_OF_SCOPE)
    assert "radiohead" not in left and "- yes" in left and "- pay my bill" in left


def test_the_leaveout_run_scores_the_tune_side_never_the_never_tune_split() -> None:
    """Mutation tried: `not build.is_held_out(...)` removed: the 42 held-out out-of-scope rows were scored too."""
    texts = tune_side_out_of_scope(_build_module())
    with (PROJECT_ROOT / "bench" / "data" / "external_heldout.csv").open(newline="", encoding="utf-8") as handle:
        never_tune = {row["text"].strip().lower() for row in csv.DictReader(handle)}
    assert len(texts) > 100
    assert {text.strip().lower() for text in texts} & never_tune == set()


def test_the_dispute_tuning_rows_are_neither_trained_on_nor_held_out() -> None:
    """external_tune_unused.csv: tune-side Banking77 rows that down-sampling keeps out of training (a tuning set).
    Mutation tried: writing ordered[:DISPUTE_CAP] (the trained rows) there: every row was a training example."""
    from tests.test_nlu_heldout import _norm, _rows, _training_examples

    rows = _rows(PROJECT_ROOT / "bench" / "data" / "external_tune_unused.csv")
    held_out = {_norm(text) for text, _ in _rows(PROJECT_ROOT / "bench" / "data" / "external_heldout.csv")}
    training = _training_examples()
    assert len(rows) > 300
    assert [text for text, _ in rows if _norm(text) in training or _norm(text) in held_out] == []

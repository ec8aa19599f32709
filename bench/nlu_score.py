"""Scores the trained model's intent classification on held-out CSVs (header: text,intent).

Runs in the Rasa environment, because it loads the model in-process:

    .venv-rasa/bin/python bench/nlu_score.py --model models/settle-<hash>.tar.gz [--csv FILE ...]

bench/run.py --nlu does this for you with the current model. Prints, per CSV: recall and precision per
intent, macro-F1 over the in-scope intents, out_of_scope recall and milliseconds per parse; writes the same
figures as JSON (bench/out/nlu-<time>.json unless --json says otherwise).

A predicted `nlu_fallback` (FallbackClassifier: low confidence or too close a call) counts as an
out_of_scope prediction: the bot answers both by re-prompting with what it can do, so to the person typing
they are the same outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `bench` importable

from bench.common import DATA_DIR, OUT_DIR, fmt, percentile, table, timestamp  # noqa: E402

OUT_OF_SCOPE = "out_of_scope"
NLU_FALLBACK = "nlu_fallback"
# own_heldout.csv (v1) was partly tuned on; own_heldout_v2.csv replaced it as the fair set (bench/README.md).
# es_heldout.csv: the Spanish held-out set (issue 23), written before data/nlu/spanish.yml.
DEFAULT_CSVS = (DATA_DIR / "external_heldout.csv", DATA_DIR / "own_heldout_v2.csv", DATA_DIR / "es_heldout.csv")
WARMUP_PARSES = 20  # the first parses build TensorFlow graphs and fill caches; not what a parse costs


@dataclass
class IntentScore:
    support: int  # rows labelled with this intent
    predicted: int  # rows predicted as this intent (after nlu_fallback -> out_of_scope)
    correct: int
    recall: float | None
    precision: float | None  # None: never predicted
    f1: float


@dataclass
class DatasetScore:
    csv: str
    rows: int
    accuracy: float
    macro_f1_in_scope: float | None  # None: the CSV has no in-scope rows
    in_scope_intents: int
    out_of_scope_rows: int
    out_of_scope_recall: float | None  # None: the CSV has no out_of_scope rows
    in_scope_rejected: float | None  # share of in-scope rows answered as out_of_scope / nlu_fallback
    nlu_fallback_predictions: int
    ms_per_parse_mean: float
    ms_per_parse_p95: float
    per_intent: dict[str, IntentScore]
    top_confusions: list[dict[str, Any]] = field(default_factory=list)
    unknown_gold_intents: list[str] = field(default_factory=list)  # labels the model was never trained on
    # --fallback-thresholds: the same figures had the FallbackClassifier used another threshold
    fallback_sweep: list[dict[str, Any]] = field(default_factory=list)


def read_rows(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs. Blank texts are skipped: the gateway never sends them to Rasa."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"text", "intent"} <= set(reader.fieldnames):
            raise SystemExit(f"nlu_score: {path} must have a header with the columns text,intent")
        rows = [(row["text"].strip(), row["intent"].strip()) for row in reader]
    return [(text, intent) for text, intent in rows if text and intent]


def score(
    path: Path, gold: list[str], predicted: list[str], fallbacks: int, timings_ms: list[float],
    domain_intents: set[str],
) -> DatasetScore:
    support = Counter(gold)
    predicted_count = Counter(predicted)
    correct = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)

    per_intent: dict[str, IntentScore] = {}
    for intent in sorted(support):
        tp = correct[intent]
        recall = tp / support[intent]
        precision = tp / predicted_count[intent] if predicted_count[intent] else None
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        per_intent[intent] = IntentScore(support[intent], predicted_count[intent], tp, recall, precision, f1)

    in_scope = [intent for intent in per_intent if intent != OUT_OF_SCOPE]
    macro_f1 = sum(per_intent[i].f1 for i in in_scope) / len(in_scope) if in_scope else None
    oos = per_intent.get(OUT_OF_SCOPE)
    in_scope_rows = [(g, p) for g, p in zip(gold, predicted, strict=True) if g != OUT_OF_SCOPE]
    rejected = (
        sum(p == OUT_OF_SCOPE for _, p in in_scope_rows) / len(in_scope_rows) if in_scope_rows else None
    )
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return DatasetScore(
        csv=str(path),
        rows=len(gold),
        accuracy=sum(correct.values()) / len(gold),
        macro_f1_in_scope=macro_f1,
        in_scope_intents=len(in_scope),
        out_of_scope_rows=support[OUT_OF_SCOPE],
        out_of_scope_recall=oos.recall if oos else None,
        in_scope_rejected=rejected,
        nlu_fallback_predictions=fallbacks,
        ms_per_parse_mean=sum(timings_ms) / len(timings_ms),
        ms_per_parse_p95=percentile(timings_ms, 95),
        per_intent=per_intent,
        top_confusions=[{"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(10)],
        unknown_gold_intents=sorted(set(support) - domain_intents - {OUT_OF_SCOPE}),
    )


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def report(result: DatasetScore) -> str:
    rows = [
        [intent, s.support, s.predicted, pct(s.recall), pct(s.precision), fmt(s.f1, 3)]
        for intent, s in result.per_intent.items()
    ]
    parts = [
        table(["intent", "rows", "predicted", "recall", "precision", "F1"], rows,
              title=f"NLU: {result.csv} ({result.rows} rows)"),
        "",
        table(
            ["figure", "value"],
            [
                [f"macro-F1, in-scope intents ({result.in_scope_intents})", fmt(result.macro_f1_in_scope, 3)],
                [f"out_of_scope recall ({result.out_of_scope_rows} rows)", pct(result.out_of_scope_recall)],
                ["in-scope rows answered as out_of_scope", pct(result.in_scope_rejected)],
                ["accuracy, all rows", pct(result.accuracy)],
                ["nlu_fallback predictions (counted as out_of_scope)", result.nlu_fallback_predictions],
                ["ms per parse, mean", fmt(result.ms_per_parse_mean, 2)],
                ["ms per parse, p95", fmt(result.ms_per_parse_p95, 2)],
            ],
        ),
    ]
    if result.top_confusions:
        parts += ["", table(["gold", "predicted", "count"],
                            [[c["gold"], c["predicted"], c["count"]] for c in result.top_confusions],
                            title="Most frequent mistakes")]
    if result.fallback_sweep:
        parts += ["", table(
            ["fallback threshold", "macro-F1", "lowest intent F1", "out_of_scope recall", "in-scope rejected"],
            [[fmt(r["threshold"], 2), fmt(r["macro_f1_in_scope"], 3), fmt(r["min_intent_f1"], 3),
              pct(r["out_of_scope_recall"]), pct(r["in_scope_rejected"])] for r in result.fallback_sweep],
            title=f"Had the FallbackClassifier used another threshold (ambiguity threshold "
                  f"{result.fallback_sweep[0]['ambiguity_threshold']})")]
    if result.unknown_gold_intents:
        parts += ["", "WARNING: labels the model does not know (they can never be predicted): "
                  + ", ".join(result.unknown_gold_intents)]
    return "\n".join(parts)


def classifier_ranking(parsed: dict[str, Any]) -> tuple[str, float, float]:
    """The classifier's own top intent, its confidence and the runner-up's, before the FallbackClassifier (which
    puts nlu_fallback in front of the classifier's ranking when it fires)."""
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != NLU_FALLBACK]
    if not ranking:
        return NLU_FALLBACK, 0.0, 0.0
    return ranking[0]["name"], ranking[0]["confidence"], ranking[1]["confidence"] if len(ranking) > 1 else 0.0


def fallback_sweep(
    path: Path, gold: list[str], rankings: list[tuple[str, float, float]], thresholds: list[float],
    ambiguity: float, domain_intents: set[str],
) -> list[dict[str, Any]]:
    """The figures had the FallbackClassifier used each threshold (same ambiguity threshold): the classifier is
    the same model whatever the threshold, so choosing one needs no retraining, only a tuning set."""
    sweep = []
    for threshold in thresholds:
        predicted = [OUT_OF_SCOPE if top == NLU_FALLBACK or c1 < threshold or c1 - c2 < ambiguity else top
                     for top, c1, c2 in rankings]
        result = score(path, gold, predicted, 0, [0.0], domain_intents)
        f1s = [s.f1 for i, s in result.per_intent.items() if i != OUT_OF_SCOPE]
        sweep.append({"threshold": threshold, "ambiguity_threshold": ambiguity,
                      "macro_f1_in_scope": result.macro_f1_in_scope, "min_intent_f1": min(f1s) if f1s else None,
                      "out_of_scope_recall": result.out_of_scope_recall,
                      "in_scope_rejected": result.in_scope_rejected})
    return sweep


async def run(
    model: Path, csvs: list[Path], thresholds: list[float] | None = None, ambiguity: float = 0.05,
) -> tuple[list[DatasetScore], str, int]:
    from rasa import __version__ as rasa_version
    from rasa.core.agent import Agent

    # Agent.parse_message is what the Rasa server runs on each incoming message (NLU only: no tracker
    # store, no policies), so the timing is the NLU share of a real turn.
    agent = Agent.load(str(model))
    domain_intents = set(agent.domain.intents)
    datasets = [(path, read_rows(path)) for path in csvs]

    warmup = [text for _, rows in datasets for text, _ in rows][:WARMUP_PARSES] or ["hello"]
    for text in warmup:
        await agent.parse_message(text)

    results = []
    for path, rows in datasets:
        if not rows:
            raise SystemExit(f"nlu_score: {path} has no rows")
        gold, predicted, timings_ms, fallbacks, rankings = [], [], [], 0, []
        for text, intent in rows:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            timings_ms.append((time.perf_counter() - start) * 1000)
            rankings.append(classifier_ranking(parsed))
            name = (parsed.get("intent") or {}).get("name") or NLU_FALLBACK
            if name == NLU_FALLBACK:
                fallbacks += 1
                name = OUT_OF_SCOPE
            gold.append(intent)
            predicted.append(name)
        result = score(path, gold, predicted, fallbacks, timings_ms, domain_intents)
        if thresholds:
            result.fallback_sweep = fallback_sweep(path, gold, rankings, thresholds, ambiguity, domain_intents)
        results.append(result)
    return results, rasa_version, len(warmup)


def quiet_rasa() -> None:
    """Rasa, TensorFlow and SQLAlchemy warn a lot while loading; none of it changes the figures."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR)
    for name in ("rasa", "tensorflow", "absl", "sanic", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # Rasa's structlog events (one per parse) are unfiltered until configured; the server configures
    # them at startup. Left as they are, they would print, and be timed, with every parse.
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="trained model (.tar.gz)")
    parser.add_argument("--csv", type=Path, action="append", dest="csvs",
                        help="held-out CSV with header text,intent (repeatable; "
                             "default: bench/data/external_heldout.csv and own_heldout_v2.csv)")
    parser.add_argument("--json", type=Path,
                        help="where to write the results (default bench/out/nlu-<time>.json)")
    parser.add_argument("--fallback-thresholds", type=lambda v: [float(x) for x in v.split(",")],
                        help="also score as if the FallbackClassifier had used each of these thresholds, e.g. "
                             "0.5,0.6,0.7 (choose on a tuning set such as own_dev.csv, never on a held-out set)")
    parser.add_argument("--ambiguity-threshold", type=float, default=0.05,
                        help="with --fallback-thresholds: the ambiguity threshold to apply (config.yml's)")
    args = parser.parse_args(argv)

    csvs = args.csvs or list(DEFAULT_CSVS)
    missing = [str(p) for p in [args.model, *csvs] if not p.exists()]
    if missing:
        print("nlu_score: not found: " + ", ".join(missing), file=sys.stderr)
        return 2

    quiet_rasa()
    results, rasa_version, warmup = asyncio.run(
        run(args.model, csvs, args.fallback_thresholds, args.ambiguity_threshold))

    print("Predicted nlu_fallback is counted as out_of_scope: the bot re-prompts for both.\n")
    print("\n\n".join(report(r) for r in results))

    out = args.json or OUT_DIR / f"nlu-{timestamp()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "kind": "nlu",
        "time": timestamp(),
        "model": str(args.model),
        "rasa_version": rasa_version,
        "nlu_fallback_counted_as": OUT_OF_SCOPE,
        "warmup_parses": warmup,
        "datasets": [asdict(r) for r in results],
    }, indent=2) + "\n")
    print(f"\nNLU results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build data/nlu/external.yml and bench/data/external_heldout.csv from the shared external data set.

Input: ../shared/data/external_intents_dev.csv (columns text,intent,source), relative to the project root.
It holds CLINC150 and Banking77 utterances mapped to our intents; see ../shared/data/README.md.

The split is deterministic and depends only on the text:
    held out  <=>  int(sha1(text.strip().lower()).hexdigest(), 16) % 5 == 0

Held-out rows (all intents, including extra_charge_on_statement) go to bench/data/external_heldout.csv: the
never-tune part. Every other row is the tune side.
Training rows go to data/nlu/external.yml, after:
  * dropping rows whose source ends with ':extra_charge_on_statement' (weak match for dispute_debt);
  * skipping rows whose text already appears in the hand-written data/nlu/*.yml files (compared
    case-insensitively, ignoring punctuation and repeated whitespace, which the tokenizer ignores too);
  * de-duplicating on the same normal form;
  * down-sampling dispute_debt to at most 160 rows, lowest sha1 first, so it does not dominate.
The dispute_debt rows the down-sampling leaves out go to bench/data/external_tune_unused.csv: tune side, never
trained on, so a tuning set (bench/README.md).

Standard library only; runs with any Python 3.10+:
    python3 scripts/build_external_nlu.py [--check]
With --check it writes nothing and exits 1 when the generated files are out of date.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV_PATH = (ROOT / ".." / "shared" / "data" / "external_intents_dev.csv").resolve()
NLU_DIR = ROOT / "data" / "nlu"
OUT_YML = NLU_DIR / "external.yml"
OUT_HELDOUT = ROOT / "bench" / "data" / "external_heldout.csv"
# Tune-side rows that the down-sampling leaves out of training: a tuning set for Banking77-style disputes.
OUT_TUNE_UNUSED = ROOT / "bench" / "data" / "external_tune_unused.csv"

HELDOUT_MODULUS = 5
DISPUTE_CAP = 160
DOWNSAMPLED_INTENT = "dispute_debt"
DROPPED_SOURCE_SUFFIX = ":extra_charge_on_statement"

# Rasa reads [text](entity), [text]{...} and [text][...] inside examples as entity annotations.
ENTITY_SYNTAX = re.compile(r"\[[^\]]*\]\s*[(\[{]")


def text_hash(text: str) -> int:
    return int(hashlib.sha1(text.strip().lower().encode()).hexdigest(), 16)


def is_held_out(text: str) -> bool:
    return text_hash(text) % HELDOUT_MODULUS == 0


def normal_form(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive key used for overlap checks and dedup."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def clean_example(text: str) -> str:
    """Make one utterance safe as a line of a YAML block scalar and of Rasa's example syntax."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    if ENTITY_SYNTAX.search(text):
        text = text.replace("[", "(").replace("]", ")")
    return text


def hand_written_examples(nlu_dir: Path) -> dict[str, str]:
    """normal form -> intent for every intent example in the hand-written NLU files.

    A small line-based reader (stdlib only) for the Rasa 3 layout used in data/nlu:
    `- intent: NAME` followed by `examples: |` and `- text` lines. regex/lookup/synonym blocks are ignored.
    """
    seen: dict[str, str] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.resolve() == OUT_YML.resolve():
            continue
        current_intent = None
        in_examples = False
        for raw in path.read_text(encoding="utf-8").splitlines():
            top = re.match(r"^- (\w+):\s*(.*)$", raw)
            if top:
                current_intent = top.group(2).strip() if top.group(1) == "intent" else None
                in_examples = False
                continue
            if re.match(r"^\s+examples:\s*\|", raw):
                in_examples = True
                continue
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            if not raw.startswith("    "):
                in_examples = False
                continue
            if in_examples and current_intent and raw.strip().startswith("- "):
                seen.setdefault(normal_form(raw.strip()[2:]), current_intent)
    return seen


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if set(row) != {"text", "intent", "source"}:
            raise SystemExit(f"unexpected columns in {csv_path}: {sorted(row)}")
    return rows


def split(
    rows: list[dict[str, str]], hand_written: dict[str, str],
) -> tuple[list[tuple[str, str]], dict[str, list[str]], Counter, list[tuple[str, str]]]:
    """(held out, training by intent, stats, tune-side rows left out of training by the down-sampling)"""
    held_out, training, stats = [], {}, Counter()
    seen_training: set[str] = set()
    for row in rows:
        text, intent, source = row["text"], row["intent"], row["source"]
        if is_held_out(text):
            held_out.append((clean_example(text), intent))
            if normal_form(text) in hand_written:
                stats["held-out text also in hand-written files (check!)"] += 1
            continue
        if source.endswith(DROPPED_SOURCE_SUFFIX):
            stats["dropped extra_charge_on_statement"] += 1
            continue
        key = normal_form(text)
        if key in hand_written:
            stats["skipped: already hand-written"] += 1
            continue
        if not key or key in seen_training:
            stats["skipped: duplicate"] += 1
            continue
        seen_training.add(key)
        training.setdefault(intent, []).append(text)

    capped, unused = training.get(DOWNSAMPLED_INTENT, []), []
    if len(capped) > DISPUTE_CAP:
        stats[f"down-sampled {DOWNSAMPLED_INTENT}"] += len(capped) - DISPUTE_CAP
        ordered = sorted(capped, key=text_hash)
        training[DOWNSAMPLED_INTENT] = ordered[:DISPUTE_CAP]
        unused = [(clean_example(text), DOWNSAMPLED_INTENT) for text in ordered[DISPUTE_CAP:]]
    return held_out, training, stats, unused


HEADER = """\
# GENERATED FILE: do not edit by hand. Regenerate with `python3 scripts/build_external_nlu.py`.
# Source: ../shared/data/external_intents_dev.csv (see ../shared/data/README.md for the intent mapping).
# Only the training part of a deterministic split is here: a row is held out (and written to
# bench/data/external_heldout.csv instead) when int(sha1(text.strip().lower()), 16) % 5 == 0.
# Also dropped: Banking77 extra_charge_on_statement rows (weak match), rows already in the hand-written
# data/nlu files, duplicates; dispute_debt is down-sampled to at most 160 rows (lowest sha1 first).
#
# Attribution (both licences require citing the papers):
# - CLINC150: Stefan Larson, Anish Mahendran, Joseph J. Peper, Christopher Clarke, Andrew Lee,
#   Parker Hill, Jonathan K. Kummerfeld, Kevin Leach, Michael A. Laurenzano, Lingjia Tang and Jason Mars.
#   2019. "An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction". EMNLP-IJCNLP 2019.
#   github.com/clinc/oos-eval, CC BY 3.0 Unported.
# - Banking77: Inigo Casanueva, Tadas Temcinas, Daniela Gerz, Matthew Henderson and Ivan Vulic. 2020.
#   "Efficient Intent Detection with Dual Sentence Encoders". NLP4ConvAI workshop at ACL 2020.
#   github.com/PolyAI-LDN/task-specific-datasets, CC BY 4.0.
# Changes from the originals: whitespace collapsed; intents relabelled to ours; rows filtered as above.
"""


def render_yaml(training: dict[str, list[str]]) -> str:
    out = [HEADER, 'version: "3.1"\n', "nlu:\n"]
    for intent in sorted(training):
        examples = sorted({clean_example(t) for t in training[intent]} - {""}, key=lambda t: (t.lower(), t))
        out.append(f"- intent: {intent}\n  examples: |\n")
        out.extend(f"    - {text}\n" for text in examples)
    return "".join(out)


def render_csv(held_out: list[tuple[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "intent"])
    writer.writerows(held_out)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=CSV_PATH, help="external data set (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only report whether the outputs are up to date")
    args = parser.parse_args(argv)

    if not args.csv.is_file():
        raise SystemExit(f"external data set not found: {args.csv}")
    rows = read_rows(args.csv)
    hand_written = hand_written_examples(NLU_DIR)
    held_out, training, stats, unused = split(rows, hand_written)
    yml, heldout_csv, unused_csv = render_yaml(training), render_csv(held_out), render_csv(unused)

    if args.check:
        stale = [p for p, body in ((OUT_YML, yml), (OUT_HELDOUT, heldout_csv), (OUT_TUNE_UNUSED, unused_csv))
                 if not p.is_file() or p.read_text(encoding="utf-8") != body]
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}")
        return 1 if stale else 0

    OUT_YML.parent.mkdir(parents=True, exist_ok=True)
    OUT_HELDOUT.parent.mkdir(parents=True, exist_ok=True)
    OUT_YML.write_text(yml, encoding="utf-8")
    OUT_HELDOUT.write_text(heldout_csv, encoding="utf-8")
    OUT_TUNE_UNUSED.write_text(unused_csv, encoding="utf-8")

    print(f"read {len(rows)} rows from {args.csv}; {len(hand_written)} hand-written examples")
    for reason, count in sorted(stats.items()):
        print(f"  {reason}: {count}")
    print(f"training -> {OUT_YML.relative_to(ROOT)}")
    for intent in sorted(training):
        print(f"  {intent}: {len(training[intent])}")
    print(f"held out -> {OUT_HELDOUT.relative_to(ROOT)}: {len(held_out)} rows")
    for intent, count in sorted(Counter(i for _, i in held_out).items()):
        print(f"  {intent}: {count}")
    print(f"tune side left out of training -> {OUT_TUNE_UNUSED.relative_to(ROOT)}: {len(unused)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Out-of-scope generalisation on the tuning side of the external data (issue 22 item 4).

    .venv-app/bin/python bench/nlu_oos_leaveout.py [--retrain] [--fallback-thresholds 0.5,0.55,0.6]

The external data (../shared/data/external_intents_dev.csv) is split once, by text hash
(scripts/build_external_nlu.py):

* **never tune**: rows with int(sha1(text.strip().lower()), 16) % 5 == 0, i.e. bench/data/external_heldout.csv.
  Never trained on, never read to choose data or settings; bench/run.py --nlu scores it.
* **tune**: every other row. They are training data (data/nlu/external.yml), so a model trained on them says
  nothing about them, and the never-tune part holds only about 40 out-of-scope rows, too few to tell 95% from 100%.

This script measures what the tune side can still tell: it trains an NLU-only model on data/nlu/ with the CLINC150
out-of-scope rows taken out of external.yml (everything else, the hand-written out-of-scope examples included,
stays), and scores the tune side's out-of-scope rows (about 155) on it. That is how a model reads out-of-scope
questions written by strangers, which the private hold-out's 1,000 CLINC150 test rows ask about. It is a tuning
figure: settings (config.yml's fallback threshold) and new out-of-scope examples were chosen with it.

The model is cached in models/leaveout/ by a hash of config.yml and data/nlu/ (--retrain trains again); the
scores go to bench/out/nlu-oos-leaveout-<time>.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `bench` importable

from bench.common import OUT_DIR, PROJECT_ROOT, timestamp  # noqa: E402

MODEL_DIR = PROJECT_ROOT / "models" / "leaveout"
OUT_OF_SCOPE = "out_of_scope"


def _build_module():  # scripts/ is not a package; its split is the one to follow
    spec = importlib.util.spec_from_file_location("build_external_nlu",
                                                  PROJECT_ROOT / "scripts" / "build_external_nlu.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def without_intent(yml: str, intent: str) -> str:
    """external.yml without one intent's block (the generated layout: `- intent: NAME` then indented lines)."""
    kept, skipping = [], False
    for line in yml.splitlines(keepends=True):
        if line.startswith("- intent: "):
            skipping = line.strip() == f"- intent: {intent}"
        elif line and not line[0].isspace():
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def fingerprint() -> str:
    digest = hashlib.sha256((PROJECT_ROOT / "config.yml").read_bytes())
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def tune_side_out_of_scope(build) -> list[str]:
    rows = build.read_rows(build.CSV_PATH)
    return [row["text"] for row in rows if row["intent"] == OUT_OF_SCOPE and not build.is_held_out(row["text"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--retrain", action="store_true", help="train even if a model for these inputs exists")
    parser.add_argument("--fallback-thresholds", help="passed to nlu_score.py, e.g. 0.5,0.55,0.6")
    args = parser.parse_args(argv)

    from bot.training import rasa_environment, rasa_executable

    build = _build_module()
    texts = tune_side_out_of_scope(build)
    env = {**os.environ, **rasa_environment()}
    model = MODEL_DIR / f"oos-leaveout-{fingerprint()}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        nlu_dir = Path(tmp) / "nlu"
        nlu_dir.mkdir()
        for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
            text = path.read_text(encoding="utf-8")
            (nlu_dir / path.name).write_text(without_intent(text, OUT_OF_SCOPE) if path == build.OUT_YML else text)
        if args.retrain or not model.exists():
            start = time.monotonic()
            subprocess.run([str(rasa_executable()), "train", "nlu", "--config", "config.yml", "--nlu", str(nlu_dir),
                            "--out", str(MODEL_DIR), "--fixed-model-name", model.name.removesuffix(".tar.gz")],
                           cwd=PROJECT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            print(f"trained {model.name} in {time.monotonic() - start:.0f} s (load average "
                  f"{os.getloadavg()[0]:.1f})")
        rows_csv = Path(tmp) / "external_tune_out_of_scope.csv"
        with rows_csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "intent"])
            writer.writerows((text, OUT_OF_SCOPE) for text in texts)
        print(f"{len(texts)} out-of-scope rows of the external data's tune side, scored on a model that never saw "
              f"them nor any other CLINC150 out-of-scope row")
        rasa_python = rasa_executable().parent / "python"
        argv = [str(rasa_python), str(PROJECT_ROOT / "bench" / "nlu_score.py"), "--model", str(model),
                "--csv", str(rows_csv), "--json", str(OUT_DIR / f"nlu-oos-leaveout-{timestamp()}.json")]
        if args.fallback_thresholds:
            argv += ["--fallback-thresholds", args.fallback_thresholds]
        return subprocess.run(argv, cwd=PROJECT_ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())

"""Trains and scores alternative NLU pipelines on the same data, side by side (bench/run.py --nlu --compare).

For each config file: train a full model with `rasa train` (timed: the training wall time on this machine),
score it with bench/nlu_score.py on the held-out CSVs, start `rasa run` with it on loopback to read the
server's resident memory, then print one table and pick the winner by accuracy per millisecond among the
pipelines that meet the targets (bench/README.md, "Comparing pipelines").

Models go to models/compare/<config name>-<hash>.tar.gz, the hash covering the config, domain, data and the
rasa_extensions/ modules the config names (a custom component's code shapes the model too); a model whose
inputs have not changed is reused with the training time recorded when it was made, unless --retrain.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import LOOPBACK, PROJECT_ROOT, fmt, free_ports, table

MODEL_DIR = PROJECT_ROOT / "models" / "compare"
TARGET_MACRO_F1 = 0.95  # issue 9: in-scope macro-F1 on every held-out set
TARGET_OOS_RECALL = 0.80  # issue 9: out_of_scope recall on every held-out set
MODEL_INPUTS = ("domain", "data")
Progress = Callable[[str], None]
MEMORY_PROBES = ("hi", "what do I owe?", "stop texting me", "i lost my job", "SET-100001", "thanks bye") * 5


@dataclass
class PipelineResult:
    config: str
    model: str
    model_mib: float
    train_seconds: float
    train_load_average: float | None  # 1-minute load average when training started: others' work shows here
    server_rss_mib: float | None  # VmRSS of `rasa run` after loading the model and answering parses
    server_peak_rss_mib: float | None  # VmHWM: the most it held, model loading included
    datasets: list[dict]  # nlu_score.py's DatasetScore dicts, one per CSV
    accuracy: float  # mean over the CSVs of all-rows accuracy
    ms_per_parse: float  # mean over all rows of all CSVs
    accuracy_per_ms: float
    meets_targets: bool


def _fingerprint(config: Path) -> str:
    text = config.read_text()
    digest = hashlib.sha256(text.encode())
    files = [p for name in MODEL_INPUTS for p in sorted((PROJECT_ROOT / name).rglob("*.y*ml"))]
    # A custom component's code shapes the model too, but only the modules the config names.
    modules = sorted(set(re.findall(r"rasa_extensions\.(\w+)\.", text)))
    files += [PROJECT_ROOT / "rasa_extensions" / f"{module}.py" for module in modules]
    for file in files:
        digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def _model_for(config: Path) -> Path:
    stem = config.stem if config.parent == PROJECT_ROOT else f"{config.parent.name}-{config.stem}"
    return MODEL_DIR / f"{stem}-{_fingerprint(config)}.tar.gz"


def train(config: Path, rasa: Path, env: dict[str, str], retrain: bool, progress: Progress) -> tuple[Path, dict]:
    """The model for this config, trained now unless an identical one exists; with its training record."""
    model = _model_for(config)
    record_path = model.with_name(model.name.removesuffix(".tar.gz") + ".train.json")
    if model.exists() and record_path.exists() and not retrain:
        progress(f"compare: reusing {model.name} (trained in {json.loads(record_path.read_text())['seconds']:.0f}s)")
        return model, json.loads(record_path.read_text())
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    progress(f"compare: training {config.name} -> {model.name} (load average {load_before:.2f})")
    started = time.perf_counter()
    subprocess.run(
        [str(rasa), "train", "--config", str(config), "--domain", "domain", "--data", "data",
         "--out", str(MODEL_DIR), "--fixed-model-name", model.name.removesuffix(".tar.gz"), "--force"],
        cwd=PROJECT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    record = {"seconds": time.perf_counter() - started, "load_average_at_start": load_before,
              "cpus": os.cpu_count(), "command": "rasa train (NLU pipeline + RulePolicy + MemoizationPolicy)"}
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return model, record


def _proc_status_mib(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None


def server_memory(
    model: Path, rasa: Path, env: dict[str, str], log: Path, progress: Progress,
) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) in MiB of `rasa run` serving this model, after it has answered a few parses."""
    port = free_ports(1)[0]
    log.parent.mkdir(parents=True, exist_ok=True)
    # No action server and an in-memory tracker store: /model/parse needs neither, and endpoints.yml asks
    # for both through environment variables that only bot.stack sets.
    endpoints = log.with_suffix(".endpoints.yml")
    endpoints.write_text("lock_store:\n  type: in_memory\n")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(rasa), "run", "--enable-api", "-m", str(model), "-i", LOOPBACK, "-p", str(port),
             "--endpoints", str(endpoints)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                progress(f"compare: rasa run exited early; see {log}")
                return None
            try:
                with urllib.request.urlopen(f"{base}/status", timeout=5) as answer:
                    if answer.status == 200 and json.load(answer).get("model_file"):
                        break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(1)
        else:
            progress(f"compare: rasa run was not ready after 300s; see {log}")
            return None
        for text in MEMORY_PROBES:
            request = urllib.request.Request(f"{base}/model/parse", data=json.dumps({"text": text}).encode(),
                                             headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as answer:
                answer.read()
        rss, peak = _proc_status_mib(proc.pid, "VmRSS"), _proc_status_mib(proc.pid, "VmHWM")
        return (rss, peak) if rss is not None and peak is not None else None
    finally:
        # Only the server we started, by its own process group (it was started in a new session).
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def score(model: Path, rasa_python: Path, env: dict[str, str], csvs: list[Path], out: Path) -> list[dict]:
    argv = [str(rasa_python), str(PROJECT_ROOT / "bench" / "nlu_score.py"), "--model", str(model), "--json", str(out)]
    for csv in csvs:
        argv += ["--csv", str(csv)]
    subprocess.run(argv, cwd=PROJECT_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())["datasets"]


def summarise(config: Path, model: Path, record: dict, memory: tuple[float, float] | None,
              datasets: list[dict]) -> PipelineResult:
    accuracy = sum(d["accuracy"] for d in datasets) / len(datasets)
    rows = sum(d["rows"] for d in datasets)
    ms = sum(d["ms_per_parse_mean"] * d["rows"] for d in datasets) / rows
    meets = all(
        (d["macro_f1_in_scope"] or 0) >= TARGET_MACRO_F1 and (d["out_of_scope_recall"] or 0) >= TARGET_OOS_RECALL
        for d in datasets
    )
    return PipelineResult(
        config=str(config.relative_to(PROJECT_ROOT)) if config.is_relative_to(PROJECT_ROOT) else str(config),
        model=model.name, model_mib=model.stat().st_size / 2**20, train_seconds=record["seconds"],
        train_load_average=record.get("load_average_at_start"),
        server_rss_mib=memory[0] if memory else None, server_peak_rss_mib=memory[1] if memory else None,
        datasets=datasets, accuracy=accuracy, ms_per_parse=ms, accuracy_per_ms=accuracy / ms, meets_targets=meets,
    )


def report(results: list[PipelineResult]) -> str:
    rows = []
    for r in results:
        for d in r.datasets:
            rows.append([r.config, Path(d["csv"]).name, fmt(d["macro_f1_in_scope"], 3),
                         fmt(100 * (d["out_of_scope_recall"] or 0), 1) + "%", fmt(100 * d["accuracy"], 1) + "%",
                         fmt(d["ms_per_parse_mean"], 2), fmt(d["ms_per_parse_p95"], 2)])
    per_set = table(["pipeline", "held-out set", "macro-F1", "OOS recall", "accuracy", "ms mean", "ms p95"], rows,
                    title="NLU pipelines on the held-out sets (nlu_fallback counted as out_of_scope)")
    overall = table(
        ["pipeline", "accuracy", "ms/parse", "accuracy per ms", "targets met", "train s", "model MiB",
         "server RSS MiB", "server peak MiB"],
        [[r.config, fmt(100 * r.accuracy, 1) + "%", fmt(r.ms_per_parse, 2), fmt(r.accuracy_per_ms, 3),
          "yes" if r.meets_targets else "no", fmt(r.train_seconds, 0), fmt(r.model_mib, 1),
          fmt(r.server_rss_mib, 0), fmt(r.server_peak_rss_mib, 0)] for r in results],
        title="Per pipeline (accuracy: mean of the sets' accuracies; ms/parse: mean over all their rows)",
    )
    eligible = [r for r in results if r.meets_targets]
    if eligible:
        best = max(eligible, key=lambda r: r.accuracy_per_ms)
        verdict = f"Winner on accuracy per ms, among pipelines meeting the targets: {best.config}"
    else:
        verdict = "No pipeline meets the targets (macro-F1 >= 0.95 and OOS recall >= 0.80 on every set)"
    return "\n\n".join([per_set, overall, verdict])


def compare(configs: list[Path], csvs: list[Path], rasa_python: Path, retrain: bool, out: Path,
            progress: Progress) -> int:
    from bot.training import rasa_environment

    env = {**os.environ, **rasa_environment()}
    rasa = rasa_python.parent / "rasa"
    results = []
    for config in configs:
        config = config if config.is_absolute() else (PROJECT_ROOT / config)
        if not config.exists():
            raise SystemExit(f"bench: no such config: {config}")
        model, record = train(config, rasa, env, retrain, progress)
        progress(f"compare: scoring {model.name}")
        scores_json = out.with_name(f"{out.stem}-{model.name.removesuffix('.tar.gz')}.json")
        datasets = score(model, rasa_python, env, csvs, scores_json)
        progress(f"compare: measuring `rasa run` memory with {model.name}")
        log = out.parent / "logs" / out.stem / f"{model.name.removesuffix('.tar.gz')}.log"
        memory = server_memory(model, rasa, env, log, progress)
        results.append(summarise(config, model, record, memory, datasets))
    print(report(results))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"kind": "nlu-compare", "cpus": os.cpu_count(),
                               "targets": {"macro_f1_in_scope": TARGET_MACRO_F1,
                                           "out_of_scope_recall": TARGET_OOS_RECALL},
                               "pipelines": [asdict(r) for r in results]}, indent=2) + "\n")
    print(f"\nComparison written to {out}")
    return 0

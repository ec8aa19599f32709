"""Settle's benchmark. From the project root, with the app environment:

    .venv-app/bin/python bench/run.py                  # NLU scores, then load (Settle vs bare Rasa)
    .venv-app/bin/python bench/run.py --nlu            # NLU scores only
    .venv-app/bin/python bench/run.py --load --concurrency 1,3 --conversations 2

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

# Run as a script, so only bench/ is on sys.path; the project root makes `bench` and `bot` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    OUT_DIR,
    PROJECT_ROOT,
    fmt,
    table,
    timestamp,
    use_rasa_environment,
)

if TYPE_CHECKING:
    from bench.load import TargetResult
    from bench.scripts import Script

TARGETS = ("embedded", "production", "baseline")
TARGET_N = 20  # the targets are set at 20 concurrent conversations
TARGET_RATIO = 3.0  # full-stack turns/s at least 3x the bare Rasa server's
TARGET_P95_MS = 1000.0
TARGET_RASA_RSS_MIB = 1.2 * 1024  # "the Rasa server under 1.2 GB resident"


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def settle_model(train: bool) -> Path:
    from bot.training import ensure_model, model_path

    model = model_path()
    if model.exists():
        return model
    if not train:
        raise SystemExit(f"bench: no trained model at {model} (--no-train given); run `python -m bot train`")
    return ensure_model()


def run_nlu(rasa_python: Path, csvs: list[Path], train: bool, out: Path) -> int:
    from bot.training import rasa_environment

    model = settle_model(train)
    argv = [str(rasa_python), str(PROJECT_ROOT / "bench" / "nlu_score.py"), "--model", str(model),
            "--json", str(out)]
    for csv in csvs:
        argv += ["--csv", str(csv)]
    progress(f"NLU: scoring {model.name} with {rasa_python}")
    # The scorer prints its own tables; its output goes straight to ours.
    return subprocess.run(argv, cwd=PROJECT_ROOT, env={**os.environ, **rasa_environment()}).returncode


def rasa_version(rasa_python: Path) -> str:
    # Package metadata, not `import rasa`: that takes seconds and the answer only names a directory.
    return subprocess.run(
        [str(rasa_python), "-c", "from importlib.metadata import version; print(version('rasa'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def load_tables(results: list[TargetResult]) -> str:
    parts = []
    for result in results:
        rows = [
            [level.concurrency, level.conversations, level.turns, fmt(level.seconds),
             fmt(level.turns_per_s, 2), fmt(level.latency(50), 0), fmt(level.latency(95), 0),
             fmt(level.latency(99), 0), level.errors]
            for level in result.levels
        ]
        parts.append(table(
            ["N", "convs", "turns", "seconds", "turns/s", "p50 ms", "p95 ms", "p99 ms", "errors"], rows,
            title=f"Load: {result.name}, script {result.script.summary} (ready after {result.startup_s:.0f}s)",
        ))
        for level in result.levels:
            if level.errors:
                parts.append(f"  N={level.concurrency}: {level.turn_errors} failed turns, "
                             f"{level.failed_checks} conversations missing an expected reply; e.g.")
                parts.extend(f"    {sample}" for sample in level.error_samples)
        roles = list(dict.fromkeys(role for level in result.levels for role in level.cpu_ms_per_turn))
        if roles:
            parts.append("")
            parts.append(table(
                ["N", *roles, "all"],
                [[level.concurrency, *(fmt(level.cpu_ms_per_turn.get(role), 1) for role in roles),
                  fmt(sum(level.cpu_ms_per_turn.values()), 1)] for level in result.levels],
                title=f"CPU ms per turn: {result.name} (user + system, each process with its workers)",
            ))
        parts.append("")
        parts.append(table(
            ["process", "pid", "peak RSS MiB", "RSS now MiB"],
            [[m.role, m.pid, fmt(m.peak_rss_mib, 0), fmt(m.rss_mib, 0)] for m in result.memory]
            + [["total", "", fmt(sum(m.peak_rss_mib or 0 for m in result.memory), 0),
                fmt(sum(m.rss_mib or 0 for m in result.memory), 0)]],
            title=f"Memory: {result.name} (peak = VmHWM over the process's life, model loading included)",
        ))
        parts.append("")
    return "\n".join(parts)


def comparison_table(results: dict[str, TargetResult]) -> str:
    """Each Settle topology against the bare Rasa server, level by level."""
    baseline = results.get("baseline")
    if baseline is None:
        return ""
    base_by_n = {level.concurrency: level for level in baseline.levels}
    rows = []
    for name in ("embedded", "production"):
        if name not in results:
            continue
        for level in results[name].levels:
            base = base_by_n.get(level.concurrency)
            if base is None:
                continue
            rows.append([
                name, level.concurrency, fmt(level.turns_per_s, 2), fmt(base.turns_per_s, 2),
                f"{level.turns_per_s / base.turns_per_s:.2f}x" if base.turns_per_s else "-",
                fmt(level.latency(50), 0), fmt(level.latency(95), 0), fmt(level.latency(99), 0),
                fmt(base.latency(95), 0), level.errors, base.errors,
            ])
    peaks = {name: sum(m.peak_rss_mib or 0 for m in r.memory) for name, r in results.items()}
    return "\n".join([
        table(["Settle", "N", "turns/s", "bare Rasa turns/s", "ratio", "p50 ms", "p95 ms", "p99 ms",
               "bare p95 ms", "errors", "bare errors"], rows,
              title="Settle full stack vs bare Rasa (rasa init's moodbot), same run"),
        "Peak resident memory, all processes: " + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in peaks.items()),
    ])


def verdicts(results: dict[str, TargetResult]) -> str:
    """The issue's targets at N=20, each met or not, with the measured figure."""
    baseline = results.get("baseline")
    base = next((lv for lv in baseline.levels if lv.concurrency == TARGET_N), None) if baseline else None
    lines = [f"Targets at N={TARGET_N} (issue 9):"]
    for name in ("embedded", "production"):
        result = results.get(name)
        level = next((lv for lv in result.levels if lv.concurrency == TARGET_N), None) if result else None
        if level is None:
            continue
        checks = []
        if base is not None and base.turns_per_s:
            ratio = level.turns_per_s / base.turns_per_s
            checks.append((f"throughput {ratio:.2f}x bare Rasa (>= {TARGET_RATIO:.0f}x)", ratio >= TARGET_RATIO))
        p95 = level.latency(95)
        checks.append((f"p95 {p95:.0f} ms (< {TARGET_P95_MS:.0f})", p95 < TARGET_P95_MS))
        checks.append((f"{level.errors} errors (none)", level.errors == 0))
        rasa = [m for m in result.memory if m.role.startswith("rasa") and "child" not in m.role]
        worst = max((m.peak_rss_mib or 0 for m in rasa), default=0)
        checks.append((f"Rasa server peak {worst:.0f} MiB (< {TARGET_RASA_RSS_MIB:.0f})", worst < TARGET_RASA_RSS_MIB))
        for text, met in checks:
            lines.append(f"  {name:10s} {'met ' if met else 'MISSED'}  {text}")
    return "\n".join(lines)


def parse_levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,20, got {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("concurrency levels must be 1 or more")
    return levels


def run_load(args: argparse.Namespace, rasa_python: Path, stamp: str) -> int:
    from bench.load import TargetError, default_conversations, run_baseline, run_embedded, run_production
    from bench.scripts import MOODBOT_SCRIPT, SETTLE_SCRIPT
    from bot.records.listeners import register_flush_listeners
    from bot.stack import StackError
    from bot.training import rasa_executable

    register_flush_listeners()  # the Settle targets write their portfolio from this process (REC-1 hooks)

    def plan(script: Script) -> list[tuple[int, int]]:
        return [(n, args.conversations or default_conversations(n, script)) for n in args.concurrency]

    log_dir = OUT_DIR / "logs" / stamp
    results: dict[str, TargetResult] = {}
    failed_targets = []
    started = time.perf_counter()
    if {"embedded", "production"} & set(args.targets):
        settle_model(not args.no_train)  # trains first if needed (and allowed), outside the timed part
    runs = {
        "embedded": lambda: run_embedded(plan(SETTLE_SCRIPT), log_dir, stamp, progress, args.keep_databases),
        "production": lambda: run_production(plan(SETTLE_SCRIPT), log_dir, stamp, progress, args.keep_databases),
        "baseline": lambda: run_baseline(rasa_executable(), rasa_version(rasa_python), plan(MOODBOT_SCRIPT),
                                         log_dir, stamp, progress),
    }
    for name in TARGETS:
        if name not in args.targets:
            continue
        try:
            results[name] = runs[name]()
        except (StackError, TargetError, subprocess.CalledProcessError, OSError) as exc:
            # One target failing to start should not cost the others' figures; the status still says so.
            progress(f"{name}: could not run: {exc}")
            failed_targets.append(name)
    progress(f"load: done in {time.perf_counter() - started:.0f}s")

    print()
    print(load_tables(list(results.values())))
    if "baseline" in results and len(results) > 1:
        print(comparison_table(results))
        print()
    print(verdicts(results))

    out = OUT_DIR / f"load-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"kind": "load", "time": stamp,
                               "targets": {k: r.summary() for k, r in results.items()}}, indent=2) + "\n")
    print(f"\nLoad results written to {out}")
    failed = failed_targets or any(level.errors for r in results.values() for level in r.levels)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Settle's benchmark: NLU scores and load. "
                                                 "With neither --nlu nor --load, runs both.")
    parser.add_argument("--nlu", action="store_true", help="score intent classification on held-out CSVs")
    parser.add_argument("--load", action="store_true",
                        help="drive scripted conversations at fixed concurrency")
    parser.add_argument("--csv", type=Path, action="append", dest="csvs", default=[],
                        help="held-out CSV for --nlu (repeatable; default "
                             "bench/data/external_heldout.csv and own_heldout_v2.csv)")
    parser.add_argument("--concurrency", type=parse_levels, default=[1, 20, 100],
                        help="comma-separated concurrency levels for --load (default 1,20,100)")
    parser.add_argument("--conversations", type=int, default=None,
                        help="conversations per level (default: 100+ turns, 3 conversations per concurrent "
                             "sender)")
    parser.add_argument("--targets", type=lambda t: [x for x in t.split(",") if x], default=list(TARGETS),
                        help="which load targets: embedded,production,baseline (default all three)")
    parser.add_argument("--compare", type=Path, nargs="+", metavar="CONFIG",
                        help="with --nlu: train each of these pipeline configs on the same data (config.yml "
                             "is one) and compare them on the held-out sets (bench/README.md)")
    parser.add_argument("--retrain", action="store_true",
                        help="with --compare: train again even if a model for these inputs exists")
    parser.add_argument("--keep-databases", action="store_true",
                        help="keep the Settle targets' databases after a load run, to read what a failed turn left "
                             "(embedded: copied beside its logs; production: the PostgreSQL names are printed)")
    parser.add_argument("--no-train", action="store_true",
                        help="stop if the Settle model is not trained, instead of training it")
    args = parser.parse_args(argv)
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}; choose from {', '.join(TARGETS)}")
    if args.conversations is not None and args.conversations < 1:
        parser.error("--conversations must be 1 or more")
    both = not args.nlu and not args.load

    rasa_python = use_rasa_environment()
    stamp = timestamp()
    status = 0
    if args.compare:
        if not args.nlu or args.load:
            parser.error("--compare goes with --nlu only")
        from bench.nlu_compare import compare
        from bench.nlu_score import DEFAULT_CSVS

        return compare(args.compare, args.csvs or list(DEFAULT_CSVS), rasa_python, args.retrain,
                       OUT_DIR / f"nlu-compare-{stamp}.json", progress)
    if args.nlu or both:
        status |= run_nlu(rasa_python, args.csvs, not args.no_train, OUT_DIR / f"nlu-{stamp}.json")
        print()
    if args.load or both:
        status |= run_load(args, rasa_python, stamp)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""The trained Rasa model: named by a hash of everything that shapes it, so it is retrained only when the
configuration, domain or training data change, and every test in a run shares the one model."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT

MODEL_INPUTS = ("config.yml", "domain", "data")


def rasa_executable() -> Path:
    return Path(os.environ.get("SETTLE_RASA_BIN", PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"))


def rasa_server_command() -> list[str]:
    """The Rasa server's command line up to the `rasa` subcommand: the `rasa` CLI of the Rasa environment with
    Settle's speedups applied first (rasa_extensions/speedups.py)."""
    return [str(rasa_executable().parent / "python"), "-m", "rasa_extensions"]


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix not in (".yml", ".yaml") or "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    return root / "models" / f"settle-{fingerprint(root)}.tar.gz"


def model_cache() -> Path:
    """Trained models shared by every clone on this machine, keyed like the environments (scripts/envs.sh)."""
    return Path(os.environ.get("SETTLE_CACHE", Path.home() / ".cache" / "settle")) / "models"


def ensure_model(root: Path = PROJECT_ROOT, quiet: bool = False) -> Path:
    """Train unless a model for exactly these inputs exists already, here or in the machine's model cache (a fresh
    clone with unchanged training data starts in seconds instead of retraining for minutes)."""
    target = model_path(root)
    cached = model_cache() / target.name
    if target.exists():
        _share(target, cached)
        return target
    if cached.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(cached, target)
        if not quiet:
            print(f"settle: using the trained model {target.name} from {cached.parent}", file=sys.stderr)
        return target
    if not quiet:
        print(f"settle: training the Rasa model ({target.name}); this takes a few minutes on 2 cores",
              file=sys.stderr)
    env = {**os.environ, **rasa_environment()}
    subprocess.run(
        [str(rasa_executable()), "train", "--config", "config.yml", "--domain", "domain", "--data", "data",
         "--out", str(target.parent), "--fixed-model-name", target.name.removesuffix(".tar.gz")],
        cwd=root, env=env, check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )
    _share(target, cached)
    return target


def _share(model: Path, cached: Path) -> None:
    if cached.exists():
        return
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        _copy(model, cached)
    except OSError:  # a read-only or full cache costs the next clone a training run, nothing more
        pass


def _copy(source: Path, target: Path) -> None:
    """Copy through a temporary name, so a reader never sees half a model."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def rasa_environment() -> dict[str, str]:
    """Environment for any Rasa process: no telemetry calls out, quiet TensorFlow."""
    return {
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
    }


def rasa_server_environment() -> dict[str, str]:
    """For a serving Rasa: TensorFlow on one thread. A parse is a fraction of a millisecond of arithmetic, less than
    handing it to a thread pool costs, and the other processes need the other core."""
    return {**rasa_environment(), "TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1",
            "OMP_NUM_THREADS": "1"}

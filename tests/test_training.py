"""The trained model is shared between clones through the machine's cache (issue 21: a fresh clone whose training
inputs are unchanged starts without retraining)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import training


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "clone"
    (root / "data").mkdir(parents=True)
    (root / "domain").mkdir()
    (root / "config.yml").write_text("language: en\n")
    (root / "data" / "nlu.yml").write_text("nlu: []\n")
    (root / "domain" / "core.yml").write_text("intents: [greet]\n")
    monkeypatch.setenv("SETTLE_CACHE", str(tmp_path / "cache"))
    # Any attempt to train fails loudly: these tests pass only when no training runs.
    monkeypatch.setenv("SETTLE_RASA_BIN", str(tmp_path / "no-rasa-here" / "rasa"))
    return root


def test_a_fresh_clone_takes_the_model_for_the_same_inputs_from_the_cache(clone: Path) -> None:
    cached = training.model_cache() / training.model_path(clone).name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"a trained model")
    model = training.ensure_model(clone, quiet=True)
    assert model == training.model_path(clone) and model.read_bytes() == b"a trained model"


def test_a_model_trained_here_is_put_in_the_cache_for_the_next_clone(clone: Path) -> None:
    model = training.model_path(clone)
    model.parent.mkdir()
    model.write_bytes(b"trained in this clone")
    training.ensure_model(clone, quiet=True)
    assert (training.model_cache() / model.name).read_bytes() == b"trained in this clone"


def test_changed_training_data_is_not_served_the_old_model(clone: Path) -> None:
    cached = training.model_cache() / training.model_path(clone).name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"a model of the old data")
    (clone / "data" / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n")
    with pytest.raises(FileNotFoundError):  # it has to train (and here there is no rasa to train with)
        training.ensure_model(clone, quiet=True)

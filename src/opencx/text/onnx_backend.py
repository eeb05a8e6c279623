"""Bring your own model: a local ONNX folder (model.onnx, tokenizer.json, labels.json).

Needs the optional dependencies onnxruntime and tokenizers (`pip install opencx[onnx]`). Only an
existing local folder is accepted; nothing is ever downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from opencx.text.model import EMOTIONS, SENTIMENTS, ModelError

FILES = ("model.onnx", "tokenizer.json", "labels.json")
MAX_TOKENS = 256


class OnnxModel:
    """A transformer exported to ONNX whose outputs are sentiment and/or emotion logits."""

    def __init__(self, folder: Path, session: Any, tokenizer: Any, labels: list[str]) -> None:
        self.identifier = f"onnx:{folder.name}"
        self.session = session
        self.tokenizer = tokenizer
        self.labels = labels
        self.inputs = {entry.name for entry in session.get_inputs()}

    def score(self, texts: list[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Sentiment probabilities (n, 3) and emotion probabilities (n, 8), None where absent."""
        encodings = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        logits = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        logits = np.asarray(logits, dtype=np.float32)
        sentiment = emotions = None
        if set(SENTIMENTS) <= set(self.labels):
            chosen = logits[:, [self.labels.index(label) for label in SENTIMENTS]]
            chosen = np.exp(chosen - chosen.max(axis=1, keepdims=True))
            sentiment = chosen / chosen.sum(axis=1, keepdims=True)
        if set(EMOTIONS) <= set(self.labels):
            chosen = logits[:, [self.labels.index(label) for label in EMOTIONS]]
            emotions = 1.0 / (1.0 + np.exp(-chosen))
        return sentiment, emotions


def load_onnx_model(folder: str | Path) -> OnnxModel:
    """Load a local ONNX model folder; ModelError if it is not an existing, complete folder."""
    if "://" in str(folder):
        raise ModelError(f"{folder} is not a local folder; OpenCX never downloads models")
    path = Path(folder)
    if not path.is_dir():
        raise ModelError(f"{path} is not an existing local folder")
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise ModelError(f"model folder {path} lacks {', '.join(missing)}")
    try:
        import onnxruntime
        from tokenizers import Tokenizer
    except ImportError as error:
        raise ModelError("the ONNX backend needs: pip install onnxruntime tokenizers") from error
    try:
        labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelError(f"{path / 'labels.json'} is not JSON: {error}") from error
    if not isinstance(labels, list) or not (
        set(SENTIMENTS) <= set(labels) or set(EMOTIONS) <= set(labels)
    ):
        raise ModelError(
            f"{path / 'labels.json'} must list the outputs, including all of "
            f"{', '.join(SENTIMENTS)} or all eight emotions"
        )
    try:
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        session = onnxruntime.InferenceSession(
            str(path / "model.onnx"), providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # both libraries raise their own exception types on bad files
        raise ModelError(f"model folder {path} is corrupt: {error}") from error
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding()
    return OnnxModel(path, session, tokenizer, labels)

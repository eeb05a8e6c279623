"""A language's sentiment and emotion model: safe files (JSON + npz) scored with numpy alone."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from opencx.text.features import count_features
from opencx.text.lexicon import count_lexicon_hits

EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")
SENTIMENTS = ("negative", "neutral", "positive")
MODELS_DIR = Path(__file__).parent / "models"
FILES = ("metadata.json", "vocabulary.json", "weights.npz")
ARRAYS = {
    "idf": 1,
    "sentiment_weights": 2,
    "sentiment_bias": 1,
    "emotion_weights": 2,
    "emotion_bias": 1,
}


class ModelError(Exception):
    """A model folder is missing, incomplete or corrupt."""


@dataclass(frozen=True)
class Scores:
    """Sentiment probabilities (negative, neutral, positive) and emotion probabilities per text."""

    sentiment: np.ndarray
    emotions: np.ndarray


def tfidf_entries(
    texts: list[str], vocabulary: dict[str, int], idf: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse L2-normalised sublinear TF-IDF of the texts as (row, column, value) arrays."""
    counted = count_features(texts, vocabulary)
    lengths = np.fromiter((len(c) for c in counted), dtype=np.int64, count=len(counted))
    rows = np.repeat(np.arange(len(counted)), lengths)
    columns = np.fromiter((i for c in counted for i in c), dtype=np.int64, count=int(lengths.sum()))
    tf = np.fromiter((n for c in counted for n in c.values()), dtype=np.float32)
    values = (1.0 + np.log(tf)) * idf[columns]
    norms = np.zeros(len(counted), dtype=np.float32)
    np.add.at(norms, rows, values * values)
    values /= np.sqrt(norms, where=norms > 0, out=np.ones_like(norms))[rows]
    return rows, columns, values


class LanguageModel:
    """TF-IDF features, a linear sentiment model and eight one-vs-rest emotion models."""

    def __init__(
        self, metadata: dict[str, Any], vocabulary: list[str], arrays: dict[str, np.ndarray]
    ):
        self.metadata = metadata
        self.identifier: str = metadata["identifier"]
        self.language: str = metadata["language"]
        self.vocabulary = {feature: index for index, feature in enumerate(vocabulary)}
        self.idf = arrays["idf"].astype(np.float32)
        self.sentiment_weights = arrays["sentiment_weights"].astype(np.float32)
        self.sentiment_bias = arrays["sentiment_bias"].astype(np.float32)
        self.emotion_weights = arrays["emotion_weights"].astype(np.float32)
        self.emotion_bias = arrays["emotion_bias"].astype(np.float32)
        self.lexicon_weight = float(metadata.get("lexicon_weight", 0.0))
        self.vader_weight = float(metadata.get("vader_weight", 0.0))

    def linear_scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Raw linear sentiment scores (n, 3) and emotion scores (n, 8) of the texts."""
        rows, columns, values = tfidf_entries(texts, self.vocabulary, self.idf)
        sentiment = np.tile(self.sentiment_bias, (len(texts), 1))
        emotions = np.tile(self.emotion_bias, (len(texts), 1))
        np.add.at(sentiment, rows, self.sentiment_weights[columns] * values[:, None])
        np.add.at(emotions, rows, self.emotion_weights[columns] * values[:, None])
        return sentiment, emotions

    def lexicon_scores(self, texts: list[str]) -> np.ndarray:
        """Seed-lexicon (and, for English, VADER) evidence per text as (n, 3) score offsets."""
        offsets = np.zeros((len(texts), 3), dtype=np.float32)
        if self.lexicon_weight:
            for row, text in enumerate(texts):
                hits = count_lexicon_hits(text, self.language)
                offsets[row, 0] += self.lexicon_weight * hits.negative
                offsets[row, 2] += self.lexicon_weight * hits.positive
        if self.vader_weight:
            analyzer = _vader()
            for row, text in enumerate(texts):
                compound = analyzer.polarity_scores(text)["compound"]
                offsets[row, 0] += self.vader_weight * max(-compound, 0.0)
                offsets[row, 2] += self.vader_weight * max(compound, 0.0)
        return offsets

    def score(self, texts: list[str]) -> Scores:
        """Sentiment and emotion probabilities of a batch of texts."""
        sentiment, emotions = self.linear_scores(texts)
        sentiment += self.lexicon_scores(texts)
        sentiment -= sentiment.max(axis=1, keepdims=True)
        exp = np.exp(sentiment)
        return Scores(
            sentiment=exp / exp.sum(axis=1, keepdims=True),
            emotions=1.0 / (1.0 + np.exp(-emotions)),
        )


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def file_digest(path: Path) -> str:
    """SHA-256 of a file, recorded in the metadata so that a corrupt copy is refused."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_model(folder: Path) -> LanguageModel:
    """Load a model folder (metadata.json, vocabulary.json, weights.npz); ModelError if broken."""
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise ModelError(f"model folder {folder} lacks {', '.join(missing)}")
    try:
        metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        digests = metadata["sha256"]
        for name in ("vocabulary.json", "weights.npz"):
            if file_digest(folder / name) != digests[name]:
                raise ModelError(f"{folder / name} does not match its SHA-256 in metadata.json")
        vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        with np.load(folder / "weights.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ARRAYS}
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise ModelError(f"model folder {folder} is corrupt: {error}") from error
    for name, dimensions in ARRAYS.items():
        if arrays[name].ndim != dimensions:
            raise ModelError(f"{folder}: array {name} has {arrays[name].ndim} dimensions")
    size = len(vocabulary)
    if (
        arrays["idf"].shape != (size,)
        or arrays["sentiment_weights"].shape != (size, 3)
        or (arrays["emotion_weights"].shape != (size, len(EMOTIONS)))
    ):
        raise ModelError(f"{folder}: array shapes do not match the vocabulary of {size}")
    return LanguageModel(metadata, vocabulary, arrays)


@lru_cache(maxsize=32)
def shipped_model(language: str) -> LanguageModel | None:
    """The default model shipped in the package for `language`, or None if there is none."""
    folder = MODELS_DIR / language
    return load_model(folder) if folder.is_dir() else None


def shipped_languages() -> tuple[str, ...]:
    """Languages with a default model in the package."""
    return tuple(sorted(p.name for p in MODELS_DIR.iterdir() if (p / "metadata.json").is_file()))

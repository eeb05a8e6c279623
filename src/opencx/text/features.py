"""Text features shared by training and scoring: word uni/bigrams and character n-grams."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

WORD = re.compile(r"\w+", re.UNICODE)
CHAR_NGRAM_SIZES = (3, 4, 5)


def extract_features(text: str) -> list[str]:
    """Return the feature strings of one text (with repeats, which count as term frequency)."""
    words = WORD.findall(text.lower())
    features = [f"w:{word}" for word in words]
    features.extend(f"b:{first} {second}" for first, second in itertools.pairwise(words))
    for word in words:
        padded = f" {word} "
        for size in CHAR_NGRAM_SIZES:
            # short words are already whole-word features; their padded form adds nothing new
            features.extend(f"c:{padded[i : i + size]}" for i in range(len(padded) - size + 1))
    return features


def count_features(texts: Iterable[str], vocabulary: dict[str, int]) -> list[dict[int, int]]:
    """Count the in-vocabulary features of each text."""
    counted: list[dict[int, int]] = []
    for text in texts:
        counts: dict[int, int] = {}
        for feature in extract_features(text):
            index = vocabulary.get(feature)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        counted.append(counts)
    return counted

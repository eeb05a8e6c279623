"""The one interface of opencx.text: analyze a batch of texts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from opencx.text.language import DEFAULT_LANGUAGES, UNKNOWN, DetectedLanguage, detect_language
from opencx.text.model import EMOTIONS, SENTIMENTS, shipped_model

# a text whose language is unknown or has no model is scored by this one and says so in `model`
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class TextAnalysis:
    """Language, sentiment (label and score in [-1, 1]) and Plutchik's eight emotions of a text."""

    language: str
    language_confidence: float
    sentiment: str
    sentiment_score: float
    emotions: dict[str, float]
    model: str


def analyze(
    texts: list[str], lang: str | None = None, languages: tuple[str, ...] = DEFAULT_LANGUAGES
) -> list[TextAnalysis]:
    """Analyze a batch of texts; `lang` skips detection, else it is detected among `languages`."""
    detected = [
        DetectedLanguage(lang, 1.0) if lang else detect_language(text, languages) for text in texts
    ]
    by_model: dict[str, list[int]] = defaultdict(list)
    for position, detection in enumerate(detected):
        language = detection.language
        has_model = language != UNKNOWN and shipped_model(language) is not None
        by_model[language if has_model else FALLBACK_LANGUAGE].append(position)
    results: list[TextAnalysis | None] = [None] * len(texts)
    for model_language, positions in by_model.items():
        model = shipped_model(model_language)
        if model is None:
            raise LookupError(f"no model for language {model_language!r}")
        scores = model.score([texts[p] for p in positions])
        for row, position in enumerate(positions):
            probabilities = scores.sentiment[row]
            results[position] = TextAnalysis(
                language=detected[position].language,
                language_confidence=round(detected[position].confidence, 4),
                sentiment=SENTIMENTS[int(probabilities.argmax())],
                sentiment_score=round(float(probabilities[2] - probabilities[0]), 4),
                emotions={
                    name: round(float(p), 4)
                    for name, p in zip(EMOTIONS, scores.emotions[row], strict=True)
                },
                model=model.identifier,
            )
    return [result for result in results if result is not None]

"""Language detection with py3langid, restricted to the configured languages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

DEFAULT_LANGUAGES = ("nl", "pl", "en", "de", "fr", "es", "it", "pt", "sv", "da", "fi", "cs")
UNKNOWN = "unknown"
# below these, langid's guess on a greeting or a one-word answer is noise, not evidence
MIN_LETTERS = 8
MIN_CONFIDENCE = 0.6
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(frozen=True)
class DetectedLanguage:
    """A language code (or "unknown") with the detector's confidence in [0, 1]."""

    language: str
    confidence: float


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def detect_language(text: str, languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> DetectedLanguage:
    """Detect the language of one text among `languages`; "unknown" when too short or unsure."""
    if len(LETTER.findall(text)) < MIN_LETTERS:
        return DetectedLanguage(UNKNOWN, 0.0)
    language, confidence = _identifier(tuple(languages)).classify(text)
    if confidence < MIN_CONFIDENCE:
        return DetectedLanguage(UNKNOWN, float(confidence))
    return DetectedLanguage(str(language), float(confidence))

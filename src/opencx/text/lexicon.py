"""Hand-written customer-service seed lexicon: polarity hits that XED's subtitles lack.

Entries are lower-case word prefixes (a prefix matches the inflected forms: "zepsu" matches
"zepsuty", "zepsuta", "zepsuło"), or phrases. A hit preceded by a negator within two words
counts for the opposite polarity ("not good", "niet tevreden", "nie polecam").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SEED_LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "great",
            "excellent",
            "perfect",
            "fast deliver",
            "quick deliver",
            "arrived quickly",
            "arrived on time",
            "on time",
            "helpful",
            "friendly",
            "recommend",
            "satisf",
            "happy",
            "love",
            "amazing",
            "fantastic",
            "thank",
            "well packed",
            "good",
            "smooth",
            "easy",
            "solved",
            "resolved",
            "polite",
            "best",
            "awesome",
            "pleased",
            "reliable",
        ),
        "negative": (
            "late",
            "delay",
            "broken",
            "damaged",
            "refund",
            "never arrived",
            "not arrived",
            "missing",
            "wrong",
            "rude",
            "unhelpful",
            "disappoint",
            "terrible",
            "awful",
            "horrible",
            "worst",
            "poor",
            "bad",
            "useless",
            "complain",
            "scam",
            "cancel",
            "still waiting",
            "no answer",
            "no response",
            "waste",
            "defect",
            "faulty",
            "overcharg",
            "unacceptable",
            "lost",
            "angry",
            "annoy",
            "frustrat",
            "problem",
        ),
    },
    "nl": {
        "positive": (
            "snel geleverd",
            "snelle lever",
            "op tijd",
            "goed",
            "prima",
            "perfect",
            "uitstekend",
            "top",
            "super",
            "vriendelijk",
            "behulpzaam",
            "aanrader",
            "aan te rade",
            "tevreden",
            "blij",
            "bedankt",
            "dank",
            "geweldig",
            "fijn",
            "netjes",
            "correct",
            "opgelost",
            "loste",
            "snel",
            "mooi",
            "handig",
            "makkelijk",
            "aanbevel",
            "fantastisch",
        ),
        "negative": (
            "te laat",
            "vertraag",
            "kapot",
            "beschadigd",
            "terugbetal",
            "geld terug",
            "nooit aangekomen",
            "niet aangekomen",
            "niet ontvangen",
            "ontbr",
            "verkeerd",
            "onbeleefd",
            "teleurgesteld",
            "teleurstel",
            "slecht",
            "waardeloos",
            "klacht",
            "oplichter",
            "annuleer",
            "wacht nog steeds",
            "geen antwoord",
            "geen reactie",
            "defect",
            "onacceptabel",
            "kwijt",
            "boos",
            "irritant",
            "probleem",
            "nooit meer",
            "belachelijk",
            "schandalig",
            "onbereikbaar",
            "lang wachten",
        ),
    },
    "pl": {
        "positive": (
            "szybk",
            "szybko",
            "na czas",
            "dobr",
            "dobrze",
            "świetn",
            "doskonał",
            "idealn",
            "polecam",
            "uprzejm",
            "miły",
            "miła",
            "mił",
            "pomocn",
            "zadowolon",
            "dziękuj",
            "dzięki",
            "super",
            "rewelac",
            "profesjonaln",
            "sprawn",
            "bez problemu",
            "najlepsz",
            "wspaniał",
            "rozwiąza",
            "załatwi",
            "bezproblemow",
            "zgodnie z opisem",
            "solidn",
        ),
        "negative": (
            "spóźni",
            "opóźni",
            "zepsu",
            "uszkodz",
            "zwrot",
            "nie dotarł",
            "nie dotarła",
            "nie przyszł",
            "brak",
            "brakuj",
            "zł",
            "niegrzeczn",
            "rozczarow",
            "okropn",
            "fataln",
            "najgorsz",
            "beznadziejn",
            "kiepsk",
            "reklamac",
            "oszust",
            "anulow",
            "nadal czekam",
            "wciąż czekam",
            "bez odpowiedzi",
            "brak odpowiedzi",
            "wadliw",
            "niedopuszczaln",
            "zgubi",
            "problem",
            "skandal",
            "nigdy więcej",
            "porażk",
            "tragedi",
        ),
    },
}
NEGATORS: dict[str, tuple[str, ...]] = {
    "en": ("not", "no", "never", "n't", "don't", "didn't", "isn't", "wasn't", "without"),
    "nl": ("niet", "geen", "nooit", "zonder"),
    "pl": ("nie", "nigdy", "bez", "ani"),
}
TOKEN = re.compile(r"[\w']+", re.UNICODE)
CLAUSE_END = re.compile(r"[,.;:!?]")


@dataclass(frozen=True)
class LexiconHits:
    """How many positive and negative seed-lexicon hits a text has, after negation."""

    positive: int
    negative: int


@lru_cache(maxsize=16)
def _patterns(language: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    entries = SEED_LEXICON.get(language)
    if entries is None:
        return None

    def compile_prefixes(prefixes: tuple[str, ...]) -> re.Pattern[str]:
        longest_first = sorted(prefixes, key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in longest_first) + r")")

    return compile_prefixes(entries["positive"]), compile_prefixes(entries["negative"])


def count_lexicon_hits(text: str, language: str) -> LexiconHits:
    """Count seed-lexicon hits in `text` for `language` (none for a language without a lexicon)."""
    patterns = _patterns(language)
    if patterns is None:
        return LexiconHits(0, 0)
    lowered = text.lower()
    negators = NEGATORS[language]
    found: list[tuple[int, int, bool]] = []
    for is_positive, pattern in ((False, patterns[1]), (True, patterns[0])):
        for match in pattern.finditer(lowered):
            # a negative phrase such as "not arrived" already holds its negation; skip its parts
            if not any(start <= match.start() < end for start, end, _ in found):
                found.append((match.start(), match.end(), is_positive))
    counts = {True: 0, False: 0}
    previous_end = 0
    for start, end, is_positive in sorted(found):
        # a negator reaches the next hit only, within its clause ("niet tevreden, geen antwoord")
        clause = CLAUSE_END.split(lowered[previous_end:start])[-1]
        negated = any(
            word in negators or word.endswith("n't") for word in TOKEN.findall(clause)[-2:]
        )
        counts[is_positive != negated] += 1
        previous_end = end
    return LexiconHits(positive=counts[True], negative=counts[False])

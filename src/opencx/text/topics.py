"""Key phrases and topics of short customer texts: discover a topic vocabulary, assign texts to it.

Phrases are lemmas (simplemma) of the words between stop words, one and two words long: "kwam
te laat" and "komt veel te laat" both give "laat"; "paczka nie dotarła" gives "paczka" and
"dotrzeć". Topic discovery weighs each text's phrases by TF-IDF (binary term frequency: a short
text says a thing once) and factorises the matrix with NMF (non-negative matrix factorisation,
seeded nndsvda start, so the same texts give the same topics). NMF rather than LDA or k-means:
on texts of ten to thirty words LDA's word counts are too sparse to estimate per-text mixtures,
and k-means gives each text one topic, while a comment often has two ("late, and the box was
crushed"). The number of topics, unless given, is found by trying more and more topics while
the texts separate better (mean cosine silhouette of each text's main topic) and stopping at
the first drop: two clear themes give two topics, not their sub-phrasings; on many varied
texts it grows to about one topic per TEXTS_PER_TOPIC texts, at most MAX_TOPICS. A topic is its phrase weights (the NMF
component, cut to its top phrases) and is named by its top phrases in their most frequent
written form.

Assigning needs no retraining: a new text's TF-IDF vector (the vocabulary's idf) is compared
by cosine with each topic's phrase weights; its topics are those above `MIN_WEIGHT` and at least
half as strong as its main one.
A vocabulary is saved as JSON, never pickle. `match_topics` pairs the topics of a relearning
with the previous ones by their phrases, so that a topic keeps its identity (and the name a
person gave it) while its phrases still match.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from opencx.text.model import ModelError
from opencx.text.stopwords import stop_words

SEED = 20261130
FORMAT = "opencx-topics-1"
# a text's topics: cosine to the topic's phrase weights of at least this, at most MAX_TOPICS_PER_TEXT
MIN_WEIGHT = 0.12
MAX_TOPICS_PER_TEXT = 3
# a further topic of a text needs at least this share of its main topic's weight (a product name
# shared with another topic is not a second subject)
SECOND_TOPIC_SHARE = 0.5
# a topic keeps this many of its strongest phrases (the rest weigh little and cost memory)
PHRASES_PER_TOPIC = 30
# a relearnt topic is the same topic when its phrase weights have at least this cosine
SAME_TOPIC = 0.4
MAX_TOPICS = 20
# the numbers of topics tried when none is given (denser where a step changes more)
CANDIDATE_TOPICS = (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 25, 30)
# about this many texts per topic at most when choosing the number of topics automatically
TEXTS_PER_TOPIC = 12
MIN_TOPIC_TEXTS = 3

_CLAUSE = re.compile(r"[.,;:!?()\[\]\"“”„/\n\r\t|+&]+|\s-\s")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*", re.UNICODE)
# simplemma's languages among OpenCX's defaults; others are used unlemmatised
_LEMMA_LANGUAGES = frozenset(
    ("nl", "pl", "en", "de", "fr", "es", "it", "pt", "sv", "da", "fi", "cs")
)


@lru_cache(maxsize=200_000)
def _lemma(word: str, language: str) -> str:
    if language not in _LEMMA_LANGUAGES:
        return word
    import simplemma  # loads a language's dictionary on first use (about a second)

    return str(simplemma.lemmatize(word, lang=language)).lower()


def _phrases_with_forms(text: str, language: str) -> list[tuple[str, str]]:
    """(phrase, written form) of one text: lemmas of content words and their adjacent pairs."""
    stops = stop_words(language)
    found: list[tuple[str, str]] = []
    for clause in _CLAUSE.split(text.lower()):
        run: list[tuple[str, str]] = []
        for word in [*_WORD.findall(clause), ""]:
            lemma = _lemma(word, language) if word else ""
            if not word or word in stops or lemma in stops or len(lemma) < 3:
                for i, (lem, form) in enumerate(run):
                    found.append((lem, form))
                    if i + 1 < len(run):
                        found.append((f"{lem} {run[i + 1][0]}", f"{form} {run[i + 1][1]}"))
                run = []
                continue
            run.append((lemma, word))
    return found


def extract_phrases(texts: Sequence[str], language: str) -> list[list[str]]:
    """The candidate phrases of each text, distinct, in order of appearance."""
    return [
        list(dict.fromkeys(p for p, _ in _phrases_with_forms(text, language))) for text in texts
    ]


def key_phrases(text: str, language: str, top: int = 5) -> list[str]:
    """A short text's key phrases as written: two-word phrases first, then words they miss."""
    pairs = dict(_phrases_with_forms(text, language))
    double = [form for phrase, form in pairs.items() if " " in phrase]
    covered = {word for form in double for word in form.split()}
    single = [form for phrase, form in pairs.items() if " " not in phrase and form not in covered]
    return (double + single)[:top]


@dataclass(frozen=True)
class Topic:
    """A topic: its phrase weights (unit length), its name from the top phrases, its texts."""

    key: str
    phrases: dict[str, float]
    label: str
    text_count: int = 0


@dataclass(frozen=True)
class TopicVocabulary:
    """The topics of one language's texts and the phrase statistics that assigning needs."""

    language: str
    idf: dict[str, float]
    default_idf: float  # of a phrase never seen: as if in one text
    display: dict[str, str]  # phrase -> its most frequent written form
    topics: tuple[Topic, ...]
    text_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def with_topics(self, topics: Sequence[Topic]) -> TopicVocabulary:
        """The same phrase statistics with other topics (renamed keys, merged, stored)."""
        return TopicVocabulary(
            self.language,
            self.idf,
            self.default_idf,
            self.display,
            tuple(topics),
            self.text_count,
            self.metadata,
        )


@dataclass(frozen=True)
class TopicWeight:
    key: str
    weight: float


def topic_label(phrases: Mapping[str, float], display: Mapping[str, str], top: int = 3) -> str:
    """A topic's name: its top phrases as written, skipping words a chosen phrase already says."""
    chosen: list[str] = []
    for phrase in sorted(phrases, key=lambda p: (-phrases[p], p)):
        form = display.get(phrase, phrase)
        words = set(form.split())
        if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
            continue
        chosen.append(form)
        if len(chosen) == top:
            break
    return " · ".join(chosen)


def _unit(weights: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {p: w / norm for p, w in weights.items()} if norm else {}


def _idf(text_count: int, document_frequency: int) -> float:
    return math.log((1 + text_count) / (1 + document_frequency)) + 1.0


def _vectors(
    phrase_lists: Sequence[Sequence[str]], idf: Mapping[str, float], default_idf: float
) -> list[dict[str, float]]:
    # unknown phrases count in the length: a long text that mentions a topic once weighs less
    vectors = []
    for phrases in phrase_lists:
        norm = math.sqrt(sum(idf.get(p, default_idf) ** 2 for p in phrases))
        vectors.append({p: idf[p] / norm for p in phrases if p in idf} if norm else {})
    return vectors


def assign_topics(
    texts: Sequence[str],
    vocabulary: TopicVocabulary,
    *,
    min_weight: float = MIN_WEIGHT,
    max_topics: int = MAX_TOPICS_PER_TEXT,
) -> list[list[TopicWeight]]:
    """Each text's topics (heaviest first) with their weight, the cosine to the topic's phrases."""
    return _assign(extract_phrases(texts, vocabulary.language), vocabulary, min_weight, max_topics)


def _assign(
    phrase_lists: Sequence[Sequence[str]],
    vocabulary: TopicVocabulary,
    min_weight: float,
    max_topics: int,
) -> list[list[TopicWeight]]:
    by_phrase: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for index, topic in enumerate(vocabulary.topics):
        for phrase, weight in topic.phrases.items():
            by_phrase[phrase].append((index, weight))
    assigned = []
    for vector in _vectors(phrase_lists, vocabulary.idf, vocabulary.default_idf):
        scores: dict[int, float] = defaultdict(float)
        for phrase, value in vector.items():
            for index, weight in by_phrase.get(phrase, ()):
                scores[index] += value * weight
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        floor = max(min_weight, ranked[0][1] * SECOND_TOPIC_SHARE) if ranked else min_weight
        assigned.append(
            [
                TopicWeight(vocabulary.topics[index].key, round(score, 4))
                for index, score in ranked[:max_topics]
                if score >= floor
            ]
        )
    return assigned


def discover_topics(
    texts: Sequence[str],
    language: str,
    *,
    n_topics: int | None = None,
    max_topics: int = MAX_TOPICS,
    seed: int = SEED,
) -> TopicVocabulary:
    """Learn the topics of one language's texts (no topics when there is too little to learn)."""
    from scipy.sparse import csr_matrix
    from sklearn.decomposition import NMF
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    forms: dict[str, Counter[str]] = defaultdict(Counter)
    phrase_lists = []
    for text in texts:
        pairs = _phrases_with_forms(text, language)
        for phrase, form in pairs:
            forms[phrase][form] += 1
        phrase_lists.append(list(dict.fromkeys(p for p, _ in pairs)))
    count = len(phrase_lists)
    frequency = Counter(p for phrases in phrase_lists for p in phrases)
    # a phrase in one text says nothing shared; one in more than half the texts says nothing apart
    kept = sorted(p for p, df in frequency.items() if df >= 2 and df <= max(2, count // 2))
    idf = {p: _idf(count, frequency[p]) for p in kept}
    default_idf = _idf(count, 1)
    display = {p: forms[p].most_common(1)[0][0] for p in kept}
    empty = TopicVocabulary(language, idf, default_idf, display, (), count, {"seed": seed})
    vectors = _vectors(phrase_lists, idf, default_idf)
    rows = [i for i, v in enumerate(vectors) if v]
    if len(kept) < 2 or len(rows) < 2 * MIN_TOPIC_TEXTS:
        return empty
    column = {p: j for j, p in enumerate(kept)}
    entries = [(r, column[p], w) for r, i in enumerate(rows) for p, w in vectors[i].items()]
    matrix = csr_matrix(
        ([e[2] for e in entries], ([e[0] for e in entries], [e[1] for e in entries])),
        shape=(len(rows), len(kept)),
    )
    most = min(max_topics, len(kept) - 1, max(2, len(rows) // TEXTS_PER_TOPIC))
    candidates = [n_topics] if n_topics else [k for k in CANDIDATE_TOPICS if k <= most]
    best: tuple[float, np.ndarray] | None = None
    for k in candidates:
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
        # small matrices: threads cost more than they give (and the server shares its cores)
        with threadpool_limits(1), warnings.catch_warnings():
            # an exact fit makes sklearn take the root of a rounding error below zero: harmless
            warnings.simplefilter("ignore", RuntimeWarning)
            weights = model.fit_transform(matrix)
        labels = weights.argmax(axis=1)
        if len(set(labels.tolist())) < 2:
            continue
        separation = float(
            silhouette_score(
                matrix, labels, metric="cosine", sample_size=min(len(rows), 2000), random_state=seed
            )
        )
        if best is not None and separation < best[0]:
            break  # the first peak: more topics start splitting themes, not separating them
        best = (separation, model.components_)
    if best is None:
        return empty
    topics = []
    for component in best[1]:
        order = np.argsort(-component, kind="stable")[:PHRASES_PER_TOPIC]
        strongest = float(component[order[0]])
        phrases = {
            kept[j]: float(component[j]) for j in order if component[j] >= 0.05 * strongest > 0
        }
        if phrases:
            topics.append(_unit(phrases))
    vocabulary = TopicVocabulary(
        language,
        idf,
        default_idf,
        display,
        tuple(Topic(str(i), p, topic_label(p, display)) for i, p in enumerate(topics)),
        count,
        {"seed": seed, "separation": round(best[0], 4), "candidates": candidates},
    )
    # a topic that is the main topic of too few texts is noise, not a theme
    counts = Counter(
        found[0].key
        for found in _assign(phrase_lists, vocabulary, MIN_WEIGHT, MAX_TOPICS_PER_TEXT)
        if found
    )
    kept_topics = [
        Topic(str(i), t.phrases, t.label, counts[t.key])
        for i, t in enumerate(t for t in vocabulary.topics if counts[t.key] >= MIN_TOPIC_TEXTS)
    ]
    return vocabulary.with_topics(kept_topics)


def topic_similarity(first: Mapping[str, float], second: Mapping[str, float]) -> float:
    """Cosine of two topics' phrase weights."""
    a, b = _unit(first), _unit(second)
    return sum(w * b.get(p, 0.0) for p, w in a.items())


def match_topics(
    previous: Sequence[Mapping[str, float]],
    current: Sequence[Mapping[str, float]],
    threshold: float = SAME_TOPIC,
) -> dict[int, int]:
    """Pair current topics with previous ones (index -> index), most similar pairs first."""
    pairs = sorted(
        (
            (topic_similarity(old, new), c, p)
            for c, new in enumerate(current)
            for p, old in enumerate(previous)
        ),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for similarity, c, p in pairs:
        if similarity < threshold:
            break
        if c not in matched and p not in taken:
            matched[c] = p
            taken.add(p)
    return matched


def topic_vocabulary_to_json(vocabulary: TopicVocabulary) -> str:
    """The vocabulary as JSON (the safe format it is saved in)."""
    return json.dumps(
        {
            "format": FORMAT,
            "language": vocabulary.language,
            "text_count": vocabulary.text_count,
            "default_idf": vocabulary.default_idf,
            "idf": vocabulary.idf,
            "display": vocabulary.display,
            "metadata": vocabulary.metadata,
            "topics": [
                {"key": t.key, "label": t.label, "text_count": t.text_count, "phrases": t.phrases}
                for t in vocabulary.topics
            ],
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def topic_vocabulary_from_json(
    content: str | bytes, source: str = "topic vocabulary"
) -> TopicVocabulary:
    """Read a vocabulary written by topic_vocabulary_to_json; ModelError names what is wrong."""
    try:
        data = json.loads(content)
        if data.get("format") != FORMAT:
            raise ModelError(f"{source}: format is {data.get('format')!r}, expected {FORMAT!r}")
        topics = tuple(
            Topic(
                str(t["key"]),
                {str(p): float(w) for p, w in t["phrases"].items()},
                str(t["label"]),
                int(t.get("text_count", 0)),
            )
            for t in data["topics"]
        )
        return TopicVocabulary(
            str(data["language"]),
            {str(p): float(w) for p, w in data["idf"].items()},
            float(data["default_idf"]),
            {str(p): str(f) for p, f in data["display"].items()},
            topics,
            int(data.get("text_count", 0)),
            dict(data.get("metadata", {})),
        )
    except ModelError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelError(f"{source}: not a topic vocabulary ({error})") from error

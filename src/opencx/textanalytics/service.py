"""Use cases: learn an organization's sentiment model from rated comments and its topics from its
texts; analyse every text; explore, rename and merge topics.

Enrichment is pull-based: a round lists the organization's texts (inbound message bodies and
free-text survey answers, through their domains' services), compares them with the stored
analyses by SHA-256, and analyses what is new, changed, marked stale or due for a retry. Nothing
on the path that accepts a message or an answer waits for it, and a failure is stored on the
analysis row, never on the text.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from opencx.conversations import service as conversations
from opencx.customers.timeline import TimelineEntry
from opencx.db import utcnow
from opencx.errors import InvalidInput, NotFound
from opencx.surveys import service as surveys
from opencx.surveys.models import SurveyKind
from opencx.text import EMOTIONS, SENTIMENTS, UNKNOWN, ModelError, TextAnalysis, analyze
from opencx.text.evaluation import LabelledText
from opencx.text.learning import (
    MARGIN,
    MIN_PER_CLASS,
    LearnedSentimentModel,
    learn_sentiment,
    learned_model_files,
    learned_model_from_files,
)
from opencx.text.topics import (
    SAME_TOPIC,
    Topic,
    TopicVocabulary,
    assign_topics,
    discover_topics,
    match_topics,
    topic_similarity,
    topic_vocabulary_from_json,
    topic_vocabulary_to_json,
)
from opencx.textanalytics.models import (
    AnalysisStatus,
    AnalyzedText,
    AnalyzedTextTopic,
    OrganizationSentimentModel,
    OrganizationTopicModel,
    TextSourceKind,
    TextTopic,
)
from opencx.textanalytics.schemas import (
    EmotionLevel,
    EnrichmentReport,
    FeelingSummary,
    Quality,
    ReanalysisReport,
    SentimentModelOut,
    TextAnalysisOut,
    TextAnalyticsOverview,
    TextFeeling,
    TextFeelings,
    TopicDetail,
    TopicExample,
    TopicExplorer,
    TopicFilter,
    TopicMergeIn,
    TopicModelOut,
    TopicOut,
    TopicRenameIn,
)

BATCH_SIZE = 2000
MAX_ATTEMPTS = 5
# a failed text waits RETRY_SECONDS, doubled after each further failure, before its next try
RETRY_SECONDS = 60
MESSAGE_FIELD = "body"
# Emotions shown on a text, as the models predict them: the likeliest one (when at least
# EMOTION_FLOOR: below it, it is noise) and any other at or above EMOTION_SHOWN_AT (the English
# model's validated threshold), at most SHOWN_EMOTIONS, strongest first.
EMOTION_FLOOR = 0.25
EMOTION_SHOWN_AT = 0.35
SHOWN_EMOTIONS = 2
# The customer 360 sums up this many of the customer's most recent analysed texts.
RECENT_TEXTS = 20


def sentiment_label(kind: SurveyKind, score: int | None) -> str | None:
    """NPS 0-6 negative, 9-10 positive; CSAT 1-2 negative, 4-5 positive; anything else None."""
    if score is None:
        return None
    if kind is SurveyKind.nps:
        return "negative" if score <= 6 else "positive" if score >= 9 else None
    if kind is SurveyKind.csat:
        return "negative" if score <= 2 else "positive" if score >= 4 else None
    return None


def list_labelled_comments(session: Session, *, org_id: int) -> list[LabelledText]:
    """Survey comments labelled by their response's score (passives and CES left out)."""
    by_response: dict[int, list[surveys.FreeTextAnswer]] = defaultdict(list)
    for answer in surveys.list_free_text_answers(session, org_id=org_id):
        by_response[answer.response_id].append(answer)
    examples = []
    for answers in by_response.values():
        label = sentiment_label(answers[0].kind, answers[0].score)
        if label is not None:
            text = "\n".join(answer.text for answer in answers)
            examples.append(LabelledText(text, label, answers[0].language))
    return examples


def _model_out(row: OrganizationSentimentModel) -> SentimentModelOut:
    def quality(accuracy: float | None, macro_f1: float | None) -> Quality | None:
        if accuracy is None or macro_f1 is None:
            return None
        return Quality(accuracy=accuracy, macro_f1=macro_f1)

    return SentimentModelOut(
        language=row.language,
        identifier=row.identifier,
        counts=row.counts,
        default=quality(row.default_accuracy, row.default_macro_f1),
        learned=quality(row.learned_accuracy, row.learned_macro_f1),
        chosen=row.chosen,
        reason=row.reason,
        trained_at=row.trained_at,
    )


def list_sentiment_models(session: Session, *, org_id: int) -> list[SentimentModelOut]:
    """The last learning run per language, with both measured qualities."""
    rows = session.scalars(
        select(OrganizationSentimentModel)
        .where(OrganizationSentimentModel.org_id == org_id)
        .order_by(OrganizationSentimentModel.language)
    )
    return [_model_out(row) for row in rows]


def _mark_stale(session: Session, *, org_id: int, language: str | None = None) -> int:
    statement = update(AnalyzedText).where(AnalyzedText.org_id == org_id)
    if language is not None:
        statement = statement.where(AnalyzedText.language == language)
    result = session.execute(statement.values(stale=True))
    return int(getattr(result, "rowcount", 0) or 0)


def train_organization_sentiment(
    session: Session, *, org_id: int, now: datetime | None = None
) -> list[SentimentModelOut]:
    """Learn sentiment per language from rated comments; a language's texts are analysed again
    when the model used for it changes."""
    now = now or utcnow()
    reports = learn_sentiment(
        list_labelled_comments(session, org_id=org_id),
        identifier_prefix=f"org{org_id}-{now:%Y%m%d%H%M%S}",
    )
    existing = {
        row.language: row
        for row in session.scalars(
            select(OrganizationSentimentModel).where(OrganizationSentimentModel.org_id == org_id)
        )
    }
    for language, report in reports.items():
        row = existing.get(language)
        if row is None:
            row = OrganizationSentimentModel(org_id=org_id, language=language)
            session.add(row)
        used_before = row.identifier if row.chosen else None
        files = learned_model_files(report.model) if report.model is not None else {}
        row.identifier = report.model.identifier if report.model is not None else None
        row.counts = report.counts
        row.default_accuracy = report.default.accuracy if report.default else None
        row.default_macro_f1 = report.default.macro_f1 if report.default else None
        row.learned_accuracy = report.learned.accuracy if report.learned else None
        row.learned_macro_f1 = report.learned.macro_f1 if report.learned else None
        row.chosen = report.chosen
        row.reason = report.reason[:300]
        row.trained_at = now
        row.metadata_file = files.get("metadata.json")
        row.vocabulary_file = files.get("vocabulary.json")
        row.weights_file = files.get("weights.npz")
        if used_before != (row.identifier if row.chosen else None):
            _mark_stale(session, org_id=org_id, language=language)
    session.flush()
    return list_sentiment_models(session, org_id=org_id)


def _chosen_models(session: Session, *, org_id: int) -> dict[str, LearnedSentimentModel]:
    """The learned models this organization uses, by language; ModelError if one is corrupt."""
    models = {}
    for row in session.scalars(
        select(OrganizationSentimentModel).where(
            OrganizationSentimentModel.org_id == org_id, OrganizationSentimentModel.chosen
        )
    ):
        files = {
            name: content
            for name, content in (
                ("metadata.json", row.metadata_file),
                ("vocabulary.json", row.vocabulary_file),
                ("weights.npz", row.weights_file),
            )
            if content is not None
        }
        models[row.language] = learned_model_from_files(
            files, f"organization {org_id} language {row.language}"
        )
    return models


@dataclass(frozen=True)
class _SourceText:
    kind: TextSourceKind
    source_id: int
    field: str
    language: str | None  # the language the source knows (a survey's), else detected
    text: str
    sha256: str


def _source_texts(session: Session, *, org_id: int) -> list[_SourceText]:
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    texts = [
        _SourceText(TextSourceKind.conversation_message, i, MESSAGE_FIELD, None, body, digest(body))
        for i, body in conversations.list_inbound_message_bodies(session, org_id=org_id)
    ]
    texts.extend(
        _SourceText(
            TextSourceKind.survey_answer,
            answer.response_id,
            answer.question_key,
            answer.language,
            answer.text,
            digest(answer.text),
        )
        for answer in surveys.list_free_text_answers(session, org_id=org_id)
    )
    return texts


def _retry_due(attempts: int, updated_at: datetime, now: datetime) -> bool:
    delay = timedelta(seconds=RETRY_SECONDS * 2 ** max(attempts - 1, 0))
    return attempts < MAX_ATTEMPTS and updated_at + delay <= now


def analyze_pending_texts(
    session: Session, *, org_id: int, batch_size: int = BATCH_SIZE, now: datetime | None = None
) -> EnrichmentReport:
    """Analyse up to `batch_size` new, changed, stale or retry-due texts; drop analyses of texts
    that are gone (deleted or erased)."""
    now = now or utcnow()
    sources = {(s.kind, s.source_id, s.field): s for s in _source_texts(session, org_id=org_id)}
    stored = session.execute(
        select(
            AnalyzedText.id,
            AnalyzedText.source_kind,
            AnalyzedText.source_id,
            AnalyzedText.field,
            AnalyzedText.text_sha256,
            AnalyzedText.status,
            AnalyzedText.stale,
            AnalyzedText.attempts,
            AnalyzedText.updated_at,
        ).where(AnalyzedText.org_id == org_id)
    ).all()
    gone = [row.id for row in stored if (row.source_kind, row.source_id, row.field) not in sources]
    for start in range(0, len(gone), BATCH_SIZE):
        session.execute(
            delete(AnalyzedText).where(
                AnalyzedText.org_id == org_id, AnalyzedText.id.in_(gone[start : start + BATCH_SIZE])
            )
        )
    known = {(row.source_kind, row.source_id, row.field): row for row in stored}
    fresh, retries = [], []
    for key, source in sources.items():
        row = known.get(key)
        if row is None or row.text_sha256 != source.sha256 or row.stale:
            fresh.append(source)
        elif row.status is AnalysisStatus.failed and _retry_due(row.attempts, row.updated_at, now):
            retries.append(source)
    # new texts first: a text that keeps failing never holds back the ones behind it
    pending = (fresh + retries)[:batch_size]
    analyzed, failed = _analyze_batch(session, org_id=org_id, sources=pending, now=now)
    session.flush()
    return EnrichmentReport(
        analyzed=analyzed,
        failed=failed,
        removed=len(gone),
        pending=len(fresh) + len(retries) - len(pending),
    )


def _analyze_batch(
    session: Session, *, org_id: int, sources: Sequence[_SourceText], now: datetime
) -> tuple[int, int]:
    if not sources:
        return 0, 0
    rows = {
        (row.source_kind, row.source_id, row.field): row
        for row in session.scalars(
            select(AnalyzedText).where(
                AnalyzedText.org_id == org_id,
                AnalyzedText.source_id.in_({s.source_id for s in sources}),
            )
        )
    }
    outcomes: dict[int, TextAnalysis | Exception] = {}
    try:
        models = _chosen_models(session, org_id=org_id)
    except ModelError as error:
        outcomes = dict.fromkeys(range(len(sources)), error)
        models = {}
    by_language: dict[str | None, list[int]] = defaultdict(list)
    for position, source in enumerate(sources):
        if position not in outcomes:
            by_language[source.language].append(position)
    for language, positions in by_language.items():
        try:
            results = analyze(
                [sources[p].text for p in positions], lang=language, custom_sentiment=models
            )
            outcomes.update(zip(positions, results, strict=True))
        except Exception:
            # find the text that breaks the batch: the others are analysed all the same
            for position in positions:
                try:
                    outcomes[position] = analyze(
                        [sources[position].text], lang=language, custom_sentiment=models
                    )[0]
                except Exception as error:
                    outcomes[position] = error
    failed = 0
    analysed: list[tuple[AnalyzedText, _SourceText]] = []
    for position, source in enumerate(sources):
        key = (source.kind, source.source_id, source.field)
        row = rows.get(key)
        if row is None:
            row = AnalyzedText(
                org_id=org_id,
                source_kind=source.kind,
                source_id=source.source_id,
                field=source.field,
            )
            session.add(row)
        changed = row.text_sha256 != source.sha256
        row.text_sha256 = source.sha256
        row.stale = False
        outcome = outcomes[position]
        if isinstance(outcome, Exception):
            failed += 1
            row.status = AnalysisStatus.failed
            row.attempts = 1 if changed else (row.attempts or 0) + 1
            row.error = f"{type(outcome).__name__}: {outcome}"[:500]
            row.updated_at = now
            continue
        row.status = AnalysisStatus.done
        row.attempts = 0
        row.error = None
        row.language = outcome.language
        row.language_confidence = outcome.language_confidence
        row.sentiment = outcome.sentiment
        row.sentiment_score = outcome.sentiment_score
        row.emotions = outcome.emotions
        for name in EMOTIONS:
            setattr(row, name, outcome.emotions.get(name))
        row.model = outcome.model
        row.analyzed_at = now
        row.updated_at = now
        analysed.append((row, source))
    session.flush()
    _assign_text_topics(session, org_id=org_id, analysed=analysed, now=now)
    return len(sources) - failed, failed


def reanalyze_texts(session: Session, *, org_id: int) -> ReanalysisReport:
    """Mark every stored analysis of the organization stale: the next rounds redo them."""
    return ReanalysisReport(marked=_mark_stale(session, org_id=org_id))


def list_text_analyses(
    session: Session, *, org_id: int, source_kind: TextSourceKind, source_ids: Sequence[int]
) -> list[TextAnalysisOut]:
    """The stored analyses of the given sources (e.g. a conversation's messages)."""
    rows = session.scalars(
        select(AnalyzedText)
        .where(
            AnalyzedText.org_id == org_id,
            AnalyzedText.source_kind == source_kind,
            AnalyzedText.source_id.in_(list(source_ids)),
        )
        .order_by(AnalyzedText.source_id, AnalyzedText.field)
    )
    return [TextAnalysisOut.model_validate(row) for row in rows]


def get_text_analytics_overview(session: Session, *, org_id: int) -> TextAnalyticsOverview:
    """Learned and default sentiment quality per language, and how many texts are analysed."""
    models = list_sentiment_models(session, org_id=org_id)
    by_status = dict(
        session.execute(
            select(AnalyzedText.status, func.count())
            .where(AnalyzedText.org_id == org_id)
            .group_by(AnalyzedText.status)
        ).all()
    )
    return TextAnalyticsOverview(
        models=models,
        last_trained_at=max((m.trained_at for m in models), default=None),
        analysed=by_status.get(AnalysisStatus.done, 0),
        failed=by_status.get(AnalysisStatus.failed, 0),
        min_per_class=MIN_PER_CLASS,
        margin=MARGIN,
        topic_models=list_topic_models(session, org_id=org_id),
    )


def _strongest(
    levels: dict[str, float], *, first_at: float, others_at: float, limit: int
) -> list[EmotionLevel]:
    ranked = sorted(levels.items(), key=lambda item: (-item[1], item[0]))
    return [
        EmotionLevel(name=name, probability=round(p, 4))
        for n, (name, p) in enumerate(ranked)
        if p >= (first_at if n == 0 else others_at)
    ][:limit]


def _means(rows: Sequence[AnalyzedText]) -> tuple[float, dict[str, float]]:
    """The mean sentiment score and mean probability of each emotion of analysed texts."""
    score = sum(row.sentiment_score or 0.0 for row in rows) / len(rows)
    emotions = {
        name: sum(row.emotions.get(name, 0.0) for row in rows) / len(rows) for name in EMOTIONS
    }
    return round(score, 4), emotions


def _feeling(rows: Sequence[AnalyzedText]) -> TextFeeling:
    """One source's feeling from its analysed fields (a message has one; a response one per answer)."""
    labels = {row.sentiment for row in rows}
    score, emotions = _means(rows)
    return TextFeeling(
        sentiment=labels.pop() if len(labels) == 1 else "mixed",
        sentiment_score=score,
        emotions=_strongest(
            emotions, first_at=EMOTION_FLOOR, others_at=EMOTION_SHOWN_AT, limit=SHOWN_EMOTIONS
        ),
        texts=len(rows),
    )


def _summary(rows: Sequence[AnalyzedText]) -> FeelingSummary | None:
    if not rows:
        return None
    counts = {name: sum(row.sentiment == name for row in rows) for name in SENTIMENTS}
    score, emotions = _means(rows)
    return FeelingSummary(
        texts=len(rows),
        **counts,
        mean_score=score,
        emotions=_strongest(emotions, first_at=0.0, others_at=0.0, limit=3),
    )


def list_text_feelings(
    session: Session,
    *,
    org_id: int,
    message_ids: Sequence[int] = (),
    response_ids: Sequence[int] = (),
    recent: Sequence[tuple[TextSourceKind, int]] = (),
) -> TextFeelings:
    """Sentiment and strongest emotions of these messages and survey responses, in one query.

    Only analysed texts appear (one still pending or failed has no entry). `recent` lists
    sources newest first (of those given): their latest RECENT_TEXTS analysed fields are summed up.
    """
    wanted = [
        and_(AnalyzedText.source_kind == kind, AnalyzedText.source_id.in_(list(ids)))
        for kind, ids in (
            (TextSourceKind.conversation_message, message_ids),
            (TextSourceKind.survey_answer, response_ids),
        )
        if ids
    ]
    if not wanted:
        return TextFeelings()
    rows = session.scalars(
        select(AnalyzedText)
        .where(
            AnalyzedText.org_id == org_id,
            AnalyzedText.status == AnalysisStatus.done,
            AnalyzedText.sentiment.is_not(None),
            or_(*wanted),
        )
        .order_by(AnalyzedText.source_id, AnalyzedText.field)
    ).all()
    by_source: dict[tuple[TextSourceKind, int], list[AnalyzedText]] = defaultdict(list)
    for row in rows:
        by_source[(row.source_kind, row.source_id)].append(row)
    latest = [row for source in recent for row in by_source.get(source, [])][:RECENT_TEXTS]
    return TextFeelings(
        messages={
            source_id: _feeling(fields)
            for (kind, source_id), fields in by_source.items()
            if kind is TextSourceKind.conversation_message
        },
        comments={
            source_id: _feeling(fields)
            for (kind, source_id), fields in by_source.items()
            if kind is TextSourceKind.survey_answer
        },
        recent=_summary(latest),
    )


def get_timeline_feelings(
    session: Session,
    *,
    org_id: int,
    timeline: Sequence[TimelineEntry],
    message_ids: Sequence[int] = (),
) -> TextFeelings:
    """Feelings of a customer timeline's messages from the customer and survey responses,
    with a summary of the most recent (the timeline is newest first), and of `message_ids`
    besides (a conversation open beside it)."""
    recent: list[tuple[TextSourceKind, int]] = []
    for entry in timeline:
        if entry.kind == "message" and entry.data.get("direction") == "inbound":
            recent.append((TextSourceKind.conversation_message, int(entry.source_id)))
        elif entry.kind == "feedback":
            recent.append((TextSourceKind.survey_answer, int(entry.source_id)))
    return list_text_feelings(
        session,
        org_id=org_id,
        message_ids=[
            *message_ids,
            *(i for kind, i in recent if kind is TextSourceKind.conversation_message),
        ],
        response_ids=[i for kind, i in recent if kind is TextSourceKind.survey_answer],
        recent=recent,
    )


# --- topics -----------------------------------------------------------------------------------

TOPIC_EXAMPLES = 8
TOPIC_PHRASES_SHOWN = 8
# the explorer's weekly trend covers at most this many weeks (the volume counts the whole period)
MAX_TREND_WEEKS = 104
_IDS_PER_QUERY = 1000


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + _IDS_PER_QUERY] for i in range(0, len(ordered), _IDS_PER_QUERY)]


def _topic_roots(topics: Sequence[TextTopic]) -> dict[int, int]:
    """Each topic's id -> the id of the topic it counts for (itself unless merged)."""
    parent = {t.id: t.merged_into_id for t in topics}
    roots = {}
    for topic_id in parent:
        root, seen = topic_id, {topic_id}
        while parent.get(root) is not None and parent[root] not in seen:
            root = parent[root]  # type: ignore[assignment]
            seen.add(root)
        roots[topic_id] = root
    return roots


def _list_topic_rows(session: Session, *, org_id: int) -> list[TextTopic]:
    return list(
        session.scalars(select(TextTopic).where(TextTopic.org_id == org_id).order_by(TextTopic.id))
    )


def _topic_vocabularies(
    session: Session, *, org_id: int, topics: Sequence[TextTopic]
) -> dict[str, TopicVocabulary]:
    """The learned vocabulary of each language, its topics keyed by their row ids."""
    vocabularies = {}
    for model in session.scalars(
        select(OrganizationTopicModel).where(OrganizationTopicModel.org_id == org_id)
    ):
        stored = topic_vocabulary_from_json(
            json.dumps(model.vocabulary), f"organization {org_id} topics {model.language}"
        )
        vocabularies[model.language] = stored.with_topics(
            [
                Topic(str(t.id), {p: float(w) for p, w in t.phrases.items()}, t.label)
                for t in topics
                if t.language == model.language and not t.retired
            ]
        )
    return vocabularies


def _source_times(
    session: Session, *, org_id: int, sources: Sequence[_SourceText]
) -> dict[tuple[TextSourceKind, int], datetime]:
    times: dict[tuple[TextSourceKind, int], datetime] = {}
    for kind, lookup in (
        (TextSourceKind.conversation_message, conversations.list_message_sent_times),
        (TextSourceKind.survey_answer, surveys.list_response_submitted_times),
    ):
        ids = [s.source_id for s in sources if s.kind is kind]
        for chunk in _chunks(ids):
            found = lookup(session, org_id=org_id, **{_ID_ARGUMENT[kind]: chunk})
            times.update(((kind, source_id), moment) for source_id, moment in found.items())
    return times


_ID_ARGUMENT = {
    TextSourceKind.conversation_message: "message_ids",
    TextSourceKind.survey_answer: "response_ids",
}


def _assign_text_topics(
    session: Session,
    *,
    org_id: int,
    analysed: Sequence[tuple[AnalyzedText, _SourceText]],
    now: datetime,
) -> int:
    """Replace the topics of these analysed texts by those of the current vocabularies."""
    if not analysed:
        return 0
    topics = _list_topic_rows(session, org_id=org_id)
    vocabularies = _topic_vocabularies(session, org_id=org_id, topics=topics)
    roots = _topic_roots(topics)
    for chunk in _chunks([row.id for row, _ in analysed]):
        session.execute(
            delete(AnalyzedTextTopic).where(
                AnalyzedTextTopic.org_id == org_id, AnalyzedTextTopic.analysis_id.in_(chunk)
            )
        )
    by_language: dict[str, list[tuple[AnalyzedText, _SourceText]]] = defaultdict(list)
    for row, source in analysed:
        if row.language in vocabularies:
            by_language[row.language].append((row, source))
    times = _source_times(
        session, org_id=org_id, sources=[s for pairs in by_language.values() for _, s in pairs]
    )
    assigned = 0
    for language, pairs in by_language.items():
        found = assign_topics([source.text for _, source in pairs], vocabularies[language])
        for (row, source), weights in zip(pairs, found, strict=True):
            # a merged topic's texts count for the topic it was merged into
            by_root: dict[int, float] = {}
            for item in weights:
                root = roots[int(item.key)]
                by_root[root] = max(by_root.get(root, 0.0), item.weight)
            for topic_id, weight in by_root.items():
                session.add(
                    AnalyzedTextTopic(
                        org_id=org_id,
                        analysis_id=row.id,
                        topic_id=topic_id,
                        weight=weight,
                        occurred_at=times.get((source.kind, source.source_id), now),
                    )
                )
            assigned += bool(by_root)
    return assigned


def _store_topic_vocabulary(
    session: Session, *, org_id: int, vocabulary: TopicVocabulary, now: datetime
) -> None:
    """Keep each topic the new vocabulary still finds (its id, name and merge); a new topic close
    to an old one is merged into it; retire the topics no longer found."""
    previous = [
        t for t in _list_topic_rows(session, org_id=org_id) if t.language == vocabulary.language
    ]
    matches = match_topics([t.phrases for t in previous], [t.phrases for t in vocabulary.topics])
    roots = _topic_roots(_list_topic_rows(session, org_id=org_id))
    before = [(t.id, dict(t.phrases)) for t in previous]  # rows change in the loop below
    kept = set()
    for index, topic in enumerate(vocabulary.topics):
        if index in matches:
            row = previous[matches[index]]
            kept.add(row.id)
        else:
            row = TextTopic(org_id=org_id, language=vocabulary.language)
            # a topic split off one already matched stays under that one's identity
            similar = sorted(
                ((topic_similarity(phrases, topic.phrases), old_id) for old_id, phrases in before),
                reverse=True,
            )
            if similar and similar[0][0] >= SAME_TOPIC:
                row.merged_into_id = roots[similar[0][1]]
            session.add(row)
        row.label = topic.label[:300]
        row.phrases = topic.phrases
        row.text_count = topic.text_count
        row.retired = False
        row.learned_at = now
    for row in previous:
        if row.id not in kept:
            row.retired = True
    model = session.scalar(
        select(OrganizationTopicModel).where(
            OrganizationTopicModel.org_id == org_id,
            OrganizationTopicModel.language == vocabulary.language,
        )
    )
    if model is None:
        model = OrganizationTopicModel(org_id=org_id, language=vocabulary.language)
        session.add(model)
    model.text_count = vocabulary.text_count
    model.topic_count = len(vocabulary.topics)
    model.vocabulary = json.loads(topic_vocabulary_to_json(vocabulary.with_topics([])))
    model.trained_at = now


def _analysed_sources(session: Session, *, org_id: int) -> list[tuple[AnalyzedText, _SourceText]]:
    sources = {(s.kind, s.source_id, s.field): s for s in _source_texts(session, org_id=org_id)}
    pairs = []
    for row in session.scalars(
        select(AnalyzedText).where(
            AnalyzedText.org_id == org_id, AnalyzedText.status == AnalysisStatus.done
        )
    ):
        source = sources.get((row.source_kind, row.source_id, row.field))
        if source is not None and source.sha256 == row.text_sha256:
            pairs.append((row, source))
    return pairs


def list_topic_models(session: Session, *, org_id: int) -> list[TopicModelOut]:
    """The last topic learning per language."""
    rows = session.scalars(
        select(OrganizationTopicModel)
        .where(OrganizationTopicModel.org_id == org_id)
        .order_by(OrganizationTopicModel.language)
    )
    return [TopicModelOut.model_validate(row) for row in rows]


def learn_organization_topics(
    session: Session, *, org_id: int, now: datetime | None = None
) -> list[TopicModelOut]:
    """Learn each language's topics from the organization's analysed texts, then give every
    analysed text its topics. Topics still found keep their id, name and merges."""
    now = now or utcnow()
    analysed = _analysed_sources(session, org_id=org_id)
    by_language: dict[str, list[str]] = defaultdict(list)
    for row, source in analysed:
        if row.language and row.language != UNKNOWN:
            by_language[row.language].append(source.text)
    for language, texts in sorted(by_language.items()):
        _store_topic_vocabulary(
            session, org_id=org_id, vocabulary=discover_topics(texts, language), now=now
        )
    session.flush()
    _assign_text_topics(session, org_id=org_id, analysed=analysed, now=now)
    session.flush()
    return list_topic_models(session, org_id=org_id)


def _get_topic_row(session: Session, *, org_id: int, topic_id: int) -> TextTopic:
    row = session.scalar(
        select(TextTopic).where(TextTopic.org_id == org_id, TextTopic.id == topic_id)
    )
    if row is None:
        raise NotFound("topic", topic_id)
    return row


def rename_topic(session: Session, *, org_id: int, topic_id: int, data: TopicRenameIn) -> TopicOut:
    """Give a topic the manager's name; relearning keeps it while the topic is still found."""
    row = _get_topic_row(session, org_id=org_id, topic_id=topic_id)
    if row.merged_into_id is not None:
        raise InvalidInput("topic_id", f"topic {topic_id} is merged into {row.merged_into_id}")
    row.name = data.name
    session.flush()
    return get_topic(session, org_id=org_id, topic_id=topic_id, filters=TopicFilter()).topic


def merge_topics(session: Session, *, org_id: int, topic_id: int, data: TopicMergeIn) -> TopicOut:
    """Merge topics into `topic_id`: their texts move to it, and so do the texts they find later."""
    target = _get_topic_row(session, org_id=org_id, topic_id=topic_id)
    if target.merged_into_id is not None:
        raise InvalidInput("topic_id", f"topic {topic_id} is merged into {target.merged_into_id}")
    merged_ids = sorted(set(data.topic_ids))
    if topic_id in merged_ids:
        raise InvalidInput("topic_ids", f"topic {topic_id} cannot be merged into itself")
    rows = [_get_topic_row(session, org_id=org_id, topic_id=i) for i in merged_ids]
    for row in rows:
        if row.merged_into_id is not None:
            raise InvalidInput("topic_ids", f"topic {row.id} is already merged")
    for row in rows:
        row.merged_into_id = topic_id
    weights = session.execute(
        select(AnalyzedTextTopic).where(
            AnalyzedTextTopic.org_id == org_id,
            AnalyzedTextTopic.topic_id.in_([topic_id, *merged_ids]),
        )
    ).scalars()
    best: dict[int, AnalyzedTextTopic] = {}
    for link in weights:
        kept = best.get(link.analysis_id)
        if kept is None:
            best[link.analysis_id] = link
            continue
        # a text found by both keeps one link, with the larger weight, on the merged topic
        winner, loser = (kept, link) if kept.weight >= link.weight else (link, kept)
        session.delete(loser)
        best[link.analysis_id] = winner
    session.flush()
    for link in best.values():
        link.topic_id = topic_id
    session.flush()
    return get_topic(session, org_id=org_id, topic_id=topic_id, filters=TopicFilter()).topic


def _trend_weeks(first: date | None, last: date) -> list[date]:
    end = last - timedelta(days=last.weekday())
    start = (first or last) - timedelta(days=(first or last).weekday())
    start = max(start, end - timedelta(weeks=MAX_TREND_WEEKS - 1))
    return [start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]


def _filtered_links(session: Session, *, org_id: int, filters: TopicFilter) -> Any:
    statement = (
        select(
            AnalyzedTextTopic.topic_id,
            AnalyzedTextTopic.analysis_id,
            AnalyzedTextTopic.weight,
            AnalyzedTextTopic.occurred_at,
            AnalyzedText.sentiment,
            AnalyzedText.language,
            AnalyzedText.source_kind,
            AnalyzedText.source_id,
            AnalyzedText.field,
        )
        .join(AnalyzedText, AnalyzedText.id == AnalyzedTextTopic.analysis_id)
        .where(AnalyzedTextTopic.org_id == org_id, AnalyzedText.org_id == org_id)
    )
    if filters.since is not None:
        statement = statement.where(
            AnalyzedTextTopic.occurred_at >= datetime.combine(filters.since, time(), UTC)
        )
    if filters.until is not None:
        statement = statement.where(
            AnalyzedTextTopic.occurred_at
            < datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        )
    if filters.language:
        statement = statement.where(AnalyzedText.language == filters.language)
    if filters.source_kind is not None:
        statement = statement.where(AnalyzedText.source_kind == filters.source_kind)
    return statement


def list_topics(
    session: Session, *, org_id: int, filters: TopicFilter, today: date | None = None
) -> TopicExplorer:
    """Every topic (merged ones counted in theirs) with volume, weekly trend and sentiment."""
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput("until", "is before since")
    today = today or utcnow().date()
    topics = _list_topic_rows(session, org_id=org_id)
    roots = _topic_roots(topics)
    links = session.execute(_filtered_links(session, org_id=org_id, filters=filters)).all()
    last = filters.until or today
    first = filters.since or min((link.occurred_at.date() for link in links), default=last)
    weeks = _trend_weeks(first, last)
    week_index = {week: i for i, week in enumerate(weeks)}
    volume: dict[int, int] = defaultdict(int)
    sentiment: dict[int, Counter[str]] = defaultdict(Counter)
    weekly: dict[int, list[int]] = defaultdict(lambda: [0] * len(weeks))
    for link in links:
        volume[link.topic_id] += 1
        sentiment[link.topic_id][link.sentiment or ""] += 1
        day = link.occurred_at.date()
        position = week_index.get(day - timedelta(days=day.weekday()))
        if position is not None:
            weekly[link.topic_id][position] += 1
    displays = _phrase_displays(session, org_id=org_id)
    shown = []
    for topic in topics:
        if roots[topic.id] != topic.id or (topic.retired and not volume[topic.id]):
            continue
        members = [t for t in topics if roots[t.id] == topic.id]
        languages = sorted({t.language for t in members})
        if filters.language and filters.language not in languages:
            continue
        shown.append(
            _topic_out(topic, members, languages, displays, volume, sentiment, weekly, len(weeks))
        )
    shown.sort(key=lambda t: (-t.volume, t.name.lower(), t.id))
    learned = list_topic_models(session, org_id=org_id)
    return TopicExplorer(
        topics=shown,
        weeks=weeks,
        with_topic=len({link.analysis_id for link in links}),
        languages=[m.language for m in learned],
        learned_at=max((m.trained_at for m in learned), default=None),
    )


def _phrase_displays(session: Session, *, org_id: int) -> dict[str, dict[str, str]]:
    return {
        model.language: dict(model.vocabulary.get("display", {}))
        for model in session.scalars(
            select(OrganizationTopicModel).where(OrganizationTopicModel.org_id == org_id)
        )
    }


def _topic_out(
    topic: TextTopic,
    members: Sequence[TextTopic],
    languages: list[str],
    displays: dict[str, dict[str, str]],
    volume: dict[int, int],
    sentiment: dict[int, Counter[str]],
    weekly: dict[int, list[int]],
    week_count: int,
) -> TopicOut:
    display = displays.get(topic.language, {})
    phrases = sorted(topic.phrases, key=lambda p: (-float(topic.phrases[p]), p))
    count = volume.get(topic.id, 0)
    shares = sentiment.get(topic.id, Counter())
    return TopicOut(
        id=topic.id,
        name=topic.name or topic.label,
        label=topic.label,
        renamed=topic.name is not None,
        languages=languages,
        phrases=[display.get(p, p) for p in phrases[:TOPIC_PHRASES_SHOWN]],
        volume=count,
        negative_share=round(shares["negative"] / count, 4) if count else None,
        positive_share=round(shares["positive"] / count, 4) if count else None,
        weekly=weekly.get(topic.id, [0] * week_count),
        merged_topic_ids=[t.id for t in members if t.id != topic.id],
        retired=topic.retired,
    )


def get_topic(
    session: Session,
    *,
    org_id: int,
    topic_id: int,
    filters: TopicFilter,
    today: date | None = None,
) -> TopicDetail:
    """A topic with its figures and its most typical distinct texts (heaviest weight first)."""
    row = _get_topic_row(session, org_id=org_id, topic_id=topic_id)
    if row.merged_into_id is not None:
        raise NotFound("topic", topic_id)
    explorer = list_topics(
        session, org_id=org_id, filters=filters.model_copy(update={"language": None}), today=today
    )
    topic = next((t for t in explorer.topics if t.id == topic_id), None)
    if topic is None:
        # a retired topic without texts in the period: shown without figures
        topic = _topic_out(row, [row], [row.language], {}, {}, {}, {}, len(explorer.weeks))
    links = session.execute(
        _filtered_links(session, org_id=org_id, filters=filters)
        .where(AnalyzedTextTopic.topic_id == topic_id)
        .order_by(AnalyzedTextTopic.weight.desc(), AnalyzedTextTopic.occurred_at.desc())
        # more than shown: customers repeat each other ("Szybka dostawa, polecam!"), shown once
        .limit(TOPIC_EXAMPLES * 5)
    ).all()
    return TopicDetail(topic=topic, examples=_examples(session, org_id=org_id, links=links))


def _examples(session: Session, *, org_id: int, links: Sequence[Any]) -> list[TopicExample]:
    texts: dict[tuple[TextSourceKind, int, str], str] = {}
    message_ids = [
        link.source_id for link in links if link.source_kind is TextSourceKind.conversation_message
    ]
    if message_ids:
        for message_id, body in conversations.list_inbound_message_bodies(
            session, org_id=org_id, message_ids=message_ids
        ):
            texts[(TextSourceKind.conversation_message, message_id, MESSAGE_FIELD)] = body
    response_ids = [
        link.source_id for link in links if link.source_kind is TextSourceKind.survey_answer
    ]
    if response_ids:
        for answer in surveys.list_free_text_answers(
            session, org_id=org_id, response_ids=response_ids
        ):
            texts[(TextSourceKind.survey_answer, answer.response_id, answer.question_key)] = (
                answer.text
            )
    examples: dict[str, TopicExample] = {}
    for link in links:
        text = texts.get((link.source_kind, link.source_id, link.field))
        if text is None or text in examples:
            continue
        examples[text] = TopicExample(
            source_kind=link.source_kind,
            source_id=link.source_id,
            field=link.field,
            text=text,
            language=link.language,
            sentiment=link.sentiment,
            weight=link.weight,
            occurred_at=link.occurred_at,
        )
    return list(examples.values())[:TOPIC_EXAMPLES]

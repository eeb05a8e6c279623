"""Use cases: learn an organization's sentiment model from rated comments; analyse every text.

Enrichment is pull-based: a round lists the organization's texts (inbound message bodies and
free-text survey answers, through their domains' services), compares them with the stored
analyses by SHA-256, and analyses what is new, changed, marked stale or due for a retry. Nothing
on the path that accepts a message or an answer waits for it, and a failure is stored on the
analysis row, never on the text.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from opencx.conversations import service as conversations
from opencx.customers.timeline import TimelineEntry
from opencx.db import utcnow
from opencx.surveys import service as surveys
from opencx.surveys.models import SurveyKind
from opencx.text import EMOTIONS, SENTIMENTS, ModelError, TextAnalysis, analyze
from opencx.text.evaluation import LabelledText
from opencx.text.learning import (
    MARGIN,
    MIN_PER_CLASS,
    LearnedSentimentModel,
    learn_sentiment,
    learned_model_files,
    learned_model_from_files,
)
from opencx.textanalytics.models import (
    AnalysisStatus,
    AnalyzedText,
    OrganizationSentimentModel,
    TextSourceKind,
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

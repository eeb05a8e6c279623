"""Learning sentiment from rated survey comments, and enrichment of messages and comments."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from opencx.customers import service as customers
from opencx.db import utcnow
from opencx.surveys import service as surveys
from opencx.surveys.models import SurveyKind
from opencx.textanalytics import service
from opencx.textanalytics.models import (
    AnalysisStatus,
    AnalyzedText,
    OrganizationSentimentModel,
    TextSourceKind,
)
from opencx.textanalytics.tasks import enrich_and_learn_periodically, enrich_texts
from tests.conftest import Tenant, make_tenant
from tests.textanalytics.conftest import (
    RatedWorld,
    answer_nps,
    make_rated_world,
    send_message,
)


def analyses(session: Session, org_id: int) -> list[AnalyzedText]:
    session.expire_all()
    return list(
        session.scalars(
            select(AnalyzedText)
            .where(AnalyzedText.org_id == org_id)
            .order_by(AnalyzedText.source_kind, AnalyzedText.source_id)
        )
    )


def test_scores_label_comments_and_passives_are_left_out() -> None:
    label = service.sentiment_label
    assert [label(SurveyKind.nps, s) for s in (0, 6, 7, 8, 9, 10)] == [
        "negative",
        "negative",
        None,
        None,
        "positive",
        "positive",
    ]
    assert [label(SurveyKind.csat, s) for s in (1, 2, 3, 4, 5)] == [
        "negative",
        "negative",
        None,
        "positive",
        "positive",
    ]
    assert label(SurveyKind.ces, 1) is None and label(SurveyKind.nps, None) is None


def test_rated_comments_become_labelled_examples(
    db_session: Session, rated_world: RatedWorld
) -> None:
    examples = service.list_labelled_comments(db_session, org_id=rated_world.org_id)
    # 60 complaints and 60 compliments; the passive's comment and the bare score are not examples
    assert sorted({e.label for e in examples}) == ["negative", "positive"]
    assert sum(e.label == "negative" for e in examples) == 60
    assert sum(e.label == "positive" for e in examples) == 60
    assert {e.language for e in examples} == {"en"}


def test_the_learned_model_is_chosen_where_better_and_analyses_use_it(
    db_session: Session, rated_world: RatedWorld
) -> None:
    org_id = rated_world.org_id
    # given the organization's rated comments in its own words, when it learns
    [model] = service.train_organization_sentiment(db_session, org_id=org_id)
    db_session.commit()
    # then both models were measured on the same folds and the learned one is used for English
    assert model.language == "en" and model.chosen
    assert model.counts == {"negative": 60, "neutral": 0, "positive": 60}
    assert model.learned.macro_f1 >= model.default.macro_f1 + 0.02
    assert model.identifier.startswith(f"org{org_id}-")
    # when a customer writes in and the enrichment round runs
    message_id = send_message(db_session, org_id, "The coffee table wobbles on every leg", "m-1")
    report = service.analyze_pending_texts(db_session, org_id=org_id)
    db_session.commit()
    # then every comment and the message are analysed, sentiment by the learned model
    assert (report.analyzed, report.failed, report.pending) == (122, 0, 0)
    [message] = service.list_text_analyses(
        db_session,
        org_id=org_id,
        source_kind=TextSourceKind.conversation_message,
        source_ids=[message_id],
    )
    assert message.language == "en" and message.sentiment == "negative"
    assert message.model == f"{model.identifier}+opencx-xed-en-1"
    assert set(message.emotions) >= {"anger", "joy", "trust"}
    comments = [a for a in analyses(db_session, org_id) if a.source_kind == "survey_answer"]
    assert len(comments) == 121 and {a.field for a in comments} == {"why"}
    # and a second round finds nothing to do
    again = service.analyze_pending_texts(db_session, org_id=org_id)
    assert (again.analyzed, again.pending) == (0, 0)


def test_too_few_rated_comments_learn_nothing_and_the_default_stays(
    db_session: Session, tenant: Tenant
) -> None:
    world = make_rated_world(db_session, tenant.org_id, 20)
    [model] = service.train_organization_sentiment(db_session, org_id=world.org_id)
    assert not model.chosen and model.identifier is None and model.learned is None
    assert "fewer than 50" in model.reason
    service.analyze_pending_texts(db_session, org_id=world.org_id)
    assert {a.model for a in analyses(db_session, world.org_id)} == {"opencx-xed-en-1"}


def test_a_failure_is_recorded_retried_and_never_touches_the_text(
    db_session: Session, rated_world: RatedWorld
) -> None:
    org_id = rated_world.org_id
    service.train_organization_sentiment(db_session, org_id=org_id)
    # given the stored learned model got corrupted
    row = db_session.scalars(
        select(OrganizationSentimentModel).where(OrganizationSentimentModel.org_id == org_id)
    ).one()
    good_weights = row.weights_file
    row.weights_file = b"not an npz file"
    db_session.commit()
    # when the enrichment round runs, each text's failure is recorded with its attempt
    report = service.analyze_pending_texts(db_session, org_id=org_id)
    db_session.commit()
    assert (report.analyzed, report.failed) == (0, 121)
    stored = analyses(db_session, org_id)
    assert {(a.status, a.attempts) for a in stored} == {(AnalysisStatus.failed, 1)}
    assert "does not match its SHA-256" in stored[0].error
    # and the comments themselves are untouched
    answers = surveys.list_free_text_answers(db_session, org_id=org_id)
    assert len(answers) == 121
    # a failed text is not retried before its delay
    assert service.analyze_pending_texts(db_session, org_id=org_id).analyzed == 0
    # when the model is repaired and the delay has passed, the retry succeeds
    row.weights_file = good_weights
    db_session.commit()
    later = utcnow() + timedelta(minutes=2)
    report = service.analyze_pending_texts(db_session, org_id=org_id, now=later)
    db_session.commit()
    assert (report.analyzed, report.failed) == (121, 0)
    assert {(a.status, a.attempts, a.error) for a in analyses(db_session, org_id)} == {
        (AnalysisStatus.done, 0, None)
    }


def test_changed_erased_and_reanalysed_texts(db_session: Session, rated_world: RatedWorld) -> None:
    org_id = rated_world.org_id
    service.analyze_pending_texts(db_session, org_id=org_id)
    db_session.commit()
    first = {a.source_id: a.analyzed_at for a in analyses(db_session, org_id)}
    # when the respondent edits a comment, only that one is analysed again
    token = rated_world.tokens[0]
    surveys.record_answers(
        db_session,
        token=token,
        form={"shown": ["score", "why"], "q_score": ["9"], "q_why": ["Great sofa, love it"]},
    )
    db_session.commit()
    assert service.analyze_pending_texts(db_session, org_id=org_id).analyzed == 1
    db_session.commit()
    edited = next(a for a in analyses(db_session, org_id) if a.analyzed_at != first[a.source_id])
    assert edited.sentiment == "positive"
    # when the customer's data is erased (GDPR), the analyses of the blanked comments go too
    customers.erase_customer(
        db_session, org_id=org_id, customer_id=rated_world.customer_id, requested_by="test"
    )
    db_session.commit()
    report = service.analyze_pending_texts(db_session, org_id=org_id)
    assert report.removed == 121 and analyses(db_session, org_id) == []


def test_reanalyze_redoes_every_text(db_session: Session, rated_world: RatedWorld) -> None:
    org_id = rated_world.org_id
    send_message(db_session, org_id, "Where is my wardrobe? Still nothing.", "m-2")
    assert enrich_texts(org_id) == {"analyzed": 122, "failed": 0, "removed": 0}
    # given the organization learned a model after its texts were analysed by the default
    service.train_organization_sentiment(db_session, org_id=org_id)
    db_session.commit()
    # then the English analyses were marked stale by the model change and are redone
    assert enrich_texts(org_id)["analyzed"] == 122
    assert all(a.model.startswith("org") for a in analyses(db_session, org_id))
    # and reanalysis redoes everything again, on demand
    assert service.reanalyze_texts(db_session, org_id=org_id).marked == 122
    db_session.commit()
    assert enrich_texts(org_id)["analyzed"] == 122


def test_another_organization_sees_none_of_it(db_session: Session, rated_world: RatedWorld) -> None:
    other = make_tenant(db_session, "globex")
    message_id = send_message(db_session, rated_world.org_id, "The desk wobbles", "m-3")
    service.train_organization_sentiment(db_session, org_id=rated_world.org_id)
    service.analyze_pending_texts(db_session, org_id=rated_world.org_id)
    db_session.commit()
    assert service.list_sentiment_models(db_session, org_id=other.org_id) == []
    assert (
        service.list_text_analyses(
            db_session,
            org_id=other.org_id,
            source_kind=TextSourceKind.conversation_message,
            source_ids=[message_id],
        )
        == []
    )
    assert service.analyze_pending_texts(db_session, org_id=other.org_id).analyzed == 0


def test_the_periodic_job_learns_and_enriches(db_session: Session, rated_world: RatedWorld) -> None:
    answer_nps(db_session, rated_world, 3, "The bookcase doors hang crooked")
    db_session.commit()
    stop = threading.Event()
    worker = threading.Thread(
        target=enrich_and_learn_periodically,
        kwargs={"enrichment_seconds": 0.2, "learning_hours": 24, "stop": stop},
    )
    worker.start()
    try:
        deadline = utcnow() + timedelta(seconds=120)
        while len(analyses(db_session, rated_world.org_id)) < 122 and utcnow() < deadline:
            threading.Event().wait(0.2)
    finally:
        stop.set()
        worker.join()
    assert len(analyses(db_session, rated_world.org_id)) == 122
    [model] = service.list_sentiment_models(db_session, org_id=rated_world.org_id)
    assert model.chosen

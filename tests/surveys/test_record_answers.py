"""Recording answers at speed: concurrent submits of one token, and the cached questions."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from opencx.db import session_scope
from opencx.surveys import service
from opencx.surveys.models import SurveyInvitation, SurveyResponse, SurveyVersion
from opencx.surveys.schemas import QuestionIn
from tests.surveys.conftest import World, invite


def test_concurrent_first_submits_of_one_token_store_one_response(
    db_session: Session, world: World
) -> None:
    # given one token, submitted at the same moment from eight threads (a double click, retries)
    token = invite(db_session, world, world.anna_id)
    submitters = 8
    start = threading.Barrier(submitters)
    failures: list[BaseException] = []

    def submit(score: int) -> None:
        start.wait()
        try:
            with session_scope() as session:
                service.record_answers(
                    session,
                    token=token,
                    form={"shown": ["score", "why"], "q_score": [str(score)], "q_why": ["Ok"]},
                )
                # a slow commit, so that without a lock every submit reads "no response yet"
                time.sleep(0.2)
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=submit, args=(3 + n,)) for n in range(submitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then every submit succeeded and they all updated the token's one response
    assert failures == []
    db_session.expire_all()
    invitation_id = int(token.split("-")[0])
    responses = db_session.scalars(
        select(SurveyResponse).where(SurveyResponse.invitation_id == invitation_id)
    ).all()
    assert len(responses) == 1
    assert responses[0].score in range(3, 3 + submitters)
    assert responses[0].answers["why"] == "Ok"


def test_the_page_shows_the_stored_questions_even_if_the_cached_version_changes(
    db_session: Session, world: World
) -> None:
    # given a published version whose questions the public page has parsed (and cached)
    token = invite(db_session, world, world.anna_id)
    page = service.record_answers(
        db_session, token=token, form={"shown": ["score", "why"], "q_score": ["9"]}
    )
    db_session.commit()
    assert [q.key for q in page.questions] == ["score", "why"]
    # when the row under that version id holds other questions (another database with the same
    # ids, a restore): only a rating, worded differently
    invitation = db_session.get(SurveyInvitation, int(token.split("-")[0]))
    assert invitation is not None
    version_id = db_session.scalar(
        select(SurveyResponse.version_id).where(SurveyResponse.invitation_id == invitation.id)
    )
    score = QuestionIn.model_validate(
        {"key": "score", "kind": "rating", "text": {"en": "Rate us"}, "scale_max": 5}
    )
    db_session.execute(
        update(SurveyVersion)
        .where(SurveyVersion.id == version_id)
        .values(questions=[score.model_dump(mode="json", exclude_none=True)])
    )
    db_session.commit()
    # then the page and the answers follow the stored questions, not the cached ones
    page = service.get_survey_page(db_session, token=token)
    assert [(q.key, q.text, q.scale) for q in page.questions] == [
        ("score", "Rate us", [1, 2, 3, 4, 5])
    ]
    page = service.record_answers(
        db_session, token=token, form={"shown": ["score"], "q_score": ["5"]}
    )
    db_session.commit()
    assert page.completed and not page.pending


def test_a_new_draft_is_not_shown_until_it_is_published(db_session: Session, world: World) -> None:
    # given a respondent who answered version 1 (its questions parsed and cached)
    first = invite(db_session, world, world.anna_id)
    service.record_answers(db_session, token=first, form={"shown": ["score"], "q_score": ["9"]})
    db_session.commit()
    only_score = [
        q.model_copy(update={"required": False})
        for q in service.get_survey(
            db_session, org_id=world.org_id, survey_id=world.nps_survey_id
        ).questions[:1]
    ]
    # when version 2 is drafted, then new respondents still get version 1
    service.update_survey_questions(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, questions=only_score
    )
    db_session.commit()
    second = invite(db_session, world, world.piotr_id)
    page = service.get_survey_page(db_session, token=second)
    assert [q.key for q in page.questions] == ["score", "why"]
    # and once it is published, new respondents get it, the first keeps version 1
    service.publish_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    db_session.commit()
    third = invite(db_session, world, world.jane_id)
    assert [q.key for q in service.get_survey_page(db_session, token=third).questions] == ["score"]
    assert [q.key for q in service.get_survey_page(db_session, token=first).questions] == [
        "score",
        "why",
    ]

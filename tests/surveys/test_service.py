"""Survey use cases: versions, show-if, signed tokens, one response per token, consent, throttle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.auth import service as auth
from opencx.customers import service as customers
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.surveys import service
from opencx.surveys.models import SurveyResponse, SurveyStatus
from opencx.surveys.schemas import InvitationIn, QuestionIn, SurveyIn
from opencx.surveys.standard_questions import STANDARD_QUESTIONS
from tests.surveys.conftest import NOW, World, invite


def _responses(session: Session) -> list[SurveyResponse]:
    session.expire_all()
    return list(session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))


def test_templates_give_nps_csat_and_ces_questions_in_three_languages(
    db_session: Session, world: World
) -> None:
    # when a survey is made from each template
    for kind, scale in (("nps", (0, 10)), ("csat", (1, 5)), ("ces", (1, 7))):
        survey = service.create_survey(
            db_session, org_id=world.org_id, data=SurveyIn(name=kind, kind=kind)
        )
        # then it is a draft whose first question is the rating on the template's scale
        assert survey.status is SurveyStatus.draft and survey.version == 1
        first = survey.questions[0]
        assert (first.scale_min, first.scale_max) == scale
        assert all(q.text.nl and q.text.pl for q in survey.questions)


def test_a_custom_survey_needs_questions_and_valid_show_if(
    db_session: Session, world: World
) -> None:
    with pytest.raises(InvalidInput) as missing:
        service.create_survey(db_session, org_id=world.org_id, data=SurveyIn(name="x"))
    assert missing.value.field == "questions"
    # a show-if naming a later or unknown question is refused
    bad = [
        QuestionIn.model_validate(
            {
                "key": "why",
                "kind": "free_text",
                "text": {"en": "Why?"},
                "show_if": {"question": "score", "at_most": 6},
            }
        ),
        STANDARD_QUESTIONS["nps"][0],
    ]
    with pytest.raises(InvalidInput, match="earlier question"):
        service.create_survey(
            db_session, org_id=world.org_id, data=SurveyIn(name="x", questions=bad)
        )


def test_editing_a_published_survey_makes_a_new_version_and_old_answers_stay(
    db_session: Session, world: World
) -> None:
    # given an answer to version 1
    token = invite(db_session, world, world.anna_id)
    service.record_answers(
        db_session,
        token=token,
        form={"shown": ["score", "why"], "q_score": ["9"], "q_why": ["Snel"]},
    )
    db_session.commit()
    v1 = service.get_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    # when the questions are changed and published again
    changed = [q.model_copy(update={"required": False}) for q in v1.questions[:1]]
    edited = service.update_survey_questions(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, questions=changed
    )
    assert edited.version == 2 and edited.published_at is None
    # a draft is edited in place: no third version
    again = service.update_survey_questions(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id, questions=changed
    )
    assert again.version == 2 and again.version_id == edited.version_id
    published = service.publish_survey(
        db_session, org_id=world.org_id, survey_id=world.nps_survey_id
    )
    db_session.commit()
    # then version 1 and its answer are untouched, and the answer points at version 1
    (response,) = _responses(db_session)
    assert response.version_id == v1.version_id != published.version_id
    assert response.answers == {"score": 9, "why": "Snel"}
    # and a respondent who already started keeps answering version 1 (it still has "why")
    page = service.get_survey_page(db_session, token=token)
    assert [q.key for q in page.questions] == ["score", "why"]
    # while a new invitation gets version 2
    fresh = invite(db_session, world, world.piotr_id)
    assert [q.key for q in service.get_survey_page(db_session, token=fresh).questions] == ["score"]


def test_show_if_asks_what_went_wrong_only_of_detractors(db_session: Session, world: World) -> None:
    token = invite(db_session, world, world.jane_id)
    # given a first page without the follow-up question
    page = service.get_survey_page(db_session, token=token)
    assert [q.key for q in page.questions] == ["score", "why"]
    # when a detractor answers, then "what went wrong" appears and the survey is not done yet
    page = service.record_answers(
        db_session, token=token, form={"shown": ["score", "why"], "q_score": ["4"]}
    )
    assert [q.key for q in page.questions] == ["score", "why", "what_went_wrong"]
    assert page.pending and not page.completed
    page = service.record_answers(
        db_session,
        token=token,
        form={
            "shown": ["score", "why", "what_went_wrong"],
            "q_score": ["4"],
            "q_what_went_wrong": ["Late"],
        },
    )
    assert page.completed and not page.pending
    # when the same respondent changes to a promoter, the hidden answer is dropped
    page = service.record_answers(
        db_session,
        token=token,
        form={
            "shown": ["score", "why", "what_went_wrong"],
            "q_score": ["10"],
            "q_what_went_wrong": ["Late"],
        },
    )
    db_session.commit()
    (response,) = _responses(db_session)
    assert response.answers == {"score": 10} and response.score == 10 and response.completed


def test_one_response_per_token_however_often_it_is_submitted(
    db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.anna_id, touchpoint_id=None, team="Service NL")
    # when the respondent submits a partial answer, then a full one, twice
    service.record_answers(db_session, token=token, form={"shown": ["why"], "q_why": ["Goed"]})
    db_session.commit()
    partial = _responses(db_session)
    assert len(partial) == 1 and partial[0].answers == {"why": "Goed"} and not partial[0].completed
    for _ in range(2):
        service.record_answers(db_session, token=token, form={"shown": ["score"], "q_score": ["8"]})
        db_session.commit()
    # then there is still one response, with both answers kept, credited to the source
    (response,) = _responses(db_session)
    assert response.id == partial[0].id
    assert response.answers == {"why": "Goed", "score": 8}
    assert response.team == "Service NL" and response.language == "nl" and response.kind == "nps"


def test_a_bad_answer_is_refused_and_nothing_is_stored(db_session: Session, world: World) -> None:
    token = invite(db_session, world, world.anna_id)
    with pytest.raises(InvalidInput) as error:
        service.record_answers(
            db_session, token=token, form={"shown": ["score"], "q_score": ["11"]}
        )
    assert error.value.field == "q_score"
    db_session.rollback()
    assert _responses(db_session) == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: str(int(t.split("-")[0]) + 1) + t[t.index("-") :],  # another invitation id
        lambda t: "-".join(
            [t.split("-")[0], str(int(t.split("-")[1]) + 86400 * 365), t.split("-")[2]]
        ),
        lambda t: "not-a-token",
    ],
)
def test_a_tampered_token_is_not_found_and_nothing_is_stored(
    db_session: Session, world: World, tamper
) -> None:  # type: ignore[no-untyped-def]
    token = tamper(invite(db_session, world, world.anna_id))
    with pytest.raises(NotFound):
        service.get_survey_page(db_session, token=token)
    with pytest.raises(NotFound):
        service.record_answers(db_session, token=token, form={"shown": ["score"], "q_score": ["9"]})
    assert _responses(db_session) == []


def test_an_expired_token_or_closed_survey_answers_nothing(
    db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.anna_id, valid_days=1)
    later = NOW + timedelta(days=2)
    with pytest.raises(service.SurveyLinkExpired):
        service.record_answers(
            db_session, token=token, form={"shown": ["score"], "q_score": ["9"]}, now=later
        )
    service.close_survey(db_session, org_id=world.org_id, survey_id=world.nps_survey_id)
    with pytest.raises(service.SurveyLinkExpired):
        service.get_survey_page(db_session, token=token)
    assert _responses(db_session) == []


def test_invitations_need_consent_for_surveys_on_that_channel(
    db_session: Session, world: World
) -> None:
    # given Silent never agreed to surveys, and Anna agreed by email only
    with pytest.raises(service.InvitationRefused, match="consent"):
        invite(db_session, world, world.silent_id)
    with pytest.raises(service.InvitationRefused, match="consent"):
        service.create_invitation(
            db_session,
            org_id=world.org_id,
            survey_id=world.nps_survey_id,
            data=InvitationIn(customer_id=world.anna_id, channel="sms"),
        )
    # and an erased customer is never invited
    customers.erase_customer(
        db_session, org_id=world.org_id, customer_id=world.jane_id, requested_by="test"
    )
    with pytest.raises(service.InvitationRefused):
        invite(db_session, world, world.jane_id)


def test_a_customer_is_invited_at_most_once_per_throttle_period(
    db_session: Session, world: World
) -> None:
    invite(db_session, world, world.anna_id)
    with pytest.raises(service.InvitationRefused, match="30 days"):
        invite(db_session, world, world.anna_id)
    # after the period (default 30 days) an invitation is allowed again
    later = service.create_invitation(
        db_session,
        org_id=world.org_id,
        survey_id=world.nps_survey_id,
        data=InvitationIn(customer_id=world.anna_id, channel="email"),
        now=NOW + timedelta(days=31),
    )
    assert later.language == "nl"
    # and the organization can shorten the period
    org = auth.get_organization(db_session, org_id=world.org_id)
    org.settings = {**org.settings, service.THROTTLE_SETTING: 0}
    db_session.flush()
    invite(db_session, world, world.piotr_id)
    invite(db_session, world, world.piotr_id)


def test_invitations_only_for_active_surveys_and_own_sources(
    db_session: Session, world: World
) -> None:
    draft = service.create_survey(
        db_session, org_id=world.org_id, data=SurveyIn(name="d", kind="ces")
    )
    with pytest.raises(Conflict):
        service.create_invitation(
            db_session,
            org_id=world.org_id,
            survey_id=draft.id,
            data=InvitationIn(customer_id=world.anna_id, channel="email"),
        )
    for source in ({"touchpoint_id": 999999}, {"order_id": 999999}, {"agent_id": 999999}):
        with pytest.raises(NotFound):
            invite(db_session, world, world.anna_id, **source)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


def test_feedback_shows_on_the_timeline_and_erasure_blanks_free_text(
    db_session: Session, world: World
) -> None:
    token = invite(db_session, world, world.anna_id)
    service.record_answers(
        db_session,
        token=token,
        form={
            "shown": ["score", "why", "what_went_wrong"],
            "q_score": ["3"],
            "q_why": ["Mijn naam is Anna"],
            "q_what_went_wrong": ["Te laat"],
        },
    )
    db_session.commit()
    timeline = customers.get_customer_timeline(
        db_session, org_id=world.org_id, customer_id=world.anna_id
    )
    feedback = [e for e in timeline if e.kind == "feedback"]
    assert len(feedback) == 1 and feedback[0].title.startswith("NPS 3")
    export = customers.export_customer(db_session, org_id=world.org_id, customer_id=world.anna_id)
    assert export["survey_responses"][0]["answers"]["why"] == "Mijn naam is Anna"
    # when Anna is erased, then her words are gone and her score stays for the aggregates
    customers.erase_customer(
        db_session, org_id=world.org_id, customer_id=world.anna_id, requested_by="test"
    )
    db_session.commit()
    (response,) = _responses(db_session)
    assert response.answers == {"score": 3, "why": "", "what_went_wrong": ""}

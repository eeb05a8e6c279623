"""`opencx text learn | enrich | reanalyze`, run for real against the test database."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from opencx.cli import app
from opencx.textanalytics import service
from tests.conftest import Tenant
from tests.textanalytics.conftest import RatedWorld, send_message

runner = CliRunner()


def test_learn_enrich_and_reanalyze_from_the_command_line(
    db_session: Session, tenant: Tenant, rated_world: RatedWorld
) -> None:
    send_message(db_session, tenant.org_id, "The desk drawer rails jam halfway", "m-1")
    learned = runner.invoke(app, ["text", "learn", "--org", tenant.slug])
    assert learned.exit_code == 0, learned.output
    assert "en: 60 negative, 60 positive  default acc" in learned.output
    assert "-> learned model used" in learned.output
    enriched = runner.invoke(app, ["text", "enrich", "--org", tenant.slug])
    assert enriched.output.strip() == "122 analysed, 0 failed (retried later), 0 removed"
    again = runner.invoke(app, ["text", "reanalyze", "--org", tenant.slug])
    assert again.output.strip() == "122 marked; 122 analysed, 0 failed"
    db_session.expire_all()
    [model] = service.list_sentiment_models(db_session, org_id=tenant.org_id)
    assert model.chosen


def test_an_unknown_organization_is_an_error(settings_env: object) -> None:
    result = runner.invoke(app, ["text", "learn", "--org", "nope"])
    assert result.exit_code == 1 and "nope" in result.output


def test_topics_and_phrases_from_the_command_line(
    db_session: Session, tenant: Tenant, settings_env: object
) -> None:
    from tests.text.test_topics import two_themes

    # given fifty analysed messages about late deliveries and damaged items
    for i, text in enumerate(two_themes(25, seed=11)[0]):
        send_message(db_session, tenant.org_id, text, f"<t-{i}@example.com>")
    assert runner.invoke(app, ["text", "enrich", "--org", tenant.slug]).exit_code == 0
    # before learning, there is nothing to show
    empty = runner.invoke(app, ["text", "topics", "--org", tenant.slug])
    assert empty.exit_code == 0 and "no topics yet" in empty.output
    # when the topics are learned from the command line
    learned = runner.invoke(app, ["text", "topics", "--org", tenant.slug, "--learn"])
    # then two English topics are printed with their volume and top phrases
    assert learned.exit_code == 0, learned.output
    assert "en: 2 topics from 50 texts" in learned.output
    assert learned.output.count("[en]") == 2 and "late delivery" in learned.output
    phrases = runner.invoke(app, ["text", "phrases", "--lang", "nl", "Snelle levering, kast kapot"])
    assert phrases.output.splitlines()[1].strip() == "nl: snelle levering · kast kapot"

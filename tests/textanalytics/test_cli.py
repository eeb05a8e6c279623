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

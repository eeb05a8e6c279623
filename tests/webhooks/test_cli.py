"""`opencx webhooks deliver`: a delivery whose job never ran (a restart) is sent from the outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from opencx.cli import app
from opencx.surveys import service as surveys
from opencx.webhooks import service
from opencx.webhooks.schemas import WebhookIn
from tests.surveys.conftest import World, invite
from tests.webhooks.conftest import Receiver


def test_deliver_sends_what_the_outbox_holds_after_a_restart(
    db_session: Session, world: World, receiver: Receiver
) -> None:
    # given a webhook and an answer whose delivery job never ran (the server stopped at commit)
    service.create_webhook(
        db_session,
        org_id=world.org_id,
        data=WebhookIn(url=receiver.url, event_types=["survey.response.created"]),
    )
    db_session.commit()
    surveys.record_answers(
        db_session,
        token=invite(db_session, world, world.anna_id),
        form={"shown": ["score"], "q_score": ["8"]},
    )
    db_session.info.pop("opencx_webhook_deliveries")
    db_session.commit()
    assert receiver.requests == []

    # when cron runs the dispatcher
    result = CliRunner().invoke(app, ["webhooks", "deliver"])

    # then the response reaches the receiver, once
    assert result.exit_code == 0, result.output
    assert "1 attempted: 1 delivered, 0 to retry, 0 failed" in result.output
    (request,) = receiver.wait_for(1)
    assert request.headers["x-opencx-event"] == "survey.response.created"
    again = CliRunner().invoke(app, ["webhooks", "deliver"])
    assert "0 attempted" in again.output and len(receiver.requests) == 1

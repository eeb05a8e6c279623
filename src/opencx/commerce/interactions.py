"""Commerce interactions (an order placed, a delivery delivered) told to whoever listens.

Commerce must not know who cares: another domain (surveys, to invite the customer) registers a
handler `(session, org_id, interactions) -> None` with `register_interaction_handler`. Handlers
run in the same transaction as the order or delivery change, with a whole batch at once (an
import of 20,000 orders is one call), and must not fail the change for a business refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

InteractionKind = Literal["order_placed", "delivery_delivered"]


@dataclass(frozen=True)
class CommerceInteraction:
    kind: InteractionKind
    customer_id: int
    order_id: int
    # Where the order was placed (web, app, store, phone).
    order_channel: str
    occurred_at: datetime


InteractionHandler = Callable[[Session, int, list[CommerceInteraction]], None]
_handlers: dict[str, InteractionHandler] = {}


def register_interaction_handler(name: str, handler: InteractionHandler) -> None:
    """Add (or replace) a named handler of commerce interactions."""
    _handlers[name] = handler


def emit_interactions(
    session: Session, *, org_id: int, interactions: list[CommerceInteraction]
) -> None:
    """Pass interactions that just happened (in this transaction) to every handler."""
    if not interactions:
        return
    for handler in _handlers.values():
        handler(session, org_id, interactions)

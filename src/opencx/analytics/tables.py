"""The analytics store's tables: which operational columns are copied, with their types.

Each table is an allow-list: a column not named here never leaves the operational store, so
names, identity values, tracking codes, notes and consent sources stay out of analytics.
Types are Ibis types, so the same definition gives DuckDB DDL here and ClickHouse DDL elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import sqlalchemy as sa
from ibis.backends.sql.datatypes import DuckDBType

from opencx.commerce.models import (
    Delivery,
    DeliveryStatusChange,
    Order,
    OrderLine,
    Payment,
    Product,
)
from opencx.conversations.models import Conversation, ConversationSla, Message
from opencx.customers.models import ConsentRecord, Customer
from opencx.journeys.models import Event, Touchpoint
from opencx.surveys.follow_ups.models import SurveyFollowUp
from opencx.surveys.models import SurveyInvitation, SurveyResponse
from opencx.text import EMOTIONS
from opencx.textanalytics.models import AnalyzedText

ID = dt.Int64(nullable=False)
REF = dt.int64
# Timezone-aware UTC, so day and week boundaries do not depend on a server's time zone.
MOMENT = dt.Timestamp(timezone="UTC", scale=6)
REQUIRED_MOMENT = dt.Timestamp(timezone="UTC", scale=6, nullable=False)
TEXT = dt.string
MONEY = dt.Decimal(12, 2)
RECORD = {"id": ID, "org_id": ID}
STAMPS = {"created_at": REQUIRED_MOMENT, "updated_at": REQUIRED_MOMENT}


@dataclass(frozen=True)
class AnalyticsTable:
    """One table copied from the operational store: its source and its columns, in order."""

    name: str
    source: sa.Table
    schema: ibis.Schema

    def duckdb_ddl(self) -> str:
        columns = ", ".join(
            f'"{name}" {DuckDBType.to_string(dtype)}{"" if dtype.nullable else " NOT NULL"}'
            for name, dtype in self.schema.items()
        )
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" ({columns})'


def _table(model: type, columns: dict[str, dt.DataType]) -> AnalyticsTable:
    source: sa.Table = model.__table__  # type: ignore[attr-defined]
    return AnalyticsTable(
        name=source.name, source=source, schema=ibis.schema({**RECORD, **columns, **STAMPS})
    )


ANALYTICS_TABLES: tuple[AnalyticsTable, ...] = (
    _table(
        Customer,
        {
            "language": TEXT,
            "country": TEXT,
            "city": TEXT,
            "segments": dt.Array(dt.string),
            "merged_into_id": REF,
            "erased_at": MOMENT,
        },
    ),
    _table(
        Touchpoint,
        {
            "key": TEXT,
            "name": TEXT,
            "stage": TEXT,
            "channel": TEXT,
            "is_online": dt.boolean,
            "department": TEXT,
        },
    ),
    _table(
        Event,
        {
            "event_id": TEXT,
            "customer_id": REF,
            "anonymous_id": TEXT,
            "session_id": TEXT,
            "touchpoint_id": REF,
            "type": TEXT,
            "occurred_at": MOMENT,
            "device": TEXT,
            "properties": TEXT,  # JSON text
        },
    ),
    _table(
        Product,
        {
            "sku": TEXT,
            "name": TEXT,
            "kind": TEXT,
            "category": TEXT,
            "price": MONEY,
            "currency": TEXT,
        },
    ),
    _table(
        Order,
        {
            "external_id": TEXT,
            "customer_id": REF,
            "channel": TEXT,
            "store": TEXT,
            "country": TEXT,
            "placed_at": MOMENT,
            "currency": TEXT,
            "total_amount": MONEY,
        },
    ),
    _table(
        OrderLine,
        {"order_id": REF, "product_id": REF, "quantity": dt.int64, "unit_price": MONEY},
    ),
    _table(
        Payment,
        {
            "order_id": REF,
            "kind": TEXT,
            "amount": MONEY,
            "method": TEXT,
            "occurred_at": MOMENT,
        },
    ),
    _table(
        Delivery,
        {
            "order_id": REF,
            "carrier": TEXT,
            "status": TEXT,
            "promised_at": MOMENT,
            "delivered_at": MOMENT,
        },
    ),
    _table(
        DeliveryStatusChange,
        {"delivery_id": REF, "status": TEXT, "occurred_at": MOMENT},
    ),
    _table(
        ConsentRecord,
        {
            "customer_id": REF,
            "purpose": TEXT,
            "channel": TEXT,
            "status": TEXT,
            "occurred_at": MOMENT,
        },
    ),
    _table(
        SurveyInvitation,
        {
            "survey_id": REF,
            "customer_id": REF,
            "channel": TEXT,
            "language": TEXT,
            "touchpoint_id": REF,
            "order_id": REF,
            "conversation_id": REF,
            "agent_id": REF,
            "team": TEXT,
            "expires_at": MOMENT,
            "sent_at": MOMENT,
        },
    ),
    # Scores and where they came from; the answers (free text, comments) are never copied.
    _table(
        SurveyResponse,
        {
            "invitation_id": REF,
            "survey_id": REF,
            "version_id": REF,
            "customer_id": REF,
            "kind": TEXT,
            "channel": TEXT,
            "language": TEXT,
            "touchpoint_id": REF,
            "agent_id": REF,
            "team": TEXT,
            "score": dt.int64,
            "completed": dt.boolean,
            "submitted_at": MOMENT,
        },
    ),
    # Service desk: who, where, when and how a conversation went; subjects and bodies stay behind.
    _table(
        Conversation,
        {
            "customer_id": REF,
            "channel": TEXT,
            "status": TEXT,
            "priority": TEXT,
            "tags": dt.Array(dt.string),
            "assignee_id": REF,
            "team": TEXT,
            "touchpoint_id": REF,
            "first_response_at": MOMENT,
            "resolved_at": MOMENT,
            "reopened_count": dt.int64,
            "last_message_at": MOMENT,
            "merged_into_id": REF,
        },
    ),
    _table(
        Message,
        {
            "conversation_id": REF,
            "channel": TEXT,
            "direction": TEXT,
            "author_kind": TEXT,
            "author_user_id": REF,
            "sent_at": MOMENT,
        },
    ),
    # The closed loop's ids, statuses and times; note texts stay in the operational store.
    _table(
        SurveyFollowUp,
        {
            "response_id": REF,
            "survey_id": REF,
            "customer_id": REF,
            "owner_id": REF,
            "agent_id": REF,
            "team": TEXT,
            "touchpoint_id": REF,
            "score": dt.int64,
            "status": TEXT,
            "opened_at": MOMENT,
            "due_at": MOMENT,
            "contacted_at": MOMENT,
            "resolved_at": MOMENT,
        },
    ),
    # Sentiment and emotions of each message or comment; never its words, field or model.
    _table(
        AnalyzedText,
        {
            "source_kind": TEXT,
            "source_id": REF,
            "language": TEXT,
            "sentiment": TEXT,
            "sentiment_score": dt.float64,
            **dict.fromkeys(EMOTIONS, dt.float64),
            "status": TEXT,
            "analyzed_at": MOMENT,
        },
    ),
    # SLA clocks: targets and the moments they were due, met or breached; ids, no words.
    _table(
        ConversationSla,
        {
            "conversation_id": REF,
            "policy_id": REF,
            "business_hours": dt.boolean,
            "started_at": MOMENT,
            "first_response_target_minutes": dt.int64,
            "first_response_due_at": MOMENT,
            "first_response_met_at": MOMENT,
            "first_response_breached_at": MOMENT,
            "resolution_target_minutes": dt.int64,
            "resolution_due_at": MOMENT,
            "resolution_met_at": MOMENT,
            "resolution_breached_at": MOMENT,
        },
    ),
)

TABLES_BY_NAME = {table.name: table for table in ANALYTICS_TABLES}

SYNC_STATE_DDL = (
    "CREATE TABLE IF NOT EXISTS _sync_state ("
    "table_name VARCHAR PRIMARY KEY, watermark TIMESTAMPTZ NOT NULL, synced_at TIMESTAMPTZ NOT NULL)"
)

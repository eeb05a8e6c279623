"""Pydantic shapes for products, orders, payments, deliveries and the commerce reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from opencx.commerce.models import DeliveryStatus, OrderChannel, PaymentKind, ProductKind
from opencx.db import RowId

Amount = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
# Offsets are accepted on input and turned into UTC, the only zone OpenCX keeps.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    kind: ProductKind = ProductKind.product
    category: str = Field(default="", max_length=100)
    price: Amount
    currency: CurrencyCode = "EUR"


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    kind: ProductKind
    category: str
    price: Decimal
    currency: str
    updated_at: datetime


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0)
    unit_price: Amount


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: PaymentKind = PaymentKind.payment
    amount: Amount
    method: str = Field(default="", max_length=50)
    occurred_at: UtcDatetime


class DeliveryStatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: DeliveryStatus
    occurred_at: UtcDatetime
    note: str = Field(default="", max_length=500)


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: str = Field(default="", max_length=100)
    tracking_code: str | None = Field(default=None, max_length=100)
    promised_at: UtcDatetime
    status_history: list[DeliveryStatusIn] = Field(default_factory=list)


class OrderIn(BaseModel):
    """One order as a shop system sends it; the total is computed from the lines."""

    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=100)
    customer_id: RowId | None = None
    channel: OrderChannel
    store: str | None = Field(default=None, max_length=100)
    country: CountryCode | None = None
    placed_at: UtcDatetime
    currency: CurrencyCode = "EUR"
    lines: list[OrderLineIn] = Field(min_length=1)
    payments: list[PaymentIn] = Field(default_factory=list)
    deliveries: list[DeliveryIn] = Field(default_factory=list)


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    customer_id: int | None
    channel: OrderChannel
    store: str | None
    country: str | None
    placed_at: datetime
    currency: str
    total_amount: Decimal


class OrderLineOut(BaseModel):
    id: int
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: PaymentKind
    amount: Decimal
    method: str
    occurred_at: datetime


class DeliveryStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: DeliveryStatus
    occurred_at: datetime
    note: str


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    carrier: str
    tracking_code: str | None
    status: DeliveryStatus
    promised_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    status_history: list[DeliveryStatusOut] = Field(default_factory=list)


class OrderDetail(OrderOut):
    """An order with its lines, payments and deliveries (each with its status history)."""

    lines: list[OrderLineOut]
    payments: list[PaymentOut]
    deliveries: list[DeliveryDetail]


class ProductBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: list[ProductIn] = Field(min_length=1, max_length=10_000)


class OrderImportBatch(BaseModel):
    """Raw order rows: each is validated on its own, so errors name the row and the field."""

    model_config = ConfigDict(extra="forbid")

    orders: list[dict[str, Any]] = Field(min_length=1, max_length=50_000)


class UnitsSoldRow(BaseModel):
    week_start: date = Field(description="Monday of the ISO week (UTC)")
    product_id: int
    sku: str
    name: str
    units: int


class LateDelivery(BaseModel):
    delivery_id: int
    order_id: int
    order_external_id: str
    customer_id: int | None
    carrier: str
    status: DeliveryStatus
    promised_at: datetime
    delivered_at: datetime | None
    days_late: float = Field(description="days past the promise: until delivery, or until now")


class OrdersWeek(BaseModel):
    week_start: date = Field(description="Monday of the ISO week (UTC)")
    orders: int


class OrderSummary(BaseModel):
    """The commerce figures of the overview dashboard."""

    orders_last_30_days: int
    late_deliveries_last_30_days: int = Field(
        description="promised in the last 30 days and delivered late or not yet delivered"
    )
    orders_per_week: list[OrdersWeek] = Field(description="oldest week first, empty weeks as 0")

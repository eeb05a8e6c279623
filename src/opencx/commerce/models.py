"""Products and services, orders with lines, payments and refunds, deliveries with status history."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opencx.db import Base, BigId, OrgRecord

Money = Numeric(12, 2)


class ProductKind(enum.StrEnum):
    product = "product"
    service = "service"


class OrderChannel(enum.StrEnum):
    web = "web"
    app = "app"
    store = "store"
    phone = "phone"


class PaymentKind(enum.StrEnum):
    payment = "payment"
    refund = "refund"


class DeliveryStatus(enum.StrEnum):
    ordered = "ordered"
    shipped = "shipped"
    delayed = "delayed"
    delivered = "delivered"
    returned = "returned"


class Product(OrgRecord, Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("org_id", "sku", name="uq_product_sku"),)

    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[ProductKind] = mapped_column(Enum(ProductKind, native_enum=False, length=20))
    category: Mapped[str] = mapped_column(String(100), default="")
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")


class Order(OrgRecord, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("org_id", "external_id", name="uq_order_external_id"),
        Index("ix_orders_org_placed", "org_id", "placed_at"),
    )

    external_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"), index=True, default=None
    )
    channel: Mapped[OrderChannel] = mapped_column(Enum(OrderChannel, native_enum=False, length=20))
    store: Mapped[str | None] = mapped_column(String(100), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    placed_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_amount: Mapped[Decimal] = mapped_column(Money)


class OrderLine(OrgRecord, Base):
    __tablename__ = "order_lines"

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)


class Payment(OrgRecord, Base):
    __tablename__ = "payments"

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PaymentKind] = mapped_column(Enum(PaymentKind, native_enum=False, length=20))
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(50), default="")
    occurred_at: Mapped[datetime]


class Delivery(OrgRecord, Base):
    __tablename__ = "deliveries"

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    carrier: Mapped[str] = mapped_column(String(100), default="")
    tracking_code: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20)
    )
    promised_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class DeliveryStatusChange(OrgRecord, Base):
    __tablename__ = "delivery_status_changes"

    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20)
    )
    occurred_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(500), default="")

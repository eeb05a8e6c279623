"""The `opencx` command line, run for real against the test database: imports, demo, users, keys."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from opencx.auth import service as auth_service
from opencx.auth.models import Organization, Role
from opencx.cli import app
from opencx.commerce import service as commerce_service
from opencx.commerce.models import Order, OrderLine, Payment
from opencx.commerce.schemas import ProductIn
from opencx.customers import service as customers_service
from opencx.customers.models import Customer
from opencx.journeys import service as journeys_service
from opencx.journeys.models import Event
from opencx.journeys.schemas import TouchpointIn
from tests.conftest import Tenant

runner = CliRunner()


def opencx(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def rows(session: Session, model: type) -> int:
    session.rollback()  # end any open read, so the count sees what the CLI committed
    return session.scalar(select(func.count()).select_from(model)) or 0


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shop(db_session: Session, tenant: Tenant) -> Tenant:
    """The tenant with two customers, two products and two touchpoints."""
    customers_service.import_customers(
        db_session,
        org_id=tenant.org_id,
        rows=[
            {"first_name": "Sanne", "identities": [{"kind": "email", "value": "sanne@example.nl"}]},
            {"first_name": "Jan", "identities": [{"kind": "email", "value": "jan@example.pl"}]},
        ],
        source="test",
    )
    commerce_service.upsert_products(
        db_session,
        org_id=tenant.org_id,
        products=[
            ProductIn(sku="SOFA-1", name="Sofa", category="sofas", price=Decimal("899")),
            ProductIn(sku="CUSH-1", name="Cushion", category="textiles", price=Decimal("29")),
        ],
    )
    journeys_service.upsert_touchpoints(
        db_session,
        org_id=tenant.org_id,
        touchpoints=[
            TouchpointIn(key="web-product-page", name="Product page", stage="consideration",
                         channel="web", is_online=True, department="sales"),
            TouchpointIn(key="live-chat", name="Chat", stage="service", channel="chat",
                         is_online=True, department="service"),
        ],
    )  # fmt: skip
    db_session.commit()
    return tenant


# -- customers ------------------------------------------------------------------------------------

CUSTOMERS_CSV = """first_name,last_name,email,phone,language,country,city,segments
Sanne,de Vries,sanne@example.nl,+31 6 1234 5678,nl,NL,Utrecht,new;vip
Jan,Kowalski,jan@example.pl,,pl,PL,Kraków,
Oliver,Hughes,,+447700900123,en,GB,Leeds,b2b
"""


def test_import_customers_from_csv(db_session: Session, tenant: Tenant, tmp_path: Path) -> None:
    # given a CSV of three customers
    path = write(tmp_path, "customers.csv", CUSTOMERS_CSV)
    # when it is imported
    result = opencx("import", "customers", path, "--org", tenant.slug)
    # then all three are created, with their segments split on ";"
    assert result.exit_code == 0, result.output
    assert "3 read, 3 created" in result.output
    assert rows(db_session, Customer) == 3
    sanne = customers_service.find_customer_id(
        db_session, org_id=tenant.org_id, kind="phone", value="+31612345678"
    )
    assert sanne is not None
    stored = customers_service.get_customer(db_session, org_id=tenant.org_id, customer_id=sanne)
    assert stored.segments == ["new", "vip"]


def test_a_bad_customer_row_imports_nothing(
    db_session: Session, tenant: Tenant, tmp_path: Path
) -> None:
    # given a CSV whose third and fifth lines are bad
    path = write(
        tmp_path,
        "customers.csv",
        CUSTOMERS_CSV.replace("jan@example.pl", "jan-at-example")
        + "Nobody,Without,,,en,GB,York,\n"
        + "Ewa,Nowak,ewa@example.pl,,pl,XX,Gdańsk,\n",
    )
    # when it is imported
    result = opencx("import", "customers", path, "--org", tenant.slug)
    # then the command fails, naming each bad line and field, and no customer is stored
    assert result.exit_code == 1
    assert "line 3: email:" in result.output
    assert "line 5: email: give an email, phone or external_id" in result.output
    assert "line 6: country:" in result.output
    assert "nothing imported" in result.output
    assert rows(db_session, Customer) == 0


def test_import_customers_from_jsonl(db_session: Session, tenant: Tenant, tmp_path: Path) -> None:
    # given a JSONL file with a bad language on its second line
    good = {
        "first_name": "Lotte",
        "language": "nl",
        "identities": [{"kind": "email", "value": "lotte@example.be"}],
    }
    bad = {**good, "language": "dutch", "identities": [{"kind": "email", "value": "x@example.be"}]}
    path = write(tmp_path, "customers.jsonl", f"{json.dumps(good)}\n{json.dumps(bad)}\n")
    # when it is imported, then line 2's language is reported and nothing is stored
    result = opencx("import", "customers", path, "--org", tenant.slug)
    assert result.exit_code == 1
    assert "line 2: language:" in result.output
    assert rows(db_session, Customer) == 0
    # when only the good line is imported, then it is stored
    path.write_text(json.dumps(good) + "\n")
    result = opencx("import", "customers", path, "--org", tenant.slug)
    assert result.exit_code == 0, result.output
    assert rows(db_session, Customer) == 1


# -- orders ---------------------------------------------------------------------------------------

ORDERS_CSV = """external_id,customer_email,channel,store,country,placed_at,currency,sku,quantity,unit_price,payment_method
A-1,sanne@example.nl,web,,NL,2025-06-01T10:00:00+02:00,EUR,SOFA-1,1,899.00,ideal
A-1,sanne@example.nl,web,,NL,2025-06-01T10:00:00+02:00,EUR,CUSH-1,2,29.00,ideal
A-2,jan@example.pl,store,Kraków,PL,2025-06-02T12:30:00Z,PLN,CUSH-1,1,129.99,card
"""


def test_import_orders_from_csv_groups_lines(
    db_session: Session, shop: Tenant, tmp_path: Path
) -> None:
    # given a CSV with one row per order line
    path = write(tmp_path, "orders.csv", ORDERS_CSV)
    # when it is imported
    result = opencx("import", "orders", path, "--org", shop.slug)
    # then two orders with three lines are stored, each paid in full, for the named customers
    assert result.exit_code == 0, result.output
    assert "2 read, 2 created" in result.output
    assert rows(db_session, Order) == 2
    assert rows(db_session, OrderLine) == 3
    amounts = sorted(db_session.scalars(select(Payment.amount)))
    assert amounts == [Decimal("129.99"), Decimal("957.00")]
    sanne = customers_service.find_customer_id(
        db_session, org_id=shop.org_id, kind="email", value="sanne@example.nl"
    )
    assert db_session.scalar(select(Order.customer_id).where(Order.external_id == "A-1")) == sanne
    # when the same file is imported again, then nothing is stored twice
    again = opencx("import", "orders", path, "--org", shop.slug)
    assert again.exit_code == 0 and "2 already there" in again.output
    assert rows(db_session, Order) == 2


def test_a_bad_order_line_imports_nothing(
    db_session: Session, shop: Tenant, tmp_path: Path
) -> None:
    # given an unknown SKU on line 3, a quantity that is not a number on line 4,
    # and an unknown customer on line 5
    text = (
        ORDERS_CSV.replace("CUSH-1,2,29.00", "NOPE-9,2,29.00").replace(
            "CUSH-1,1,129.99", "CUSH-1,one,129.99"
        )
        + "A-3,who@example.nl,web,,NL,2025-06-03T09:00:00Z,EUR,SOFA-1,1,899.00,\n"
    )
    path = write(tmp_path, "orders.csv", text)
    # when it is imported
    result = opencx("import", "orders", path, "--org", shop.slug)
    # then every problem is reported at its line and field, and no order is stored
    assert result.exit_code == 1
    assert "line 3: sku: unknown sku 'NOPE-9'" in result.output
    assert "line 4: quantity:" in result.output
    assert "line 5: customer_email: no customer with email who@example.nl" in result.output
    assert rows(db_session, Order) == 0


def test_order_columns_must_agree_within_an_order(
    db_session: Session, shop: Tenant, tmp_path: Path
) -> None:
    # given an order whose second line names another channel
    path = write(
        tmp_path,
        "orders.csv",
        ORDERS_CSV.replace(
            "NL,2025-06-01T10:00:00+02:00,EUR,CUSH", "NL,2025-06-01T11:00:00+02:00,EUR,CUSH"
        ),
    )
    # when it is imported, then the disagreeing column is named at its line
    result = opencx("import", "orders", path, "--org", shop.slug)
    assert result.exit_code == 1
    assert "line 3: placed_at: differs from line 2 of this order" in result.output
    assert rows(db_session, Order) == 0


# -- events ---------------------------------------------------------------------------------------

EVENTS_CSV = """event_id,customer_email,anonymous_id,session_id,touchpoint,type,timestamp,device,properties
e-1,sanne@example.nl,,s-1,web-product-page,product_view,2025-06-01T09:00:00Z,mobile,"{""sku"": ""SOFA-1""}"
e-2,,anon-7,s-2,web-product-page,product_view,2025-06-01T09:05:00Z,desktop,
e-3,jan@example.pl,,,live-chat,chat_started,2025-06-02T15:00:00Z,desktop,"{""text"": ""Gdzie jest moja sofa?""}"
"""


def test_import_events_from_csv(db_session: Session, shop: Tenant, tmp_path: Path) -> None:
    # given a CSV of events, properties as JSON
    path = write(tmp_path, "events.csv", EVENTS_CSV)
    # when it is imported
    result = opencx("import", "events", path, "--org", shop.slug)
    # then every event is stored with its properties
    assert result.exit_code == 0, result.output
    assert "3 read, 3 created" in result.output
    assert rows(db_session, Event) == 3
    chat = db_session.scalar(select(Event).where(Event.event_id == "e-3"))
    assert chat is not None and chat.properties == {"text": "Gdzie jest moja sofa?"}


def test_a_bad_event_imports_nothing_even_when_others_are_valid(
    db_session: Session, shop: Tenant, tmp_path: Path
) -> None:
    # given events where only line 3 names a touchpoint that does not exist
    path = write(
        tmp_path,
        "events.csv",
        EVENTS_CSV.replace("e-2,,anon-7,s-2,web-product-page", "e-2,,anon-7,s-2,kiosk"),
    )
    # when it is imported
    result = opencx("import", "events", path, "--org", shop.slug)
    # then line 3's touchpoint is reported and not even the valid events are stored
    assert result.exit_code == 1
    assert "line 3: touchpoint: unknown touchpoint key 'kiosk'" in result.output
    assert rows(db_session, Event) == 0


def test_import_events_from_jsonl(db_session: Session, shop: Tenant, tmp_path: Path) -> None:
    # given JSONL events: line 2 is not JSON, line 3 has a timestamp without a timezone
    good = {"event_id": "j-1", "customer_email": "jan@example.pl", "touchpoint": "live-chat",
            "type": "chat_started", "timestamp": "2025-06-02T15:00:00+02:00"}  # fmt: skip
    bad_time = {**good, "event_id": "j-2", "timestamp": "2025-06-02T15:00:00"}
    lines = [json.dumps(good), "{not json", json.dumps(bad_time)]
    path = write(tmp_path, "events.jsonl", "\n".join(lines) + "\n")
    # when it is imported, then lines 2 and 3 are reported and nothing is stored
    result = opencx("import", "events", path, "--org", shop.slug)
    assert result.exit_code == 1
    assert "line 2: row: not valid JSON" in result.output
    assert "line 3: timestamp:" in result.output
    assert rows(db_session, Event) == 0
    # when only the good line is left, then it is stored for the customer named by email
    path.write_text(json.dumps(good) + "\n")
    result = opencx("import", "events", path, "--org", shop.slug)
    assert result.exit_code == 0, result.output
    assert rows(db_session, Event) == 1


def test_import_refuses_unknown_formats_columns_and_organizations(
    db_session: Session, shop: Tenant, tmp_path: Path
) -> None:
    # given a text file, a CSV with a column the importer does not know, and a valid file
    text = write(tmp_path, "customers.txt", CUSTOMERS_CSV)
    odd = write(tmp_path, "customers.csv", CUSTOMERS_CSV.replace("segments", "shoe_size"))
    # then each is refused with a reason, and nothing is stored
    assert (
        "must end in .csv, .jsonl or .ndjson"
        in opencx("import", "customers", text, "--org", shop.slug).output
    )
    result = opencx("import", "customers", odd, "--org", shop.slug)
    assert result.exit_code == 1 and "line 1: shoe_size: unknown column" in result.output
    result = opencx("import", "customers", odd, "--org", "nope")
    assert result.exit_code == 1 and "organization nope not found" in result.output
    assert rows(db_session, Customer) == 2  # the shop's own two


# -- demo, users, API keys --------------------------------------------------------------------------


def test_demo_if_empty_loads_once(db_session: Session) -> None:
    # given an installation without organizations
    # when the demo is loaded with --if-empty
    first = opencx("demo", "--customers", "20", "--seed", "3", "--if-empty")
    # then it loads, and prints where and how to sign in
    assert first.exit_code == 0, first.output
    assert "/login" in first.output and "admin@noordwind.example" in first.output
    assert "password for all: noordwind-demo" in first.output
    assert rows(db_session, Customer) == 20
    # when it runs again with --if-empty, then nothing changes
    second = opencx("demo", "--customers", "20", "--if-empty")
    assert second.exit_code == 0 and "demo not loaded" in second.output
    assert rows(db_session, Organization) == 1
    assert rows(db_session, Customer) == 20
    # when it runs again without --if-empty, then it refuses to load a second demo
    third = opencx("demo", "--customers", "20")
    assert third.exit_code == 1 and "'demo' is taken" in third.output


def test_demo_if_empty_leaves_an_existing_installation_alone(
    db_session: Session, tenant: Tenant
) -> None:
    result = opencx("demo", "--customers", "20", "--if-empty")
    assert result.exit_code == 0 and "demo not loaded" in result.output
    assert rows(db_session, Customer) == 0


def test_users_create(db_session: Session, tenant: Tenant) -> None:
    # when an analyst is created from the command line
    result = opencx(
        "users", "create", "--org", tenant.slug, "--email", "Ana@Acme.example", "--name", "Ana",
        "--role", "analyst", "--password", "a long enough password",
    )  # fmt: skip
    # then the user exists with that role, email normalized
    assert result.exit_code == 0, result.output
    db_session.rollback()
    users = {u.email: u.role for u in auth_service.list_users(db_session, org_id=tenant.org_id)}
    assert users["ana@acme.example"] is Role.analyst
    # when the password is too short or the email is taken, then the command fails with the reason
    short = opencx("users", "create", "--org", tenant.slug, "--email", "b@acme.example",
                   "--name", "B", "--password", "short")  # fmt: skip
    assert short.exit_code == 1 and "password: must be at least 10 characters" in short.output
    taken = opencx("users", "create", "--org", tenant.slug, "--email", "ana@acme.example",
                   "--name", "Ana", "--password", "a long enough password")  # fmt: skip
    assert taken.exit_code == 1 and "exists" in taken.output


def test_apikeys_create_prints_a_working_secret_once(db_session: Session, tenant: Tenant) -> None:
    # when a key is created from the command line
    result = opencx("apikeys", "create", "--org", tenant.slug, "--name", "shop sync")
    # then the printed secret authenticates as the organization
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("ocx_")
    db_session.rollback()
    principal = auth_service.authenticate_api_key(db_session, secret=secret)
    assert principal is not None and principal.org_id == tenant.org_id

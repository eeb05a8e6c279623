"""The commerce REST API through the real HTTP app: batches, 422 with fields, 404 across tenants."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.commerce.conftest import Catalog, order_row
from tests.conftest import Tenant


def test_products_are_upserted_listed_and_read(client: TestClient, tenant: Tenant) -> None:
    body = {"products": [{"sku": "MUG-1", "name": "Mug", "price": "8.50", "category": "kitchen"}]}
    response = client.post("/api/v1/products", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    (created,) = response.json()
    assert (created["sku"], created["price"], created["kind"]) == ("MUG-1", "8.50", "product")
    listed = client.get("/api/v1/products", headers=tenant.headers).json()
    assert [p["sku"] for p in listed] == ["MUG-1"]
    one = client.get(f"/api/v1/products/{created['id']}", headers=tenant.headers)
    assert one.json()["name"] == "Mug"


def test_product_with_bad_price_is_422_naming_the_field(client: TestClient, tenant: Tenant) -> None:
    body = {"products": [{"sku": "MUG-1", "name": "Mug", "price": "-1"}]}
    response = client.post("/api/v1/products", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "products", 0, "price"]
    assert client.get("/api/v1/products", headers=tenant.headers).json() == []


def test_order_is_created_and_read_with_its_lines_and_deliveries(
    client: TestClient, tenant: Tenant, catalog: Catalog
) -> None:
    # given an order posted with a delivery
    row = order_row(
        "WEB-1",
        "2026-11-10T09:00:00Z",
        ("SOFA-2", 1, "899.00"),
        customer_id=catalog.anna_id,
        deliveries=[{"carrier": "DHL", "promised_at": "2026-11-14T12:00:00Z"}],
    )
    created = client.post("/api/v1/orders", json=row, headers=tenant.headers)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    # when it is read
    detail = client.get(f"/api/v1/orders/{order_id}", headers=tenant.headers).json()
    # then it has its lines and its delivery, not yet shipped
    assert detail["total_amount"] == "899.00"
    assert [(line["sku"], line["quantity"]) for line in detail["lines"]] == [("SOFA-2", 1)]
    (delivery,) = detail["deliveries"]
    assert (delivery["status"], delivery["status_history"]) == ("ordered", [])

    # when the carrier reports it delivered
    response = client.post(
        f"/api/v1/deliveries/{delivery['id']}/status",
        json={"status": "delivered", "occurred_at": "2026-11-15T10:00:00+01:00", "note": "porch"},
        headers=tenant.headers,
    )
    # then the delivery is delivered, a day after the promise: a late delivery
    assert response.status_code == 200, response.text
    assert response.json()["delivered_at"] == "2026-11-15T09:00:00Z"
    late = client.get("/api/v1/reports/late-deliveries", headers=tenant.headers).json()
    assert [(d["order_external_id"], d["days_late"]) for d in late] == [("WEB-1", 0.9)]
    # and the order list for Anna shows it
    listed = client.get(
        "/api/v1/orders", params={"customer_id": catalog.anna_id}, headers=tenant.headers
    ).json()
    assert [o["external_id"] for o in listed] == ["WEB-1"]


def test_import_answers_422_with_row_errors_and_stores_nothing(
    client: TestClient, tenant: Tenant, catalog: Catalog
) -> None:
    rows = [
        order_row("I-1", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "39.95")),
        order_row("I-2", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "39.95"), channel="fax"),
    ]
    response = client.post("/api/v1/orders/import", json={"orders": rows}, headers=tenant.headers)
    assert response.status_code == 422
    report = response.json()
    assert (report["created"], report["errors"][0]["index"], report["errors"][0]["field"]) == (
        0,
        1,
        "channel",
    )
    assert client.get("/api/v1/orders", headers=tenant.headers).json() == []


def test_import_twice_reports_duplicates(
    client: TestClient, tenant: Tenant, catalog: Catalog
) -> None:
    rows = [order_row(f"I-{n}", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "39.95")) for n in range(3)]
    first = client.post("/api/v1/orders/import", json={"orders": rows}, headers=tenant.headers)
    again = client.post("/api/v1/orders/import", json={"orders": rows}, headers=tenant.headers)
    assert (first.status_code, first.json()["created"]) == (200, 3)
    assert (again.json()["created"], again.json()["duplicates"]) == (0, 3)
    assert len(client.get("/api/v1/orders", headers=tenant.headers).json()) == 3


def test_units_sold_report_requires_timezone_aware_period(
    client: TestClient, tenant: Tenant, catalog: Catalog
) -> None:
    rows = [order_row("U-1", "2026-11-10T09:00:00Z", ("LAMP-1", 2, "39.95"))]
    client.post("/api/v1/orders/import", json={"orders": rows}, headers=tenant.headers)
    period = {"start": "2026-11-09T00:00:00Z", "end": "2026-11-16T00:00:00Z"}
    report = client.get("/api/v1/reports/units-sold", params=period, headers=tenant.headers)
    assert [(r["week_start"], r["sku"], r["units"]) for r in report.json()] == [
        ("2026-11-09", "LAMP-1", 2)
    ]
    naive = {"start": "2026-11-09T00:00:00", "end": "2026-11-16T00:00:00Z"}
    response = client.get("/api/v1/reports/units-sold", params=naive, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start"]


def test_ids_of_another_organization_are_404(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, catalog: Catalog
) -> None:
    # given an order with a delivery in the tenant's organization
    row = order_row(
        "P-1",
        "2026-11-10T09:00:00Z",
        ("LAMP-1", 1, "39.95"),
        deliveries=[{"promised_at": "2026-11-12T12:00:00Z"}],
    )
    order_id = client.post("/api/v1/orders", json=row, headers=tenant.headers).json()["id"]
    detail = client.get(f"/api/v1/orders/{order_id}", headers=tenant.headers).json()
    delivery_id = detail["deliveries"][0]["id"]
    product_id = detail["lines"][0]["product_id"]
    # then the other organization gets 404 for each of its ids, and changes nothing
    theirs = other_tenant.headers
    assert client.get(f"/api/v1/orders/{order_id}", headers=theirs).status_code == 404
    assert client.get(f"/api/v1/products/{product_id}", headers=theirs).status_code == 404
    payment = {"amount": "1.00", "occurred_at": "2026-11-10T10:00:00Z"}
    response = client.post(f"/api/v1/orders/{order_id}/payments", json=payment, headers=theirs)
    assert response.status_code == 404
    status = {"status": "delivered", "occurred_at": "2026-11-12T10:00:00Z"}
    response = client.post(f"/api/v1/deliveries/{delivery_id}/status", json=status, headers=theirs)
    assert response.status_code == 404
    assert client.get("/api/v1/orders", headers=theirs).json() == []
    detail = client.get(f"/api/v1/orders/{order_id}", headers=tenant.headers).json()
    assert detail["payments"] == [] and detail["deliveries"][0]["status"] == "ordered"


def test_order_with_another_organizations_customer_is_422(
    client: TestClient, tenant: Tenant, catalog: Catalog
) -> None:
    row = order_row(
        "C-1", "2026-11-10T09:00:00Z", ("LAMP-1", 1, "39.95"), customer_id=catalog.stranger_id
    )
    response = client.post("/api/v1/orders", json=row, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "customer_id"]


def test_commerce_api_needs_an_api_key(client: TestClient) -> None:
    assert client.get("/api/v1/orders").status_code == 401
    assert client.post("/api/v1/orders/import", json={"orders": []}).status_code == 401

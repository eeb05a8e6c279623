"""The web pages through the real app: sign-in guard, customer list and search, customer 360."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opencx.auth.deps import LOGIN_CSRF_COOKIE
from opencx.auth.models import WebSession
from opencx.customers import service as customers
from opencx.customers.schemas import CustomerIn
from opencx.db import session_scope
from tests.conftest import PASSWORD, Tenant, login
from tests.web.conftest import Shop


def result_names(html: str) -> list[str]:
    """The customer names linked from a customer results table."""
    return re.findall(r'<a href="/customers/\d+">([^<]+)</a>', html)


@pytest.mark.parametrize("path", ["/", "/customers", "/customers/1"])
def test_pages_send_a_signed_out_visitor_to_the_login_page(client: TestClient, path: str) -> None:
    # given nobody signed in
    # when a page is opened
    response = client.get(path, follow_redirects=False)
    # then the visitor is sent to the login form, which brings them back afterwards
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_live_search_when_signed_out_asks_htmx_to_go_to_the_login_page(client: TestClient) -> None:
    # given nobody signed in, when htmx asks for the results fragment
    response = client.get(
        "/customers?q=anna", headers={"HX-Request": "true", "HX-Target": "customer-results"}
    )
    # then htmx is told to redirect instead of swapping a login form into the table
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"


def test_customer_list_shows_name_email_country_segments_and_since(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    # given a signed-in user of the shop
    login(client, tenant.admin_email)
    # when the customer list is opened
    response = client.get("/customers")
    # then every customer of the organization is listed, newest first, with its columns
    assert response.status_code == 200
    assert result_names(response.text) == ["Zofia Nowak", "Bram Peeters", "Anna de Vries"]
    assert "anna@example.nl" in response.text
    assert '<span class="chip">newsletter</span>' in response.text
    assert shop.now.date().isoformat() in response.text
    assert "Showing 1 to 3 of 3 customers." in response.text
    # and the other organization's customer is not
    assert "Greta" not in response.text
    # and the filters offer the countries and segments in use
    assert re.findall(r'<option value="([A-Z]{2})"', response.text) == ["BE", "NL", "PL"]
    assert re.findall(r'<option value="([a-z]+)"', response.text) == ["loyal", "new", "newsletter"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("anna@example.nl", ["Anna de Vries"]),
        ("BRAM@example.be", ["Bram Peeters"]),
        ("nowak", ["Zofia Nowak"]),
        ("de vries", ["Anna de Vries"]),
        ("0601 234", ["Zofia Nowak"]),
        ("nobody-like-this", []),
    ],
)
def test_search_finds_customers_by_email_name_and_phone(
    client: TestClient, tenant: Tenant, shop: Shop, query: str, found: list[str]
) -> None:
    # given a signed-in user, when they search without JavaScript (a plain GET form)
    login(client, tenant.admin_email)
    response = client.get("/customers", params={"q": query})
    # then the full page lists exactly the matching customers and keeps the search term
    assert response.status_code == 200
    assert "<html" in response.text
    assert result_names(response.text) == found
    assert f'value="{query}"' in response.text
    if not found:
        assert "No customers found for this search." in response.text


def test_live_search_returns_only_the_results_fragment(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    # given a signed-in user typing in the search box (htmx targets the results table)
    login(client, tenant.admin_email)
    response = client.get(
        "/customers",
        params={"q": "anna"},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    # then only the results table comes back, with the match, ready to swap in
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<form" not in response.text
    assert result_names(response.text) == ["Anna de Vries"]


def test_country_and_segment_filters_narrow_the_list(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    login(client, tenant.admin_email)
    # when filtering on a segment
    loyal = client.get("/customers", params={"segment": "loyal"})
    # then only customers in it are listed, and the choice stays selected
    assert result_names(loyal.text) == ["Zofia Nowak", "Anna de Vries"]
    assert '<option value="loyal" selected>' in loyal.text
    # when filtering on a country and a segment together
    both = client.get("/customers", params={"segment": "loyal", "country": "nl"})
    assert result_names(both.text) == ["Anna de Vries"]
    assert '<option value="NL" selected>' in both.text


def test_customer_list_pages_through_many_customers(
    client: TestClient, db_session: Session, tenant: Tenant
) -> None:
    # given 55 customers
    customers.import_customers(
        db_session,
        org_id=tenant.org_id,
        rows=[
            {
                "first_name": f"Person{n:02d}",
                "identities": [{"kind": "email", "value": f"p{n}@x.nl"}],
            }
            for n in range(55)
        ],
        source="test",
    )
    db_session.commit()
    login(client, tenant.admin_email)
    # when the first and the second page are opened
    first = client.get("/customers")
    second = client.get("/customers", params={"page": 2})
    # then the first shows 50 with a link onwards, the second the last 5 with a link back
    assert len(result_names(first.text)) == 50
    assert "Showing 1 to 50 of 55 customers." in first.text
    assert 'rel="next" href="/customers?q=&amp;country=&amp;segment=&amp;page=2"' in first.text
    assert 'rel="prev"' not in first.text
    assert len(result_names(second.text)) == 5
    assert "Showing 51 to 55 of 55 customers." in second.text
    assert 'rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    assert set(result_names(first.text)).isdisjoint(result_names(second.text))


def test_customer_page_of_another_organization_is_not_found(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    # given a signed-in user of one organization
    login(client, tenant.admin_email)
    # when they open a customer id of another organization, or one that does not exist
    other = client.get(f"/customers/{shop.stranger_id}")
    missing = client.get("/customers/987654")
    # then both answer the same 404 page, revealing nothing
    assert other.status_code == missing.status_code == 404
    assert "Greta" not in other.text
    assert f"customer {shop.stranger_id} not found" in other.text
    # and the error page keeps the navigation of the signed-in user
    assert 'aria-label="Main"' in other.text


def test_customer_page_shows_profile_identities_consent_orders_and_timeline(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    login(client, tenant.admin_email)
    # when Anna's page is opened
    response = client.get(f"/customers/{shop.anna_id}")
    page = response.text
    # then the header names her, where she lives and how to reach her on each channel
    assert response.status_code == 200
    assert "<h1>Anna de Vries</h1>" in page
    assert "Utrecht" in page
    assert "anna@example.nl" in page
    assert '<span class="chip">instagram</span> anna.home' in page
    # and the consent grid shows the latest decision per purpose and channel, with its source
    grid = page.split('class="consent-grid')[1].split("</table>")[0]
    assert "✗ Withdrawn" in grid
    assert "unsubscribe link" in grid
    assert "✓ Granted" in grid
    # and her order is in the orders table with its total
    assert "WEB-1001" in page
    assert "99.90 EUR" in page
    # and the timeline holds order, delivery, events and consent, newest first
    timeline = page.split('<ol class="timeline">')[1].split("</ol>")[0]
    kinds = re.findall(r'<li class="kind-(\w+)">', timeline)
    assert kinds.count("event") == 3
    assert kinds.count("consent") == 3
    assert kinds.count("delivery") == 2
    assert kinds.count("order") == 1
    assert kinds[0] == "event"  # yesterday's page view
    assert "page_view at Product page" in timeline
    assert "Delivery delayed: order WEB-1001" in timeline
    # and the activity chart gets its data, with ECharts loaded on this page
    assert 'id="activity-chart"' in page
    assert "/static/vendor/echarts.min.js" in page


def test_timeline_kind_filter_keeps_only_that_kind(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    login(client, tenant.admin_email)
    # when the timeline is filtered on deliveries
    response = client.get(f"/customers/{shop.anna_id}", params={"kind": "delivery"})
    timeline = response.text.split('<ol class="timeline">')[1].split("</ol>")[0]
    # then only delivery entries remain and the filter shows which kind is chosen
    assert set(re.findall(r'<li class="kind-(\w+)">', timeline)) == {"delivery"}
    assert 'aria-current="true">Delivery (2)</a>' in response.text


def test_customer_without_history_has_empty_states(
    client: TestClient, tenant: Tenant, shop: Shop
) -> None:
    login(client, tenant.admin_email)
    # when a customer with no consent, orders or events is opened
    response = client.get(f"/customers/{shop.bram_id}")
    # then each section says so instead of showing empty tables
    assert response.status_code == 200
    assert "No consent decisions recorded." in response.text
    assert "No orders yet." in response.text
    assert "Nothing has happened with this customer yet." in response.text


def test_overview_of_an_empty_organization_shows_zeros_and_how_to_start(
    client: TestClient, tenant: Tenant
) -> None:
    # given an organization without any data
    login(client, tenant.admin_email)
    # when the overview is opened
    response = client.get("/")
    # then it shows zeros, says how to get data in, and still draws an (empty) chart
    assert response.status_code == 200
    assert "No data yet" in response.text
    for stat in ("customers", "orders", "late", "events"):
        assert f'id="stat-{stat}">0</div>' in response.text
    assert 'id="orders-per-week"' in response.text


def test_overview_counts_the_shop(client: TestClient, tenant: Tenant, shop: Shop) -> None:
    login(client, tenant.admin_email)
    response = client.get("/")
    # then it counts this organization's customers, recent orders, late deliveries and events
    assert 'id="stat-customers">3</div>' in response.text
    assert 'id="stat-orders">1</div>' in response.text
    assert 'id="stat-late">1</div>' in response.text
    assert 'id="stat-events">2</div>' in response.text
    assert "No data yet" not in response.text


def test_pages_are_accessible_landmarks(client: TestClient, tenant: Tenant, shop: Shop) -> None:
    login(client, tenant.admin_email)
    for path in ("/", "/customers", f"/customers/{shop.anna_id}", "/settings"):
        page = client.get(path).text
        # then each page declares its language, offers a skip link to the main content
        assert '<html lang="en">' in page
        assert '<a class="skip-link" href="#main">' in page
        assert '<main id="main"' in page
        # and loads htmx from the vendored copy
        assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page


def test_erased_customer_page_names_no_one(
    client: TestClient, db_session: Session, tenant: Tenant, shop: Shop
) -> None:
    # given Anna asked to be forgotten
    customers.erase_customer(
        db_session, org_id=tenant.org_id, customer_id=shop.anna_id, requested_by="test"
    )
    db_session.commit()
    login(client, tenant.admin_email)
    # when her page is opened
    response = client.get(f"/customers/{shop.anna_id}")
    # then it shows the erasure, not her name or addresses
    assert response.status_code == 200
    assert f"Erased customer #{shop.anna_id}" in response.text
    assert "Personal data erased on" in response.text
    assert "anna@example.nl" not in response.text
    assert "Anna" not in response.text


def test_merged_profile_points_to_its_survivor(
    client: TestClient, db_session: Session, tenant: Tenant, shop: Shop
) -> None:
    # given a duplicate profile of Bram merged into Bram
    duplicate, _ = customers.upsert_customer(
        db_session,
        org_id=tenant.org_id,
        data=CustomerIn.model_validate(
            {"first_name": "B.", "identities": [{"kind": "email", "value": "b@peeters.be"}]}
        ),
        source="test",
    )
    customers.merge_customers(
        db_session,
        org_id=tenant.org_id,
        survivor_id=shop.bram_id,
        merged_id=duplicate.id,
        merged_by="test",
    )
    db_session.commit()
    login(client, tenant.admin_email)
    # when the merged-away profile is opened
    response = client.get(f"/customers/{duplicate.id}")
    # then it says where the customer lives on now
    assert f'merged into <a href="/customers/{shop.bram_id}">' in response.text
    # and the survivor lists the merged profile
    survivor = client.get(f"/customers/{shop.bram_id}")
    assert f"#{duplicate.id}" in survivor.text


def test_sign_in_is_committed_before_the_redirect_is_sent(
    client: TestClient, tenant: Tenant
) -> None:
    # given the login form with its CSRF token
    form = client.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    body = urlencode(
        {"email": tenant.admin_email, "password": PASSWORD, "csrf_token": token}
    ).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login",
        "raw_path": b"/login",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", f"{LOGIN_CSRF_COOKIE}={client.cookies[LOGIN_CSRF_COOKIE]}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sessions_when_answered: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 303
            with session_scope() as other:
                sessions_when_answered.append(
                    other.scalar(select(func.count()).select_from(WebSession)) or 0
                )

    # when the form is posted, and another connection looks as soon as the answer starts
    with ThreadPoolExecutor(1) as worker:  # its own thread: no event loop may be running there
        worker.submit(anyio.run, client.app, scope, receive, send).result()
    # then the new web session is already committed: the browser's next page will find it
    assert sessions_when_answered == [1]

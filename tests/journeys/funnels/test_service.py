"""Paths, transitions and funnels of the shop's known sessions; saved funnel rules."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.journeys.funnels import service
from opencx.journeys.funnels.schemas import FunnelIn, FunnelQuery, JourneyFilter
from tests.conftest import Tenant
from tests.journeys.funnels.conftest import END, FUNNEL, START, Shop


def _query(**fields: object) -> FunnelQuery:
    return FunnelQuery.model_validate({"steps": FUNNEL, "start": START, "end": END, **fields})


def _visitors(group: object) -> list[int]:
    return [step.visitors for step in group.steps]  # type: ignore[attr-defined]


def test_transitions_count_moves_between_touchpoints_within_sessions(
    db_session: Session, shop: Shop
) -> None:
    # when the transitions of the shop's period are computed
    result = service.compute_transitions(db_session, org_id=shop.org_id, start=START, end=END)
    # then repeated events at one touchpoint are one step, and the 30-minute gap splits
    # Piotr's events without a session: ad -> product twice, product -> checkout twice
    moves = {(t.from_touchpoint, t.to_touchpoint): t.transitions for t in result.transitions}
    assert moves == {("Ad", "Product"): 2, ("Product", "Checkout"): 2}
    assert result.total == 4
    assert [t.share for t in result.transitions] == [0.5, 0.5]


def test_transitions_filter_by_country_segment_and_channel(db_session: Session, shop: Shop) -> None:
    # given filters on the customer's country, segment, and the touchpoint's channel
    def moves(**where: str) -> dict[tuple[str, str], int]:
        result = service.compute_transitions(
            db_session, org_id=shop.org_id, start=START, end=END, where=JourneyFilter(**where)
        )
        return {(t.from_touchpoint, t.to_touchpoint): t.transitions for t in result.transitions}

    # then only Nora's session counts for NL and for loyal customers, Piotr's for PL
    assert moves(country="nl") == {("Ad", "Product"): 1, ("Product", "Checkout"): 1}
    assert moves(segment="loyal") == {("Ad", "Product"): 1, ("Product", "Checkout"): 1}
    assert moves(country="PL") == {("Product", "Checkout"): 1}
    assert moves(device="mobile") == {("Ad", "Product"): 1, ("Product", "Checkout"): 1}
    assert moves(channel="chat") == {}


def test_paths_after_a_touchpoint_end_where_sessions_end(db_session: Session, shop: Shop) -> None:
    # when the paths of two steps after the product page are computed
    result = service.compute_paths(
        db_session, org_id=shop.org_id, start=START, end=END, touchpoint_key="product", steps=2
    )
    # then three sessions visited it: two went on to checkout, one ended there
    assert result.sessions == 3
    assert [(p.touchpoints, p.sessions) for p in result.paths] == [
        (["Product", "Checkout"], 2),
        (["Product"], 1),
    ]
    links = {(link.source, link.target): link.value for link in result.links}
    assert links == {
        ("Product", "+1 Checkout"): 2,
        ("+1 Checkout", "+2 session ends"): 2,
        ("Product", "+1 session ends"): 1,
    }


def test_paths_before_a_touchpoint_run_in_time_order(db_session: Session, shop: Shop) -> None:
    # when the paths leading to the checkout are computed
    result = service.compute_paths(
        db_session,
        org_id=shop.org_id,
        start=START,
        end=END,
        touchpoint_key="checkout",
        direction="before",
        steps=2,
    )
    # then Nora came from the ad and the product page; Piotr's first session from the product
    # page; his second session started at the checkout
    assert sorted((p.touchpoints, p.sessions) for p in result.paths) == [
        (["Ad", "Product", "Checkout"], 1),
        (["Checkout"], 1),
        (["Product", "Checkout"], 1),
    ]


def test_paths_of_an_unknown_touchpoint_are_a_clear_error(db_session: Session, shop: Shop) -> None:
    with pytest.raises(InvalidInput) as raised:
        service.compute_paths(
            db_session, org_id=shop.org_id, start=START, end=END, touchpoint_key="nowhere"
        )
    assert raised.value.field == "touchpoint_key"


def test_funnel_counts_visitors_per_step_with_drop_off_and_time(
    db_session: Session, shop: Shop
) -> None:
    # when the four-step funnel is computed with a one-day window
    result = service.compute_funnel(db_session, org_id=shop.org_id, query=_query())
    # then Nora completes it, the anonymous visitor stops at the cart, Piotr skipped the cart
    assert _visitors(result.total) == [3, 2, 1, 1]
    steps = result.total.steps
    assert [s.drop_off for s in steps] == [0, 1, 1, 0]
    assert steps[1].conversion == pytest.approx(2 / 3)
    assert steps[2].step_conversion == pytest.approx(1 / 2)
    # each step a minute after the one before
    assert [s.median_seconds for s in steps] == [None, 60.0, 60.0, 60.0]
    assert steps[2].label == "Checkout · checkout_start"
    assert result.groups == []


def test_funnel_window_cuts_slow_chains(db_session: Session, shop: Shop) -> None:
    # given a window of 100 seconds: Nora's checkout starts 120 s after her product view
    result = service.compute_funnel(
        db_session, org_id=shop.org_id, query=_query(window_seconds=100)
    )
    # then she counts up to the cart
    assert _visitors(result.total) == [3, 2, 0, 0]


def test_funnel_breaks_down_by_device_and_country(db_session: Session, shop: Shop) -> None:
    by_device = service.compute_funnel(
        db_session, org_id=shop.org_id, query=_query(breakdown="device")
    )
    assert {g.group: _visitors(g) for g in by_device.groups} == {
        "mobile": [2, 1, 0, 0],
        "desktop": [1, 1, 1, 1],
    }
    by_country = service.compute_funnel(
        db_session, org_id=shop.org_id, query=_query(breakdown="country")
    )
    # the anonymous visitor has no country: the null group
    assert {g.group: _visitors(g) for g in by_country.groups} == {
        "NL": [1, 1, 1, 1],
        "PL": [1, 0, 0, 0],
        None: [1, 1, 0, 0],
    }


def test_saved_funnels_round_trip_and_compute(db_session: Session, shop: Shop) -> None:
    # given a saved funnel
    data = FunnelIn.model_validate({"name": "Checkout", "steps": FUNNEL, "breakdown": "device"})
    saved = service.create_funnel(db_session, org_id=shop.org_id, data=data)
    # when it is read, listed, renamed and computed
    assert service.get_funnel(db_session, org_id=shop.org_id, funnel_id=saved.id) == saved
    renamed = service.update_funnel(
        db_session,
        org_id=shop.org_id,
        funnel_id=saved.id,
        data=data.model_copy(update={"name": "Web checkout"}),
    )
    result = service.compute_saved_funnel(
        db_session, org_id=shop.org_id, funnel_id=saved.id, start=START, end=END
    )
    # then it keeps its steps and gives the same result as the unsaved query
    assert [f.name for f in service.list_funnels(db_session, org_id=shop.org_id)] == [
        "Web checkout"
    ]
    assert renamed.steps == data.steps
    assert _visitors(result.total) == [3, 2, 1, 1]
    assert {g.group for g in result.groups} == {"mobile", "desktop"}
    # and once deleted it is gone
    service.delete_funnel(db_session, org_id=shop.org_id, funnel_id=saved.id)
    with pytest.raises(NotFound):
        service.get_funnel(db_session, org_id=shop.org_id, funnel_id=saved.id)


def test_bad_funnels_are_refused_naming_the_step(db_session: Session, shop: Shop) -> None:
    unknown = FunnelIn.model_validate(
        {"name": "x", "steps": [{"event_type": "a"}, {"touchpoint_key": "nowhere"}]}
    )
    with pytest.raises(InvalidInput) as raised:
        service.create_funnel(db_session, org_id=shop.org_id, data=unknown)
    assert raised.value.field == "steps[1].touchpoint_key"
    repeated = FunnelIn.model_validate(
        {"name": "x", "steps": [{"event_type": "a"}, {"event_type": "a"}]}
    )
    with pytest.raises(InvalidInput) as raised:
        service.create_funnel(db_session, org_id=shop.org_id, data=repeated)
    assert raised.value.field == "steps[1]"
    assert service.list_funnels(db_session, org_id=shop.org_id) == []


def test_funnel_names_are_unique_per_organization(
    db_session: Session, shop: Shop, other_tenant: Tenant
) -> None:
    data = FunnelIn.model_validate({"name": "Checkout", "steps": FUNNEL})
    service.create_funnel(db_session, org_id=shop.org_id, data=data)
    with pytest.raises(Conflict):
        service.create_funnel(db_session, org_id=shop.org_id, data=data)
    # another organization may use the name; its own touchpoints are checked
    other = FunnelIn.model_validate(
        {"name": "Checkout", "steps": [{"event_type": "a"}, {"touchpoint_key": "product"}]}
    )
    assert service.create_funnel(db_session, org_id=other_tenant.org_id, data=other).id

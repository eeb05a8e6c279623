"""Service desk conversations in the demo world, derived from its service events.

Every service event with a reason (contact form, live chat, phone call, complaints desk, social
care) becomes a customer's message on the channel it came through: the customer's own text
(a call: what they said), then, in their language, the answer bot on messaging channels and a
reply by an agent of the team of that language. Most are resolved; some are reopened; contacts
about an order still on its way stay open until it arrives, and the last days' are still open.

The plan follows the service desk's rules, so that the conversations are the ones the live
service would have made: chat, messaging and voice continue the customer's conversation on
that channel (a resolved one reopens; one resolved days before was closed by then, and a new
one starts), email and web forms start a new one each time. Where the survey plan invited the
customer to a CSAT when the contact was resolved, the conversation is resolved at that moment by
the agent the survey credits.

The plan is made after the world and the survey plan, from its own `random.Random`, so adding
conversations leaves everything else exactly as it was.
"""

from __future__ import annotations

import math
import random
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from opencx.demo import texts
from opencx.demo.catalog import CAMPAIGN_SKU, CATALOG, DEMO_TEAMS, AgentSpec
from opencx.demo.feedback import PENDING_REASONS, TEAM_OF_LANGUAGE

if TYPE_CHECKING:
    from opencx.demo.world import DemoWorld

CHANNEL_OF_TOUCHPOINT = {
    "contact-form": "web_form",
    "complaints-desk": "email",
    "live-chat": "chat",
    "service-phone": "voice",
    "social-care": "social",
}
# Posts on X stay public: the desk has no X channel, so they become no conversation.
SOCIAL_CHANNEL = {"instagram": "instagram", "facebook": "messenger"}
# Channels without threads of their own continue the customer's conversation there.
CONTINUOUS = {"chat", "whatsapp", "telegram", "messenger", "instagram", "voice"}
MESSAGING = {"chat", "whatsapp", "telegram", "messenger", "instagram"}
WHATSAPP_SHARE = 0.45  # of Dutch-speaking customers with a phone, who chat on WhatsApp
TELEGRAM_SHARE = 0.2  # of Polish customers, who chat on Telegram
BOT_SHARE = 0.6  # of messaging conversations the answer bot opens before handing over
REOPEN_SHARE = {"complaint": 0.16, "question": 0.07}
# A resolved conversation is closed this long after its resolution; a later message starts anew.
CLOSED_AFTER = timedelta(days=4)
# Median seconds to the first human reply, and its spread (lognormal).
FIRST_REPLY = {
    "chat": (180, 0.7),
    "whatsapp": (240, 0.7),
    "telegram": (300, 0.7),
    "messenger": (40 * 60, 1.0),
    "instagram": (50 * 60, 1.0),
    "email": (5 * 3600, 0.8),
    "web_form": (6 * 3600, 0.8),
    "voice": (60, 0.6),
}
# While the Lento complaints pile up the desk is swamped: replies take this much longer.
STORY_SURGE = 2.5


class DemoMessage(NamedTuple):
    at: datetime
    direction: str  # inbound or outbound
    author: str  # customer, agent or bot
    agent: str | None  # the agent's email (a demo user)
    body: str
    channel_message_id: str


class DemoConversation(NamedTuple):
    customer: int  # position in DemoWorld.customers
    channel: str  # a ConversationChannel value
    touchpoint: str
    tags: tuple[str, ...]
    priority: str
    agent: str | None  # the assignee's email
    team: str
    address: str | None  # the customer's address on the channel (email, phone, account)
    messages: tuple[DemoMessage, ...]
    resolutions: tuple[datetime, ...]
    closed: bool
    # The CSAT invitation after a resolution, as (customer, touchpoint, order, moment) of the
    # survey plan: the load gives those invitations this conversation's id.
    surveyed: tuple[tuple[int, str, str, datetime], ...]


@dataclass
class _Draft:
    customer: int
    channel: str
    touchpoint: str
    team: str
    agent: AgentSpec
    address: str | None
    tags: list[str] = field(default_factory=list)
    priority: str = "normal"
    messages: list[DemoMessage] = field(default_factory=list)
    resolutions: list[datetime] = field(default_factory=list)
    closed: bool = False
    surveyed: list[tuple[int, str, str, datetime]] = field(default_factory=list)


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


class _ConversationBuilder:
    def __init__(self, world: DemoWorld, writers: list[texts.Writer]) -> None:
        self.world = world
        self.writers = writers
        self.rng = random.Random(f"noordwind-conversations-{world.seed}")
        self.end = datetime.combine(world.today, time(), tzinfo=UTC)
        campaign = world.campaign
        self.surge_from = datetime.combine(campaign.late_from, time(), tzinfo=UTC)
        self.surge_until = datetime.combine(campaign.late_until, time(), tzinfo=UTC) + timedelta(
            days=21
        )
        self.agents = {a.email: a for team in DEMO_TEAMS.values() for a in team}
        # The survey plan's CSAT invitations after service contacts: when, and which agent.
        self.surveys: dict[tuple[int, str, str], list[tuple[datetime, str]]] = defaultdict(list)
        for planned in world.feedback:
            if planned.survey == "service" and planned.touchpoint and planned.order:
                key = (planned.customer, planned.touchpoint, planned.order)
                self.surveys[key].append((planned.at, planned.agent or ""))
        self.arrivals: dict[str, list[datetime]] = {}
        self.promised: dict[str, date] = {}
        for order in world.orders:
            promises = [d["promised_at"] for d in order.row["deliveries"]]
            if promises:
                self.promised[order.row["external_id"]] = min(promises).date()
            delivered = sorted(
                h["occurred_at"]
                for d in order.row["deliveries"]
                for h in d["status_history"]
                if h["status"] == "delivered"
            )
            self.arrivals[order.row["external_id"]] = delivered
        self.new_identities: dict[int, dict[str, dict[str, str]]] = defaultdict(dict)
        self.drafts: list[_Draft] = []
        self.ongoing: dict[tuple[int, str], _Draft] = {}
        self.count = 0

    # -- who writes where ---------------------------------------------------------------------

    def _identity(self, customer: int, kind: str, namespace: str = "") -> str | None:
        for identity in self.world.customers[customer]["identities"]:
            if identity["kind"] == kind and identity.get("namespace", "") == namespace:
                return str(identity["value"])
        return self.new_identities[customer].get(namespace, {}).get("value")

    def _new_identity(self, customer: int, kind: str, namespace: str, value: str) -> str:
        found = self._identity(customer, kind, namespace)
        if found is not None:
            return found
        self.new_identities[customer][namespace] = {
            "kind": kind,
            "namespace": namespace,
            "value": value,
        }
        return value

    def _channel(self, customer: int, touchpoint: str, props: dict[str, Any]) -> str | None:
        rng, language = self.rng, props["language"]
        channel = CHANNEL_OF_TOUCHPOINT[touchpoint]
        if channel == "social":
            return SOCIAL_CHANNEL.get(props.get("network", ""))
        if channel == "email" and self._identity(customer, "email") is None:
            return "web_form"
        if channel == "chat":
            if (
                language == "nl"
                and self._identity(customer, "phone")
                and rng.random() < WHATSAPP_SHARE
            ):
                return "whatsapp"
            if language == "pl" and rng.random() < TELEGRAM_SHARE:
                return "telegram"
        return channel

    def _address(self, customer: int, channel: str) -> str | None:
        rng, writer = self.rng, self.writers[customer]
        if channel in ("email", "web_form"):
            return self._identity(customer, "email")
        if channel in ("voice", "whatsapp"):
            return self._identity(customer, "phone")
        if channel == "telegram":
            return self._new_identity(
                customer, "social", "telegram", str(rng.randrange(10**8, 10**10))
            )
        if channel == "chat":
            return self._new_identity(
                customer, "external", "webchat", f"{rng.getrandbits(64):016x}"
            )
        number = rng.randrange(100, 10_000)
        if channel == "messenger":
            # As the Messenger adapter identifies a sender: a numeric page-scoped id in the
            # namespace messenger (unique per customer; one draw, as before, keeps the world).
            page_scoped_id = str(10**15 + customer * 10_000 + number)
            return self._new_identity(customer, "social", "messenger", page_scoped_id)
        handle = f"{_ascii(writer.first_name)}.{number}"
        return self._new_identity(customer, "social", "instagram", handle)

    # -- when things happen -------------------------------------------------------------------

    def _reply_after(self, channel: str, at: datetime) -> timedelta:
        median, spread = FIRST_REPLY[channel]
        seconds = self.rng.lognormvariate(math.log(median), spread)
        if self.surge_from <= at < self.surge_until:
            seconds *= STORY_SURGE
        return timedelta(seconds=max(seconds, 15))

    def _resolved_at(self, at: datetime, channel: str, props: dict[str, Any]) -> datetime | None:
        """When a contact without a survey is resolved, by the survey plan's rules."""
        rng, reason = self.rng, props["reason"]
        if reason in PENDING_REASONS:
            arrivals = self.arrivals.get(props["order_id"], [])
            later = arrivals[bisect_left(arrivals, at) :]
            if not later:
                return None  # still on its way: open until it arrives
            return later[0] + timedelta(hours=rng.uniform(1, 8))
        if channel in MESSAGING:
            return at + timedelta(minutes=rng.uniform(4, 30))
        if channel == "voice":
            return at + timedelta(seconds=props.get("duration_seconds", 300) + 30)
        return at + timedelta(hours=rng.uniform(2, 30))

    def _survey(
        self, customer: int, touchpoint: str, ref: str, at: datetime
    ) -> tuple[datetime, str] | None:
        """The survey plan's CSAT invitation for this contact: its moment and agent, if any."""
        planned = self.surveys.get((customer, touchpoint, ref), [])
        for index, (moment, agent) in enumerate(planned):
            if moment >= at:
                del planned[index]
                return moment, agent
        return None

    def _agent(self, team: str, complaint: bool) -> AgentSpec:
        agents = DEMO_TEAMS[team]
        # Team leads take a larger share of complaints (escalations), as in the survey plan.
        weights = [a.share * (2.5 if a.lead and complaint else 1.0) for a in agents]
        return self.rng.choices(agents, weights=weights)[0]

    # -- messages -----------------------------------------------------------------------------

    def _message_id(self, channel: str, draft_number: int, address: str | None) -> str:
        self.count += 1
        n = self.count
        if channel in ("email", "web_form"):
            return f"<demo.{draft_number}.{n}@noordwind.example>"
        if channel == "whatsapp":
            return f"wamid.demo{n:08d}"
        if channel == "telegram":
            return f"{address}:{n}"
        if channel == "chat":
            return f"{address}:demo{n}"
        if channel == "voice":
            return f"call-demo-{n}"
        return f"m_demo{n:08d}"

    def _customer_text(self, customer: int, touchpoint: str, props: dict[str, Any]) -> str:
        if "text" in props:
            return str(props["text"])
        # A call: what the customer said, written as they would in a chat.
        rng, writer = self.rng, self.writers[customer]
        product, ref = CATALOG[props["sku"]], props["order_id"]
        said = {"reason": props["reason"], "order_ref": ref, "promised_on": self.promised.get(ref)}
        if props["intent"] == "complaint":
            return texts.write_chat_complaint(rng, writer, product, **said)
        return texts.write_question(rng, writer, product, chat=True, **said)

    def _say(self, draft: _Draft, at: datetime, direction: str, author: str, body: str) -> None:
        if at >= self.end:
            return  # not yet: the world ends today
        agent = draft.agent.email if author == "agent" else None
        message_id = self._message_id(draft.channel, len(self.drafts), draft.address)
        draft.messages.append(DemoMessage(at, direction, author, agent, body, message_id))

    # -- one contact ----------------------------------------------------------------------------

    def _draft_for(
        self, customer: int, channel: str, touchpoint: str, at: datetime
    ) -> _Draft | None:
        """The customer's conversation this message continues, by the service's rules."""
        if channel not in CONTINUOUS:
            return None
        draft = self.ongoing.get((customer, channel))
        if draft is None or draft.closed:
            return None
        if draft.resolutions and draft.resolutions[-1] + CLOSED_AFTER <= at:
            draft.closed = True  # closed by now: a new conversation starts
            return None
        return draft

    def contact(self, at: datetime, customer: int, touchpoint: str, props: dict[str, Any]) -> None:
        rng, writer = self.rng, self.writers[customer]
        channel = self._channel(customer, touchpoint, props)
        if channel is None:
            return
        reason, ref = props["reason"], props["order_id"]
        complaint = props["intent"] == "complaint"
        team = TEAM_OF_LANGUAGE[props["language"]]
        surveyed = self._survey(customer, touchpoint, ref, at)
        draft = self._draft_for(customer, channel, touchpoint, at)
        if draft is None:
            draft = _Draft(
                customer,
                channel,
                touchpoint,
                team,
                self._agent(team, complaint),
                self._address(customer, channel),
            )
            self.drafts.append(draft)
            if channel in CONTINUOUS:
                self.ongoing[(customer, channel)] = draft
        if surveyed is not None and surveyed[1] in self.agents:
            draft.agent = self.agents[surveyed[1]]  # the agent the CSAT credits
        story = props["sku"] == CAMPAIGN_SKU and reason == "late_delivery"
        for tag in (reason, f"order-{ref.lower()}"):
            if tag not in draft.tags:
                draft.tags.append(tag)
        if story:
            draft.priority = "high"
        elif reason in ("invoice", "stock") and not draft.messages:
            draft.priority = "low"
        self._say(
            draft, at, "inbound", "customer", self._customer_text(customer, touchpoint, props)
        )
        if channel in MESSAGING and rng.random() < BOT_SHARE:
            bot_at = at + timedelta(seconds=rng.uniform(2, 20))
            self._say(
                draft, bot_at, "outbound", "bot", texts.write_bot_handoff(rng, writer.language)
            )
        resolved = surveyed[0] if surveyed else self._resolved_at(at, channel, props)
        reply_at = at + self._reply_after(channel, at)
        if resolved is not None and reply_at >= resolved:
            reply_at = at + (resolved - at) * rng.uniform(0.2, 0.6)
        product = CATALOG[props["sku"]]
        reply = texts.write_agent_reply(
            rng,
            writer,
            product,
            reason=reason,
            order_ref=ref,
            agent=draft.agent.name,
            story=story,
            spoken=channel == "voice",
        )
        self._say(draft, reply_at, "outbound", "agent", reply)
        if draft.resolutions and draft.resolutions[-1] > at:
            # Still open when the customer wrote again: resolved when both matters are.
            earlier = draft.resolutions.pop()
            resolved = max(earlier, resolved) if resolved is not None else None
        if resolved is None or resolved >= self.end:
            return
        draft.resolutions.append(resolved)
        if surveyed is not None:
            draft.surveyed.append((customer, touchpoint, ref, surveyed[0]))
        # Better agents (those the CSAT favours) solve it the first time more often.
        reopen = REOPEN_SHARE[props["intent"]] * (1 - draft.agent.skill)
        if channel != "voice" and rng.random() < reopen:
            self._reopen(draft, resolved)

    def _reopen(self, draft: _Draft, resolved: datetime) -> None:
        """The customer writes again soon after the resolution: it reopens and is resolved again."""
        rng, writer = self.rng, self.writers[draft.customer]
        again = resolved + timedelta(hours=rng.uniform(2, 72))
        if again >= self.end:
            return
        self._say(draft, again, "inbound", "customer", texts.write_follow_up(rng, writer.language))
        reply_at = again + self._reply_after(draft.channel, again)
        self._say(
            draft,
            reply_at,
            "outbound",
            "agent",
            texts.write_agent_follow_up(rng, writer, draft.agent.name),
        )
        done = reply_at + timedelta(minutes=rng.uniform(1, 90))
        if done < self.end:
            draft.resolutions.append(done)

    def build(self) -> tuple[list[DemoConversation], dict[int, list[dict[str, str]]]]:
        for event in self.world.events:
            props = event.properties
            if (
                event.customer is not None
                and event.touchpoint in CHANNEL_OF_TOUCHPOINT
                and props.get("reason")
                and props.get("intent") in REOPEN_SHARE
                and event.timestamp < self.end
            ):
                self.contact(event.timestamp, event.customer, event.touchpoint, props)
        conversations = []
        for draft in self.drafts:
            if not draft.messages:
                continue
            # A conversation resolved long before today was closed by the agents since.
            closed = draft.closed or bool(
                draft.resolutions
                and draft.resolutions[-1] + CLOSED_AFTER <= self.end
                and draft.resolutions[-1] >= max(m.at for m in draft.messages)
            )
            conversations.append(
                DemoConversation(
                    draft.customer,
                    draft.channel,
                    draft.touchpoint,
                    tuple(draft.tags),
                    draft.priority,
                    draft.agent.email,
                    draft.team,
                    draft.address,
                    tuple(sorted(draft.messages)),
                    tuple(draft.resolutions),
                    closed,
                    tuple(draft.surveyed),
                )
            )
        identities = {c: list(found.values()) for c, found in self.new_identities.items()}
        return conversations, identities


def plan_conversations(
    world: DemoWorld, writers: list[texts.Writer]
) -> tuple[list[DemoConversation], dict[int, list[dict[str, str]]]]:
    """The demo's conversations in the order they started, and the channel identities
    (web chat visitors, Telegram and social accounts) the customers need for them."""
    return _ConversationBuilder(world, writers).build()

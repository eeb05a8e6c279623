"""The one small interface every channel adapter implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundAttachment, InboundMessageIn, OutboundDelivery


@dataclass(frozen=True)
class NormalizedMessage:
    """What arrived on a channel, as the service desk stores it: the message and its files."""

    message: InboundMessageIn
    attachments: tuple[InboundAttachment, ...] = ()


class ChannelAdapter(Protocol):
    """Normalizes the channel's raw payload to a message; sends a reply, returning its channel id."""

    channel: ConversationChannel

    def normalize(self, raw: bytes) -> NormalizedMessage: ...

    def send(self, delivery: OutboundDelivery) -> str: ...

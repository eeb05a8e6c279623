"""The one small interface every channel adapter implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from opencx.conversations.models import ConversationChannel
from opencx.conversations.schemas import InboundAttachment, InboundMessageIn


@dataclass(frozen=True)
class NormalizedMessage:
    """What arrived on a channel, as the service desk stores it: the message and its files."""

    message: InboundMessageIn
    attachments: tuple[InboundAttachment, ...] = ()


class ChannelAdapter(Protocol):
    """Turns one delivery of a channel (an email, a webhook body) into the messages it holds.

    `received_at` is when OpenCX got it, for channels that do not say when it was sent. An
    adapter that can send registers its sender with `conversations.service` as well.
    """

    channel: ConversationChannel

    def normalize(self, raw: bytes, *, received_at: datetime) -> list[NormalizedMessage]: ...

"""What a provider says when it cannot tell whether a message went out."""

from __future__ import annotations


class DeliveryUnknown(Exception):
    """The connection broke after the message was handed over (no answer came back): it
    may have gone out. Sending it again could send it twice, so the outbox records it as
    unconfirmed instead of retrying."""

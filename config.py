"""Settings from the environment (or a ``.env`` file). Temporal's own connection settings
(address, namespace, TLS, API key) come from Temporal's standard environment
configuration instead: ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``,
``TEMPORAL_TLS``... or a ``temporal.toml`` profile."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from automation import TASK_QUEUE

SCOPES = {
    "events:write": "send events to orders, customers and contacts",
    "orders:read": "read orders, their timelines and the messages rules sent",
    "orders:write": "create orders and resend messages",
    "payloads:decode": "decrypt Temporal payloads through the codec server (the Web UI, the temporal CLI)",
    "admin": "everything the other scopes allow",
}
"""What an API key may do (``orders keys create --scope``)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    task_queue: str = TASK_QUEUE

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 20.0
    mail_from: str = "Online store <shop@example.com>"
    mailboxes: dict[str, str] = Field(
        default_factory=dict, description='named senders, e.g. {"sales": "Sales <sales@shop.example>"}'
    )

    # SMS and robocalls: an HTTP API of Twilio's shape; open-channel messages: a chat API.
    sms_base_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = Field(default="+15005550006", description="the number SMS are sent from")
    voice_base_url: str = "https://api.twilio.com"
    voice_account_sid: str = Field(default="", description="empty = the SMS account's")
    voice_auth_token: str = Field(default="", description="empty = the SMS account's")
    voice_lines: dict[str, str] = Field(
        default_factory=lambda: {"main": "+15005550006"},
        description='outgoing lines of robocalls, name -> caller number; VOICE_LINES=\'{"main": "+1..."}\'',
    )
    chat_base_url: str = Field(default="", description="the open-channel API; empty = not configured")
    chat_api_token: str = ""
    provider_timeout_seconds: float = 15.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str = Field(default="http://localhost:8000", description="base of tracking links")
    public_source_per_minute: int = Field(
        default=120, ge=1, description="requests a minute one address may make to webhooks and tracking links"
    )
    public_target_per_minute: int = Field(
        default=60, ge=1, description="requests a minute that may reach one order through them"
    )
    tracking_secret: str = Field(default="", description="signs tracking links; set it in production")
    codec_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:8233", "http://127.0.0.1:8233"],
        description="the Temporal Web UIs that may call the codec server",
    )
    payload_keys: str = Field(
        default="", description="keys that encrypt payloads in Temporal, `id:base64,...`, the current one first"
    )

    @property
    def database(self) -> str:
        """``DATABASE_URL``, or a SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'orders.db'}"


def with_tracking_secret(settings: Settings) -> Settings:
    """The settings with a tracking secret: ``TRACKING_SECRET``, or one made once and kept
    in the data folder (the worker signs links with it, the API checks them)."""
    if settings.tracking_secret:
        return settings
    return settings.model_copy(update={"tracking_secret": _kept(settings, "tracking_secret", secrets.token_urlsafe)})


def with_payload_keys(settings: Settings, new_key: Callable[[], str]) -> Settings:
    """The settings with payload keys: ``PAYLOAD_KEYS``, or one made once by ``new_key``
    and kept in the data folder (every process of one machine then uses the same)."""
    if settings.payload_keys:
        return settings
    return settings.model_copy(update={"payload_keys": _kept(settings, "payload_keys", new_key)})


def _kept(settings: Settings, name: str, make: Callable[[], str]) -> str:
    """A secret kept in the data folder (readable by this user only), made once: written
    whole under another name, then linked into place, so that two processes starting at
    once, or one that dies meanwhile, never leave an empty or a second secret."""
    path = settings.data_dir / name
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(make())
        with contextlib.suppress(FileExistsError):  # another process's is there: it is the one
            os.link(draft, path)
        draft.unlink()
    if not (secret := path.read_text().strip()):
        raise ValueError(f"{path} is empty: remove it to have a new secret made, or set {name.upper()}")
    return secret

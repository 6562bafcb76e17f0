"""Sending e-mail over SMTP. A permanent refusal (5xx) is not worth retrying; anything
else (connection refused, 4xx, time-out) is, and the activity's retry policy does it."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from temporalio.exceptions import ApplicationError


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    start_tls: bool = False
    use_tls: bool = False
    timeout: float = 20.0

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.start_tls,
                use_tls=self.use_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPResponseException as err:
            if 500 <= err.code < 600:
                raise ApplicationError(
                    f"SMTP server refused the message: {err.code} {err.message}",
                    type="MailRefused",
                    non_retryable=True,
                ) from err
            raise

"""Sending e-mail over SMTP, with what each failure means for a retry:

* the server answered 5xx (or refused every recipient for good): refused, not retried;
* it answered 4xx, or could not be reached, before the message itself went out: not
  sent, retried by the activity's retry policy;
* the connection broke while the message itself was going out (after DATA, before the
  server's answer): it may have been delivered, ``DeliveryUnknown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from temporalio.exceptions import ApplicationError

from providers.delivery import DeliveryUnknown, handing_over

UNAVAILABLE = "MailUnavailable"
REFUSED = "MailRefused"


class _Smtp(aiosmtplib.SMTP):
    """Knows how far a message got: the DATA command started, and the server took it."""

    data_started = False
    data_accepted = False

    async def data(self, *args: Any, **kwargs: Any) -> Any:
        await handing_over()  # the point of no return: before it, nothing can have been delivered
        self.data_started = True
        response = await super().data(*args, **kwargs)
        self.data_accepted = True
        return response


def _answered(code: int, message: str) -> ApplicationError:
    if 500 <= code < 600:
        return ApplicationError(f"SMTP server refused the message: {code} {message}", type=REFUSED, non_retryable=True)
    return ApplicationError(f"SMTP server did not take the message: {code} {message}", type=UNAVAILABLE)


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
        client = _Smtp(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=self.start_tls,
            use_tls=self.use_tls,
            timeout=self.timeout,
        )
        try:
            async with client:
                await client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as err:
            worst = max(refusal.code for refusal in err.recipients)
            raise _answered(worst, "; ".join(f"{r.recipient}: {r.message}" for r in err.recipients)) from err
        except aiosmtplib.SMTPResponseException as err:
            if client.data_accepted:
                return  # taken; only the goodbye failed
            raise _answered(err.code, err.message) from err
        except Exception as err:
            if client.data_accepted:
                return
            if client.data_started:
                raise DeliveryUnknown(f"the connection to {self.host} broke while the message went out: {err}") from err
            if isinstance(err, aiosmtplib.SMTPException | OSError):
                raise ApplicationError(
                    f"SMTP server {self.host}:{self.port} unreachable: {err}", type=UNAVAILABLE
                ) from err
            raise

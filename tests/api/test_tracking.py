"""Events the engine sees for itself: opening a sent e-mail, clicking its link, opening
the document it links to, each read from a real e-mail received over SMTP."""

from __future__ import annotations

import re
from email.message import EmailMessage

from automation.state import OrderView
from tests.api.conftest import Api
from tests.conftest import Mailbox
from tests.helpers import event, eventually, new_order, ready_view

LINK = re.compile(r'(?:src|href)="(http://127\.0\.0\.1:\d+/t/[^"]+)"')


async def _mail(api: Api, smtp: Mailbox) -> tuple[str, list[str]]:
    order = new_order("shop")
    await api.engine.orders.create_order(order)
    [message] = await eventually(lambda: _received(smtp, order.customer.emails[0].value))  # type: ignore[union-attr]
    await eventually(lambda: _sent_event(api, order.order_id))  # the rule's result is in: nothing races it
    html_part = message.get_body(("html",))
    assert html_part is not None
    return order.order_id, LINK.findall(str(html_part.get_content()))


async def _received(smtp: Mailbox, address: str) -> list[EmailMessage] | None:
    return smtp.to(address) or None


async def _at(api: Api, order_id: str, stage: str) -> OrderView | None:
    view = await ready_view(api.engine.orders, order_id)
    return view if view is not None and view.stage == stage else None


async def test_opening_the_mail_fires_email_viewed_once(api: Api, smtp: Mailbox) -> None:
    order_id, links = await _mail(api, smtp)
    [document, pay, pixel] = links
    assert "/t/doc/" in document and "/t/click/" in pay and "/t/open/" in pixel

    for _ in range(2):
        opened = await api.http.get(pixel)
        assert (opened.status_code, opened.headers["content-type"]) == (200, "image/gif")
    view = await eventually(lambda: _at(api, order_id, "viewed"))
    view = await eventually(lambda: _duplicates(api, order_id, 1))  # the second open
    sent = [e for e in view.timeline if e.kind == "event_received" and e.data["event"]["type"] == "email_sent"]
    assert len(sent) == 1


async def test_clicking_a_link_fires_email_link_clicked_and_leads_on(api: Api, smtp: Mailbox) -> None:
    order_id, [_, pay, _] = await _mail(api, smtp)

    clicked = await api.http.get(pay)
    assert (clicked.status_code, clicked.headers["location"]) == (302, f"https://shop.example/pay/{order_id}")
    view = await eventually(lambda: _at(api, order_id, "paying"))
    [click] = [e for e in view.timeline if e.kind == "event_received" and "link_clicked" in e.data["event"]["type"]]
    assert click.data["event"]["data"]["url"] == f"https://shop.example/pay/{order_id}"


async def test_opening_the_document_fires_document_opened(api: Api, smtp: Mailbox) -> None:
    order_id, [document, _, _] = await _mail(api, smtp)

    opened = await api.http.get(document)
    assert (opened.status_code, opened.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert "<p>For Ada Lovelace: 120.5 EUR.</p>" in opened.text
    assert opened.headers["content-security-policy"] == "script-src 'none'; object-src 'none'"
    await eventually(lambda: _at(api, order_id, "invoice_opened"))


async def test_a_forged_link_fires_nothing(api: Api, smtp: Mailbox) -> None:
    order_id, [_, pay, _] = await _mail(api, smtp)
    forged = pay[:-3] + ("AAA" if not pay.endswith("AAA") else "BBB")
    assert (await api.http.get(forged)).status_code == 404
    assert (await api.http.get(pay + "%C3%A9")).status_code == 404  # not even ASCII
    assert (await api.http.get(pay.replace("/t/click/", "/t/doc/"))).status_code == 404  # a click is no document
    # Events are handled in arrival order: once this one is, anything the links fired was too.
    await api.engine.orders.apply_event(order_id, event("visit"))
    view = await ready_view(api.engine.orders, order_id)
    assert view is not None and view.stage == "new"
    assert [e.data["event"]["type"] for e in view.timeline if e.kind == "event_received"] == [
        "document_created",
        "email_sent",
        "visit",
    ]


async def _duplicates(api: Api, order_id: str, count: int) -> OrderView | None:
    view = await ready_view(api.engine.orders, order_id)
    return view if view is not None and [e.kind for e in view.timeline].count("event_duplicate") == count else None


async def _sent_event(api: Api, order_id: str) -> bool:
    view = await ready_view(api.engine.orders, order_id)
    received = [e.data["event"]["type"] for e in view.timeline if e.kind == "event_received"] if view else []
    return "email_sent" in received

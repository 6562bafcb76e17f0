"""Every rule type, by ``kind``. Adding one: a module in ``activities/rules/`` with its
params model, its run function and ``RULE``, then one line here."""

from __future__ import annotations

from typing import Any

from activities.rules import (
    activity,
    add_comment,
    add_to_activity_stream,
    allow_delivery,
    cancel_order,
    change_responsible,
    change_status,
    control,
    create_document,
    create_list_element,
    delete_order,
    detailed_information,
    edit_details,
    edit_element,
    edit_list_element,
    edit_shipments,
    employee_email,
    employee_information,
    employee_sms,
    generate_code,
    notification,
    open_channel_message,
    pay_order,
    read_list_element,
    robocall,
    schedule_call,
    schedule_meeting,
    send_email,
    send_sms,
    set_shipment_status,
    ship_order,
    start_workflow,
    task,
    wait,
    write_to_log,
)
from activities.rules.base import RuleType

_ALL: list[RuleType[Any]] = [
    wait.RULE,
    add_comment.RULE,
    write_to_log.RULE,
    notification.RULE,
    task.RULE,
    change_responsible.RULE,
    change_status.RULE,
    generate_code.RULE,
    send_email.RULE,
    create_document.RULE,
    set_shipment_status.RULE,
    start_workflow.RULE,
    activity.RULE,
    add_to_activity_stream.RULE,
    control.RULE,
    detailed_information.RULE,
    employee_information.RULE,
    schedule_call.RULE,
    schedule_meeting.RULE,
    edit_element.RULE,
    edit_details.RULE,
    edit_shipments.RULE,
    pay_order.RULE,
    ship_order.RULE,
    cancel_order.RULE,
    allow_delivery.RULE,
    delete_order.RULE,
    send_sms.RULE,
    employee_sms.RULE,
    robocall.RULE,
    open_channel_message.RULE,
    create_list_element.RULE,
    read_list_element.RULE,
    edit_list_element.RULE,
    employee_email.RULE,
]
RULE_TYPES: dict[str, RuleType[Any]] = {rule.kind: rule for rule in _ALL}


def rule_type(kind: str) -> RuleType[Any]:
    """The rule type ``kind``, or a ValueError that lists the known ones."""
    try:
        return RULE_TYPES[kind]
    except KeyError:
        known = ", ".join(sorted(RULE_TYPES))
        raise ValueError(f"unknown rule type {kind!r}; known types: {known}") from None


def catalog_markdown() -> str:
    """The README's rule catalog, made from the registry so that it cannot drift."""
    lines = ["| rule | `type` | parameters | effect |", "| --- | --- | --- | --- |"]
    for kind, rule in sorted(RULE_TYPES.items(), key=lambda item: item[1].title):
        params = "; ".join(
            f"`{name}`" + (f" ({field.description})" if field.description else "")
            for name, field in rule.params.model_fields.items()
        )
        lines.append(f"| {rule.title} | `{kind}` | {params or '-'} | {rule.description} |")
    return "\n".join(lines)

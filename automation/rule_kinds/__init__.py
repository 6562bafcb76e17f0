"""Every rule kind the engine knows, by name: the core's registry.

Adding a rule kind: a module here with its params model and ``KIND`` (one line below), and
its activity in ``activities/rules/`` under the same name, with a ``run`` function.
"""

from __future__ import annotations

from typing import Any

from automation.rule_kinds import (
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
    set_variable,
    ship_order,
    start_workflow,
    task,
    wait,
    write_to_log,
)
from automation.rules import RuleKind

_ALL: list[RuleKind[Any]] = [
    wait.KIND,
    add_comment.KIND,
    write_to_log.KIND,
    set_variable.KIND,
    notification.KIND,
    task.KIND,
    change_responsible.KIND,
    change_status.KIND,
    generate_code.KIND,
    send_email.KIND,
    create_document.KIND,
    set_shipment_status.KIND,
    start_workflow.KIND,
    activity.KIND,
    add_to_activity_stream.KIND,
    control.KIND,
    detailed_information.KIND,
    employee_information.KIND,
    schedule_call.KIND,
    schedule_meeting.KIND,
    edit_element.KIND,
    edit_details.KIND,
    edit_shipments.KIND,
    pay_order.KIND,
    ship_order.KIND,
    cancel_order.KIND,
    allow_delivery.KIND,
    delete_order.KIND,
    send_sms.KIND,
    employee_sms.KIND,
    robocall.KIND,
    open_channel_message.KIND,
    create_list_element.KIND,
    read_list_element.KIND,
    edit_list_element.KIND,
    employee_email.KIND,
]
RULE_KINDS: dict[str, RuleKind[Any]] = {kind.name: kind for kind in _ALL}


def rule_kind(name: str) -> RuleKind[Any]:
    """The rule kind ``name``, or a ValueError that lists the known ones."""
    try:
        return RULE_KINDS[name]
    except KeyError:
        known = ", ".join(sorted(RULE_KINDS))
        raise ValueError(f"unknown rule type {name!r}; known types: {known}") from None


def catalog_markdown() -> str:
    """The README's rule catalog, made from the specs so that it cannot drift."""
    lines = ["| rule | `type` | parameters | effect |", "| --- | --- | --- | --- |"]
    for name, kind in sorted(RULE_KINDS.items(), key=lambda item: item[1].title):
        params = "; ".join(
            f"`{field_name}`" + (f" ({field.description})" if field.description else "")
            for field_name, field in kind.params.model_fields.items()
        )
        lines.append(f"| {kind.title} | `{name}` | {params or '-'} | {kind.description} |")
    return "\n".join(lines)

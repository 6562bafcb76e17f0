"""The catalog of rule and trigger types: grouped as the source documents group them, made
from the specs the engine validates with, searchable by words."""

from __future__ import annotations

from automation.catalog import GROUPS, catalog, search
from automation.events import EVENT_TYPES
from automation.rule_kinds import RULE_KINDS


def test_every_rule_and_trigger_type_is_in_its_group() -> None:
    entries = catalog()
    assert sorted(e.name for e in entries if e.kind == "rule") == sorted(RULE_KINDS)
    assert sorted(e.name for e in entries if e.kind == "trigger") == sorted(EVENT_TYPES)
    groups = {e.name: e.group for e in entries if e.kind == "rule"}
    assert {name for name, group in groups.items() if group == "customer_communication"} == {
        "send_sms", "send_email", "robocall", "open_channel_message",
    }  # fmt: skip
    assert [e.group for e in entries] == sorted((e.group for e in entries), key=list(GROUPS).index)


def test_parameters_come_with_their_types_defaults_and_descriptions() -> None:
    [log] = [e for e in catalog() if e.name == "write_to_log"]
    assert [(p.name, p.type, p.required, p.default) for p in log.parameters] == [
        ("message", "text", True, None),
        ("level", "one of: info, warning, error", False, "info"),
    ]
    assert log.parameters[0].description == "the log line; order values allowed"
    [wait] = [e for e in catalog() if e.name == "wait"]
    assert wait.parameters[0].name == "timeout" and wait.parameters[0].type.endswith("(or empty)")
    [chat] = [e for e in catalog() if e.name == "chat_message"]
    assert [p.name for p in chat.parameters] == ["channel_id", "text"]


def test_search_finds_every_word_in_any_case_or_accent_and_puts_names_first() -> None:
    assert [e.name for e in search("sms")] == ["employee_sms", "send_sms"]
    assert [e.name for e in search("SMS customer")] == ["send_sms"]
    assert [e.name for e in search("É-MAIL", "triggers")] == [
        "email_link_clicked", "email_sent", "email_viewed", "email_received",
    ]  # fmt: skip
    by_description = [e.name for e in search("mp3")]
    assert by_description == ["robocall"]  # in its description only
    assert search("no such words at all") == []
    assert len(search("", "triggers")) == len(EVENT_TYPES)

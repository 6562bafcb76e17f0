import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from automation.errors import describe
from automation.rule_kinds.robocall import RobocallParams
from tests.providers_server import ACCOUNT_SID, ProvidersServer, outbox_row
from tests.rules.conftest import RunRule

SAY = {"text": "Hello {{ customer.first_name }}, order {{ order.number }}: {{ variables.note }}"}
MP3 = "https://cdn.shop.example/voice/ready.mp3"


async def test_calls_the_first_phone_and_reads_the_text(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    params = {**SAY, "speech_rate": "slow", "volume": "loud", "language": "en-GB", "voice": "Polly.Amy"}
    result = await run_rule("robocall", params, run_key="O-1/0/1", variables={"note": "5 < 6 & ready"})

    [call] = providers_server.delivered
    assert call.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert (call.authorized, call.token) == (True, "O-1/0/1")
    assert call.fields == {
        "To": "+15550100",
        "From": "+15005550006",
        "Twiml": '<Response><Say voice="Polly.Amy" language="en-GB"><prosody rate="slow" volume="loud">'
        "Hello Ada, order N-1: 5 &lt; 6 &amp; ready</prosody></Say></Response>",
    }
    assert result.summary == f"robocall to +15550100 from line main ({call.id}): Hello Ada, order N-1: 5 < 6 & ready"
    row = await outbox_row(rule_deps.engine, "O-1/0/1")
    assert row is not None
    assert (row.channel, row.recipient, row.subject, row.status, row.message_id) == (
        "call", "+15550100", "line main", "sent", call.id,
    )  # fmt: skip


async def test_plays_a_recording_from_the_chosen_line(run_rule: RunRule, providers_server: ProvidersServer) -> None:
    await run_rule("robocall", {"mp3_url": MP3, "line": "support"})
    assert providers_server.of("call") == [
        {"To": "+15550100", "From": "+15005550007", "Twiml": f"<Response><Play>{MP3}</Play></Response>"}
    ]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({}, "give either text or mp3_url (exactly one)"),
        ({"text": "hi", "mp3_url": MP3}, "give either text or mp3_url (exactly one)"),
        ({"mp3_url": "http://cdn.shop.example/a.mp3"}, "mp3_url: must be an https link to an .mp3 file"),
        ({"mp3_url": "https://cdn.shop.example/a.wav"}, "mp3_url: must be an https link to an .mp3 file"),
        ({"text": "hi", "speech_rate": "warp"}, "speech_rate: input should be 'x-slow', 'slow', 'medium', 'fast' or "),
    ],
)
def test_parameters_need_exactly_one_of_a_text_or_a_public_mp3(params: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RobocallParams.model_validate(params)
    [line] = describe(refused.value)
    assert line.startswith(problem)


async def test_an_unknown_line_is_refused_before_anything_is_recorded(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await run_rule("robocall", {**SAY, "line": "night"}, run_key="O-1/0/2")
    assert (refused.value.type, refused.value.non_retryable) == ("ProviderRefused", True)
    assert refused.value.message == "no outgoing line 'night' is configured; lines: main, support"
    assert providers_server.requests == []
    assert await outbox_row(rule_deps.engine, "O-1/0/2") is None


async def test_no_phone_of_that_type_calls_nobody_and_says_why(
    run_rule: RunRule, providers_server: ProvidersServer
) -> None:
    result = await run_rule("robocall", {**SAY, "phone_type": "work"})
    assert not result.effective
    assert result.summary == "not sent: the customer has no phone number of type 'work'"
    assert providers_server.requests == []


async def test_a_transient_failure_is_retryable_and_the_retry_calls_once(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.fail_next(502)
    with pytest.raises(ApplicationError) as failed:
        await run_rule("robocall", {"mp3_url": MP3}, run_key="O-1/0/3")
    assert (failed.value.type, failed.value.non_retryable) == ("ProviderUnavailable", False)

    await run_rule("robocall", {"mp3_url": MP3}, run_key="O-1/0/3")
    await run_rule("robocall", {"mp3_url": MP3}, run_key="O-1/0/3")  # a later retry: recorded, no call
    assert len(providers_server.requests) == 2
    [call] = providers_server.delivered
    row = await outbox_row(rule_deps.engine, "O-1/0/3")
    assert row is not None and (row.status, row.message_id) == ("sent", call.id)


async def test_an_invalid_number_is_refused_for_good(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.refuse("+15550100")
    with pytest.raises(ApplicationError) as refused:
        await run_rule("robocall", {"mp3_url": MP3}, run_key="O-1/0/4")
    assert (refused.value.type, refused.value.non_retryable) == ("ProviderRefused", True)
    assert refused.value.message == (
        "telephony provider refused (400) error 21211: The 'To' number +15550100 is not a valid phone number."
    )
    row = await outbox_row(rule_deps.engine, "O-1/0/4")
    assert row is not None and row.status == "refused"


async def test_a_retry_after_a_failed_call_makes_the_call_first_recorded(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.fail_next(503)
    with pytest.raises(ApplicationError):
        await run_rule("robocall", SAY, run_key="O-1/0/5", variables={"note": "ready"})
    # The retry reads its text again (a value may have changed): the outbox's first TwiML is sent.
    await run_rule("robocall", SAY, run_key="O-1/0/5", variables={"note": "changed"})

    assert [r.token for r in providers_server.requests] == ["O-1/0/5", "O-1/0/5"]
    assert providers_server.requests[0].fields == providers_server.requests[1].fields
    [call] = providers_server.delivered
    assert "ready" in call.fields["Twiml"]
    row = await outbox_row(rule_deps.engine, "O-1/0/5")
    assert row is not None and (row.status, row.message_id) == ("sent", call.id)


async def test_a_call_whose_answer_is_lost_is_unconfirmed_and_not_made_again(
    run_rule: RunRule, rule_deps: WorkerResources, providers_server: ProvidersServer
) -> None:
    providers_server.lose_next_response()
    first = await run_rule("robocall", SAY, run_key="O-1/0/6", variables={"note": "ready"})
    await run_rule("robocall", SAY, run_key="O-1/0/6", variables={"note": "ready"})

    assert "robocall to +15550100 unconfirmed (telephony provider did not answer" in first.summary
    assert len(providers_server.requests) == len(providers_server.delivered) == 1

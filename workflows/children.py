"""Workflows an order starts as its children (the Start workflow rule)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from automation.children import ChildInput, FollowUpInput
    from automation.contracts import LEAVE_FOLLOW_UP_NOTE, FollowUpNote


@workflow.defn(name="follow_up")
class FollowUpWorkflow:
    @workflow.run
    async def run(self, input: ChildInput) -> None:
        follow_up = FollowUpInput.model_validate(input.input)  # checked by the Start workflow rule
        hours, note = follow_up.after_hours, follow_up.note
        await workflow.sleep(timedelta(hours=hours), summary=f"follow up in {hours:g} h")
        await workflow.execute_activity(
            LEAVE_FOLLOW_UP_NOTE,
            FollowUpNote(order_id=input.order_id, run_key=input.run_key, note=note),
            start_to_close_timeout=timedelta(seconds=30),
            summary="leave the follow-up note",
        )


CHILD_WORKFLOW_CLASSES = [FollowUpWorkflow]

"""The activity of the ``follow_up`` child workflow."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from automation.contracts import LEAVE_FOLLOW_UP_NOTE, FollowUpNote
from store.database import insert_once, session
from store.tables import LogLine


class FollowUpActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name=LEAVE_FOLLOW_UP_NOTE)
    async def leave_follow_up_note(self, input: FollowUpNote) -> None:
        async with session(self._engine) as db:
            key = f"{input.run_key}/follow-up"
            await insert_once(
                db, LogLine(run_key=key, order_id=input.order_id, level="info", message=input.note), "run_key"
            )
            await db.commit()

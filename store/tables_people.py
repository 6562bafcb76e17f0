"""Items for employees that rules create: news-feed posts and the order's activities
(to-dos, planned calls and meetings). Like every rule write, keyed by ``run_key``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from store.columns import when


class FeedPost(SQLModel, table=True):
    """A message in the news feed (the activity stream) employees read."""

    __tablename__ = "feed_posts"
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    author_id: str | None = Field(default=None, description="employee shown as author; None = automation")
    text: str
    created_at: datetime = when(nullable=False)


class OrderActivity(SQLModel, table=True):
    """An activity listed on the order: a to-do, or a planned call or meeting."""

    __tablename__ = "order_activities"
    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True)
    order_id: str = Field(index=True)
    kind: str = Field(description="todo, call, meeting")
    subject: str
    description: str = ""
    assignee_id: str = Field(index=True)
    with_whom: str | None = Field(default=None, description="the other party of a call or meeting")
    starts_at: datetime | None = when(nullable=True)
    ends_at: datetime | None = when(nullable=True)
    deadline: datetime | None = when(nullable=True)
    created_at: datetime = when(nullable=False)

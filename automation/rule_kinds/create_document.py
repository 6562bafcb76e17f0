"""The core spec of this rule type; its activity is activities/rules/create_document.py."""

from __future__ import annotations

from pydantic import Field

from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class CreateDocumentParams(RuleParams):
    template_id: str = Field(
        min_length=1,
        max_length=64,
        description="which template (the directory's document_templates); triggers match on it",
    )
    title: Template | None = Field(default=None, max_length=255, description="instead of the template's title")

    def variables_written(self) -> list[str]:
        return ["document_url", "document_id"]


KIND = RuleKind(
    raises=("document_created",),
    name="create_document",
    title="Create document",
    description="makes an HTML document for the order from a template, stored, with a tracked link to it",
    params=CreateDocumentParams,
)

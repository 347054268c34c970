"""What every tool's structured result shares: no `null`, no empty string, in the data and the schema.

A model reads a tool's `outputSchema` and `structuredContent`; a field with no value is left out
of both rather than spelled `null`, so the schema of an optional field is its bare type.
"""

from __future__ import annotations

from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import SkipJsonSchema

# An optional field (or argument): left out when there is no value, so never `null` in its schema.
Absent = SkipJsonSchema[None]
# A JSON object: a result, or part of one, built directly rather than through a model.
Json = dict[str, Any]


def drop_null_default(schema: dict[str, Any]) -> None:
    """An absent value has no default to show: `"default": null` would contradict its type."""
    if schema.get("default", ...) is None:
        del schema["default"]


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            drop_null_default(prop)


class Compact(BaseModel):
    """Part of a result: optional fields are left out, not null, in the data and in the schema."""

    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)


class ToolResult(Compact):
    """A tool's structured result."""

    def to_json(self) -> Json:
        """The JSON form: no null, no empty string, no empty container."""
        data: Json = self.model_dump(mode="json", exclude_none=True)
        return data


def call_tool_result(text: str, result: ToolResult | Json) -> CallToolResult:
    """The MCP result of a tool call: the text a model reads, and the same facts as structured content
    (a result model, or the JSON of one built directly)."""
    data = result.to_json() if isinstance(result, ToolResult) else result
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)

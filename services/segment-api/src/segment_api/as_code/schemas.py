"""Request and response bodies of segments as code."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

_FILES: dict[str, JsonValue] = {
    "adults-in-jakarta.yaml": "name: Adults in Jakarta\nobject: customer\nrules:\n  type: group\n"
    "  rules:\n  - type: property\n    field: age\n    operator: gt\n    value: 30\n"
}


class FilesOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"files": _FILES}]})

    files: dict[str, str] = Field(description="File name → its YAML, one a segment.")


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"files": _FILES}]})

    files: dict[str, str] = Field(max_length=1000, description="File name → its YAML.")


class ApplyRequest(PlanRequest):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"files": _FILES, "fingerprint": "3f2a…"}]},
    )

    fingerprint: str = Field(
        min_length=1, max_length=100, description="The plan's: refused if the account moved since."
    )


class Change(BaseModel):
    action: str = Field(description="create, update or archive.")
    name: str
    file: str | None = Field(None, description="The file that asks for it (none to archive).")
    would_enter: int | None = Field(None, description="Members who would enter, by its rules now.")
    would_exit: int | None = Field(None, description="Members who would leave.")


class PlanOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "changes": [
                        {
                            "action": "create",
                            "name": "Adults in Jakarta",
                            "file": "adults-in-jakarta.yaml",
                            "would_enter": 412,
                            "would_exit": 0,
                        }
                    ],
                    "unchanged": ["VIPs"],
                    "fingerprint": "3f2a…",
                }
            ]
        }
    )

    changes: list[Change]
    unchanged: list[str]
    fingerprint: str = Field(description="The account's segments as planned against.")


class ApplyOut(PlanOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"changes": [], "unchanged": ["VIPs"], "fingerprint": "3f2a…", "applied": False}
            ]
        }
    )

    applied: bool = Field(description="False when there was nothing to change.")

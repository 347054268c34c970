"""GetActivitySetting over real HTTP: the custom field names of each activity type, and its errors."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from lsq_mcp.sandbox import Fault, SandboxServer
from lsq_mcp.sandbox.data import CATALOG, DUPLICATE_NAME_EVENT_CODE, OPP_HTML, OPP_ODD, UNLISTED_EVENT_CODE
from tests.sandbox.helpers import ACTIVITY_SETTING, GUID, error_of

FIELD_KEYS = [
    "SchemaName", "DisplayName", "Value", "DataType", "IsMandatory", "ShowInForm", "Sequence", "OptionSet",
]  # fmt: skip


def setting(client: httpx2.Client, code: int | str) -> dict[str, Any]:
    response = client.get(ACTIVITY_SETTING, params={"code": code})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def names(client: httpx2.Client, code: int | str) -> dict[str, str]:
    return {field["SchemaName"]: field["DisplayName"] for field in setting(client, code)["Fields"]}


@pytest.mark.parametrize(
    ("code", "name"), [(21, "Inbound Phone Call Activity"), (22, "Outbound Phone Call Activity")]
)
def test_phone_calls_name_their_fields(client: httpx2.Client, code: int, name: str) -> None:
    answer = setting(client, code)
    assert GUID.match(answer["ID"])
    assert answer["Name"] == name
    assert {"mx_Custom_1": "Call Duration", "mx_Custom_2": "Call Outcome"}.items() <= names(
        client, code
    ).items()


def test_fields_have_the_documented_shape(client: httpx2.Client) -> None:
    fields = setting(client, 203)["Fields"]
    for sequence, field in enumerate(fields, start=1):
        assert list(field) == FIELD_KEYS
        assert field["Value"] is None
        assert field["Sequence"] == sequence
        assert isinstance(field["IsMandatory"], bool)
        assert isinstance(field["ShowInForm"], bool)
    assert setting(client, 203) != setting(client, 204)


def _codes_and_custom_fields() -> dict[int, set[str]]:
    """Every event code the sample rows use, with the mx_Custom_N fields its rows carry."""
    used: dict[int, set[str]] = {}
    for timeline in CATALOG.activities.values():
        for activity in timeline:
            custom = {key for key in activity.row if key.startswith("mx_Custom_")}
            used.setdefault(int(activity.row["ActivityEvent"] or 0), set()).update(custom)
    return used


def test_every_custom_field_a_sample_row_carries_has_a_real_name(client: httpx2.Client) -> None:
    named = 0
    for code, schemas in _codes_and_custom_fields().items():
        if not schemas:
            continue
        given = names(client, code)
        assert schemas <= set(given), code
        assert all(not display.lower().startswith(("custom", "mx_")) for display in given.values())
        named += 1
    assert named >= 8


def test_meeting_has_two_fields_with_one_name_and_rows_use_both(client: httpx2.Client) -> None:
    meeting = names(client, DUPLICATE_NAME_EVENT_CODE)
    assert meeting["mx_Custom_4"] == meeting["mx_Custom_5"] == "Visit Notes"
    assert list(meeting.values()).count("Visit Notes") == 2
    rows = [a.row for a in CATALOG.activities_of(OPP_ODD) if a.row["ActivityEvent"] == "203"]
    assert any(row.get("mx_Custom_4") and row.get("mx_Custom_5") for row in rows)
    html = [a.row for a in CATALOG.activities_of(OPP_HTML) if a.row["ActivityEvent"] == "203"]
    assert any(row.get("mx_Custom_5") and "mx_Custom_4" not in row for row in html)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (23, "Activity settings are not available for system activity type 23"),
        (33, "Activity settings are not available for system activity type 33"),
        (34, "Activity settings are not available for system activity type 34"),
        (35, "Activity settings are not available for system activity type 35"),
        (208, "No custom fields are defined for activity type 208"),
        (209, "No custom fields are defined for activity type 209"),
        (UNLISTED_EVENT_CODE, f"Activity type with code {UNLISTED_EVENT_CODE} does not exist"),
        (12002, "Activity type with code 12002 does not exist"),
    ],
)
def test_types_without_names_answer_500(client: httpx2.Client, code: int, message: str) -> None:
    response = client.get(ACTIVITY_SETTING, params={"code": code})
    assert error_of(response) == (500, "MXInvalidInputException", message)


@pytest.mark.parametrize("params", [{}, {"code": ""}, {"code": "abc"}, {"code": "-1"}, {"code": "2.5"}])
def test_missing_or_non_integer_code_is_400(client: httpx2.Client, params: dict[str, str]) -> None:
    response = client.get(ACTIVITY_SETTING, params=params)
    assert error_of(response) == (400, "MXInvalidInputException", "Invalid Activity Event Code")


def test_query_name_and_path_ignore_case(client: httpx2.Client) -> None:
    response = client.get(ACTIVITY_SETTING.upper(), params={"CODE": "22"})
    assert response.status_code == 200
    assert response.json()["Name"] == "Outbound Phone Call Activity"


def test_keys_are_required(sandbox: SandboxServer) -> None:
    response = httpx2.get(sandbox.url + ACTIVITY_SETTING, params={"code": 22})
    assert error_of(response)[:2] == (401, "MXInvalidAccessDetailsException")
    assert httpx2.post(sandbox.url + ACTIVITY_SETTING, params={"code": 22}).status_code == 405


def test_rate_limit_and_faults_apply(sandbox: SandboxServer, client: httpx2.Client) -> None:
    sandbox.state.config.rate_limit = (1, 5.0)
    sandbox.state.push_fault(Fault("status", path="GetActivitySetting"))
    assert client.get(ACTIVITY_SETTING, params={"code": 22}).status_code == 503
    assert client.get(ACTIVITY_SETTING, params={"code": 22}).status_code == 200
    assert error_of(client.get(ACTIVITY_SETTING, params={"code": 22}))[:2] == (
        429,
        "MXAPIRateLimitExceededException",
    )

"""The catalog: everything the sandbox serves, and the look-ups its endpoints make.

It never changes once built, so handlers only read it (and copy rows they return), and tests
can ask it what an endpoint should answer without going through HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lsq_mcp.sandbox.records import (
    SampleActivity,
    SampleActivitySetting,
    SampleLead,
    SampleOpportunity,
    SampleTask,
    TaskPlan,
)


@dataclass(frozen=True)
class Catalog:
    """Leads, opportunities, their activities and tasks, activity types and their settings."""

    leads: tuple[SampleLead, ...]
    opportunities: tuple[SampleOpportunity, ...]
    activities: Mapping[str, tuple[SampleActivity, ...]]
    activity_types: tuple[dict[str, Any], ...]
    user: Mapping[str, str]
    tasks: Mapping[str, tuple[TaskPlan, ...]] = field(default_factory=dict)
    tasks_refused: frozenset[str] = frozenset()
    activity_settings: Mapping[int, SampleActivitySetting] = field(default_factory=dict)

    def lead(self, lead_id: str) -> SampleLead | None:
        """The lead with this id (case-insensitive), or None."""
        wanted = lead_id.lower()
        return next((lead for lead in self.leads if lead.id == wanted), None)

    def leads_by_email(self, email: str) -> list[SampleLead]:
        """Leads whose email matches, ignoring case (LeadSquared compares emails that way)."""
        wanted = email.strip().casefold()
        return [lead for lead in self.leads if lead.email and lead.email.casefold() == wanted]

    def opportunity(self, opportunity_id: str) -> SampleOpportunity | None:
        """The opportunity with this id (case-insensitive), or None."""
        wanted = opportunity_id.lower()
        return next((opp for opp in self.opportunities if opp.id == wanted), None)

    def opportunities_of_lead(self, lead_id: str) -> list[SampleOpportunity]:
        """A lead's opportunities, newest first."""
        wanted = lead_id.lower()
        found = [opp for opp in self.opportunities if opp.lead_id == wanted]
        return sorted(found, key=lambda opp: opp.created_on, reverse=True)

    def activities_of(self, opportunity_id: str) -> tuple[SampleActivity, ...]:
        """An opportunity's activities in creation order (empty when it has none)."""
        return self.activities.get(opportunity_id.lower(), ())

    def activity(self, activity_id: str) -> SampleActivity | None:
        """Any activity by its ProspectActivityId, or None."""
        wanted = activity_id.lower()
        for activities in self.activities.values():
            for activity in activities:
                if activity.id == wanted:
                    return activity
        return None

    def tasks_of(self, opportunity_id: str, now: datetime) -> tuple[SampleTask, ...]:
        """An opportunity's tasks as they read at ``now``, in creation order (empty when none).

        Says nothing about permission: see ``refuses_tasks``.
        """
        return tuple(plan.at(now) for plan in self.tasks.get(opportunity_id.lower(), ()))

    def refuses_tasks(self, opportunity_id: str) -> bool:
        """Whether the sandbox user may not see this opportunity's tasks."""
        return opportunity_id.lower() in self.tasks_refused

    def activity_type(self, code: int) -> Mapping[str, Any] | None:
        """ActivityTypes.Get's item for ``code`` (whose ActivityEvent may be a string), or None."""
        return next((kind for kind in self.activity_types if str(kind["ActivityEvent"]) == str(code)), None)

    def activity_setting(self, code: int) -> SampleActivitySetting | None:
        """The custom field names of activity type ``code``, or None when it has none to tell."""
        return self.activity_settings.get(code)

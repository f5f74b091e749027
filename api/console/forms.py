"""The form of each case action, and the command a submitted form makes.

The fields are the domain command's (as the API's bodies are); a decision form
(extension decision, verification) picks its command with ``decision``. A form
may attach one file: it is uploaded to the case first and cited as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import commands as c
from domain.vocabulary import AccountabilityAction, Actor

__all__ = ["FORMS", "Field", "build_command", "command_class"]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str  # a message key
    # text | textarea | date | number | select | checkbox | milestone, or a choice the
    # case page lists by name: unit (the person's subtree), cadre (theirs, by unit),
    # open_case (the unit's other open cases, similar ones first)
    kind: str = "text"
    required: bool = False
    options: tuple[tuple[str, str, str], ...] = ()  # (value, label kind, code) for select
    only_for: str | None = None  # a decision this field belongs to


# action -> (fields, takes a file, decision choices)
FORMS: dict[str, tuple[tuple[Field, ...], bool, tuple[str, ...]]] = {
    "plan": ((Field("plan", "f.plan", "textarea", True),), True, ()),
    "progress": (
        (
            Field("text", "f.text", "textarea", True),
            Field("percent_complete", "f.percent_complete", "number"),
        ),
        True,
        (),
    ),
    "milestone-report": (
        (
            Field("milestone_id", "f.milestone_id", "milestone", True),
            Field("text", "f.text", "textarea", True),
        ),
        True,
        (),
    ),
    "extension-request": (
        (
            Field("proposed_deadline", "f.proposed_deadline", "date", True),
            Field("reason", "f.reason", "textarea", True),
        ),
        False,
        (),
    ),
    "closure-request": ((Field("summary", "f.summary", "textarea", True),), True, ()),
    "extension-decision": (
        (
            Field("new_deadline", "f.new_deadline", "date", only_for="grant"),
            Field("comment", "f.comment", "textarea", only_for="grant"),
            Field("reason", "f.reason", "textarea", only_for="deny"),
        ),
        False,
        ("grant", "deny"),
    ),
    "verification": (
        (
            Field("comment", "f.comment", "textarea", only_for="pass"),
            Field("reason", "f.reason", "textarea", only_for="reject"),
        ),
        False,
        ("pass", "reject"),
    ),
    "accountability": (
        (
            Field(
                "action",
                "f.action",
                "select",
                True,
                tuple((a.value, "accountability", a.value) for a in AccountabilityAction),
            ),
            Field("reason", "f.reason", "textarea", True),
            Field("by_decision", "f.by_decision", "checkbox"),
        ),
        False,
        (),
    ),
    "tolerance": (
        (
            Field("reason", "f.reason", "textarea", True),
            Field("by_decision", "f.by_decision", "checkbox"),
        ),
        False,
        (),
    ),
    "deadline": (
        (
            Field("deadline", "f.deadline", "date", True),
            Field("reason", "f.reason", "textarea", True),
        ),
        False,
        (),
    ),
    "target": ((Field("target", "f.target", "textarea", True),), False, ()),
    "assign": (
        (
            Field("cadre_id", "f.cadre_id", "cadre", True),
            Field("reason", "f.reason", "textarea", True),
        ),
        False,
        (),
    ),
    "reassign": (
        (
            Field("unit_id", "f.unit_id", "unit", True),
            Field("cadre_id", "f.cadre_id", "cadre", True),
            Field("reason", "f.reason", "textarea", True),
        ),
        False,
        (),
    ),
    "satisfaction": (
        (
            Field("score_percent", "f.score_percent", "number", True),
            Field("respondents", "f.respondents", "number"),
            Field("note", "f.note", "textarea"),
        ),
        False,
        (),
    ),
    "reopen": (
        (
            Field("reason", "f.reason", "textarea", True),
            Field("deadline", "f.reopen_deadline", "date"),
        ),
        False,
        (),
    ),
    "merge-into": (
        (
            Field("into_case_id", "f.into_case_id", "open_case", True),
            Field("reason", "f.reason", "textarea", True),
        ),
        False,
        (),
    ),
    "withdraw": ((Field("reason", "f.reason", "textarea", True),), False, ()),
}

_COMMANDS: dict[str, type[c.Command]] = {
    "plan": c.SubmitPlan,
    "progress": c.ReportProgress,
    "milestone-report": c.ReportMilestone,
    "extension-request": c.RequestExtension,
    "closure-request": c.RequestClosure,
    "extension-decision:grant": c.GrantExtension,
    "extension-decision:deny": c.DenyExtension,
    "verification:pass": c.VerifyClosure,
    "verification:reject": c.RejectClosure,
    "accountability": c.RecordAccountability,
    "tolerance": c.ApplyTolerance,
    "deadline": c.SetDeadline,
    "target": c.SetTarget,
    "assign": c.AssignResponsibility,
    "reassign": c.TransferResponsibility,
    "satisfaction": c.RecordSatisfaction,
    "reopen": c.ReopenCase,
    "withdraw": c.WithdrawCase,
    "merge-into": c.MergeIntoCase,
}


def command_class(action: str, decision: str | None) -> type[c.Command] | None:
    if FORMS.get(action, ((), False, ()))[2]:
        return _COMMANDS.get(f"{action}:{decision}")
    return _COMMANDS.get(action)


def build_command(
    action: str, decision: str | None, values: dict[str, str], actor: Actor, evidence: list[Any]
) -> c.Command:
    """The command of a submitted form (pydantic's ValidationError for bad content)."""
    command = command_class(action, decision)
    if command is None:
        raise KeyError(action)
    fields: dict[str, Any] = {}
    for field in FORMS[action][0]:
        if field.only_for is not None and field.only_for != decision:
            continue
        if field.name not in command.model_fields:
            continue
        value = values.get(field.name, "")
        if field.kind == "checkbox":
            fields[field.name] = value in ("on", "true", "1")
        elif value.strip() != "" or field.required:
            fields[field.name] = value
    if evidence and "evidence" in command.model_fields:
        fields["evidence"] = evidence
    return command.model_validate({"actor": actor, **fields})

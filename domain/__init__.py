"""The business of rectification (整改), as pure Python.

Imports nothing but the standard library and pydantic (and, lazily, the pure-data
``chinese_calendar`` package for the working-day calendar), so the workflow, the
API validators and the archive fold all call the same rules.

vocabulary   roles, sources, kinds, statuses, lights, escalation levels
values       Evidence (佐证材料 references), Milestone
events       every fact of a case's life; EVENT_TYPES, event_from_json
commands     every human action and every timer step, each with its actor
errors       DomainError → PermissionDenied | InvalidCommand | InvalidState
state        CaseState, evolve, fold
decide       decide(state, command, now, policy) and its role table
guards       the check_/ensure_ functions behind decide; handlers/ the rules per step
policy       Policy (deadlines, reminders, yellow, ladder, caps, look-back, calendar)
workdays     WorkingCalendar: statutory holidays, 调休, provisional years
chinese_dates zh_date: a date in a Chinese sentence (2026年12月4日)
traffic_light, schedule   the light of a case at a moment; the timer steps still due
duplicates   find_duplicate (减负), ensure_not_duplicate
archive      build_archive: per cadre and period, every figure with its event ids
case         the stable entry point: CaseState, decide, evolve, fold, case_id_for
"""

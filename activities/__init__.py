"""Temporal activities: every side effect a case workflow needs."""

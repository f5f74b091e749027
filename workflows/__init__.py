"""Temporal workflows: one RectificationCaseWorkflow per finding."""

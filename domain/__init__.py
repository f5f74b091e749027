"""The business of rectification (整改), as pure Python.

Imports nothing but the standard library and pydantic, so the workflow, the
API validators and the archive fold all call the same rules.
"""

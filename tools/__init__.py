"""Maintenance scripts, run as modules from the repository root
(``.venv/bin/python -m tools.openapi_examples``)."""

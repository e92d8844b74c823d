"""Shared pytest set-up: the project root is importable (apps, libs, tools, tests)."""

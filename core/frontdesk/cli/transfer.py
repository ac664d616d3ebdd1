"""Placeholder module: its commands land with their feature."""

COMMANDS: list = []

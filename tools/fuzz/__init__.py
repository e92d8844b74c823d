"""Fuzzing the public edge: schemathesis against the gateway's OpenAPI, signed in as a customer and as an admin."""

from tools.fuzz.campaign import BOUNDED, FULL, Campaign, Outcome, run

__all__ = ["BOUNDED", "FULL", "Campaign", "Outcome", "run"]

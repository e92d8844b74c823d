"""Chaos suite: faults under load through the gateway, then the books (stock, money, tenants, errors)."""

from tools.chaos.plan import FULL, SHORT, Plan
from tools.chaos.run import Outcome, run

__all__ = ["FULL", "SHORT", "Outcome", "Plan", "run"]

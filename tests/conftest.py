"""Shared fixtures: the real knowledge base and matcher, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import Knowledge, load_knowledge
from bot.matching import Matcher

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="session")
def matcher(knowledge: Knowledge) -> Matcher:
    return Matcher(knowledge)

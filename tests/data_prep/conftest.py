"""Fixtures of the data_prep tests."""
from __future__ import annotations

import itertools

import pytest

from prep_helpers import Prepared, run_prep


@pytest.fixture
def prepare(tmp_path):
    """``prepare(source, input, **options)`` runs both transforms in memory -> ``Prepared``."""
    runs = itertools.count()

    def run(source: str, input_path: str = "", **options) -> Prepared:
        return run_prep(str(tmp_path / f"out{next(runs)}"), source, input_path, **options)

    return run

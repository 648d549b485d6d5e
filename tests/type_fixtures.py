"""The small survey with a ranking and a matrix (tests/fixtures/surveys), for every layer's tests."""

from __future__ import annotations

from pathlib import Path

from dialogs.definition import load_survey_file
from dialogs.model import Survey

RANKING_AND_MATRIX = Path(__file__).parent / "fixtures" / "surveys" / "rangering-og-matrise.yaml"


def ranking_and_matrix_survey() -> Survey:
    """Areas (multi), their ranking, their urgency as a matrix, and a top-2 ranking."""
    return load_survey_file(RANKING_AND_MATRIX)

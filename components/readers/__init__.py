"""Readers: one per artifact kind, each turning bytes into normalised data."""

from .evaluations import EvaluationReadError, read_evaluation
from .events import EventsReadError, ScoredEvents, normalise_events
from .models import ModelArtifact, ModelReadError, read_model
from .safe_pickle import UnsafeModelError
from .scoring import ScoringError, score_events
from .tables import TableReadError, read_table

__all__ = [
    "EvaluationReadError",
    "EventsReadError",
    "ModelArtifact",
    "ModelReadError",
    "ScoredEvents",
    "ScoringError",
    "TableReadError",
    "UnsafeModelError",
    "normalise_events",
    "read_evaluation",
    "read_model",
    "read_table",
    "score_events",
]

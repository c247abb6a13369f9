"""The three views: models, evaluation and anomalies."""

from .anomalies import AnomalyView
from .evaluation import EvaluationView
from .models import ModelView

__all__ = ["AnomalyView", "EvaluationView", "ModelView"]

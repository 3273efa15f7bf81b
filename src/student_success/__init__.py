"""Student Success Prediction System: early-warning risk scores, explanations and interventions."""

__version__ = "0.1.0"

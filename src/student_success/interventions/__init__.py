"""interventions package."""

"""Alembic migration environment (shipped inside the package)."""

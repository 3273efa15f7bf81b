"""Tests of the database layer (schema, migrations, engine, sessions)."""

"""Adapters that turn every supported source into canonical records (see ``canonical.py``)."""

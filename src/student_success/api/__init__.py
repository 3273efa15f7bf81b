"""The JSON API (FastAPI). A surface: parse the request, open one unit of work, call the services."""

from student_success.api.app import create_app

__all__ = ["create_app"]

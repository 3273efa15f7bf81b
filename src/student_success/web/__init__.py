"""Server-rendered pages for teachers and counsellors.

The pages call the same services as the JSON API (``student_success.services``); templates only
format what a route hands them. Mount with ``app.include_router(router)`` and ``mount_static(app)``
from :mod:`student_success.web.routes`.
"""

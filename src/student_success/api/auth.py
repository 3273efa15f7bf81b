"""Who is calling, and what they may see.

PLACEHOLDER until the security task: ``current_scope`` lets every caller see everything
(``Scope.all()``). The security work replaces this one function (API key / session → user → scope);
every route already asks for the scope through ``ScopeDep``, so nothing else changes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from student_success.services.scope import Scope


def current_scope() -> Scope:
    """The caller's scope. PLACEHOLDER: no authentication yet, so everything is visible."""
    # TODO(security): authenticate (MVP_API_KEY / api_key table / session) and build the user's scope.
    return Scope.all()


ScopeDep = Annotated[Scope, Depends(current_scope)]

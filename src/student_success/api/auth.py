"""Who is calling, and what they may see.

The interface every route uses:

- ``PrincipalDep``: the authenticated caller (:class:`Principal`): user id, a readable label for logs
  and the audit trail, role, and the :class:`Scope` of students they may see.
- ``ScopeDep``: just the scope, for routes that only filter queries.
- ``AdminDep``: the principal, when it is an administrator (403 otherwise).

``current_principal`` is where authentication happens (session cookie or ``Authorization: Bearer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException

from student_success.services.scope import Scope


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    Attributes:
        user_id: ``app_user.id``, or ``None`` for the system.
        label: how logs and the audit trail name the caller (e-mail or ``api-key:<prefix>``), never a secret.
        role: ``admin``, ``counsellor`` or ``teacher``.
        scope: the students this caller may see.
    """

    user_id: int | None
    label: str
    role: str
    scope: Scope

    @property
    def is_admin(self) -> bool:
        """Whether the caller is an administrator."""
        return self.role == "admin"


def current_principal() -> Principal:
    """The caller. PLACEHOLDER until authentication lands: the system, seeing everything."""
    return Principal(user_id=None, label="system", role="admin", scope=Scope.all())


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_scope(principal: PrincipalDep) -> Scope:
    """The caller's scope."""
    return principal.scope


def require_admin(principal: PrincipalDep) -> Principal:
    """The caller, when an administrator."""
    if not principal.is_admin:
        raise HTTPException(403, "this needs an administrator")
    return principal


ScopeDep = Annotated[Scope, Depends(current_scope)]
"""What a caller may see: the scope every query function applies in its WHERE clause."""
AdminDep = Annotated[Principal, Depends(require_admin)]

"""Field permissions: who may read a field at all (finer checks live in the domain)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission

from domain.users import Role


class IsAuthenticated(BasePermission):
    message = "Sign in to see this."
    error_extensions = {"code": "NOT_AUTHENTICATED"}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return info.context.viewer is not None


class IsStaff(BasePermission):
    message = "Only bank staff may see this."
    error_extensions = {"code": "PERMISSION_DENIED"}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        return viewer is not None and viewer.role is Role.STAFF

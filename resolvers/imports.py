"""Import runs, for staff following an import."""

from __future__ import annotations

from domain.importing_runs import ImportRun, import_runs_page
from domain.pagination import Page
from domain.users import Role
from resolvers.context import RequestContext
from resolvers.use_case import require_viewer


def import_runs(context: RequestContext, first: int, after: int | None) -> Page[ImportRun]:
    require_viewer(context, Role.STAFF)
    return import_runs_page(context.db, first, after)

"""The resolver `info` type, carrying Lendgraph's request context."""

from __future__ import annotations

import strawberry

from resolvers.context import RequestContext

Info = strawberry.Info[RequestContext, None]

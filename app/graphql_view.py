"""The GraphQL endpoint: each operation runs whole in a worker thread with one session."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any, cast

import anyio
import strawberry
import structlog
from cross_web import HTTPException
from graphql import DocumentNode, FieldNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.utilities import get_operation_ast
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from app import metrics
from app.password_work import (
    REFUSED_ANSWER_DELAY_SECONDS,
    PasswordWorkThreads,
    document_fields,
    hashes_passwords,
    read_document,
)
from app.request_ids import current_request_id
from app.runtime import Runtime
from app.websocket import SubscriptionsOnlyHandler
from domain.access_tokens import InvalidAccessToken, read_access_token
from domain.tables import utcnow
from domain.users import is_signed_in
from resolvers.context import RequestContext, Viewer
from schema.build import masked_error
from schema.sign_in_guard import ONE_PER_OPERATION, OneSignInPerOperation

log = structlog.get_logger(__name__)


class Unauthenticated(Exception):
    """A bearer token was sent but is not valid: the client must sign in or refresh."""


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


SIGN_IN_FIELDS = frozenset({"login", "refreshToken", "logout", "__typename"})


def _only_signs_in(request_data: GraphQLRequestData) -> bool:
    """True for documents that only call the sign-in mutations (which need no viewer)."""
    try:
        operation = get_operation_ast(parse(request_data.query or ""), request_data.operation_name)
    except GraphQLError:
        return False
    if operation is None:
        return False
    fields = {
        selection.name.value if isinstance(selection, FieldNode) else None
        for selection in operation.selection_set.selections
    }
    return bool(fields) and fields <= SIGN_IN_FIELDS


async def _held_back(result: ExecutionResult) -> ExecutionResult:
    """A client refused for abuse waits for its answer, at the cost of a sleeping coroutine:
    one that waits for each answer before asking again is slowed to a try a second."""
    await anyio.sleep(REFUSED_ANSWER_DELAY_SECONDS)
    return result


CDN = "https://unpkg.com"  # where Strawberry's page loads GraphiQL and React from
STOCK_FETCHER = """      const fetcher = GraphiQL.createFetcher({
        url: fetchURL,
        headers: defaultHeaders,
        subscriptionUrl,
      });"""
SIGNED_IN_FETCHER = """      const httpFetcher = GraphiQL.createFetcher({
        url: fetchURL, headers: defaultHeaders,
      });
      // Lendgraph: a subscription signs in with connection_init, so the Authorization
      // header typed in the headers pane becomes the websocket's connection params.
      const fetcher = (params, options) => {
        const text = (params.query || "").replace(/#.*$/gm, "");
        if (!/(^|[}\\s])subscription\\b/.test(text)) return httpFetcher(params, options);
        const headers = (options && options.headers) || {};
        const authorization = headers.Authorization || headers.authorization || "";
        return GraphiQL.createFetcher({
          url: fetchURL, subscriptionUrl, wsConnectionParams: { authorization },
        })(params, options);
      };"""


class LendgraphGraphQL(GraphQL[RequestContext, None]):
    graphql_transport_ws_handler_class = SubscriptionsOnlyHandler

    @property
    def graphql_ide_html(self) -> str:
        """Strawberry's GraphiQL, with subscriptions signed in from the headers pane."""
        page = super().graphql_ide_html
        if STOCK_FETCHER not in page:  # a Strawberry upgrade changed the page: fix this here
            raise RuntimeError("GraphiQL page layout changed; update SIGNED_IN_FETCHER")
        assets = self.runtime.settings.graphiql_assets_url.rstrip("/")
        return page.replace(STOCK_FETCHER, SIGNED_IN_FETCHER).replace(CDN, assets)

    def __init__(self, schema: BaseSchema, runtime: Runtime) -> None:
        settings = runtime.settings
        super().__init__(
            schema,
            graphql_ide=None if settings.is_production else "graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            allowed_origins=settings.allowed_origins,
        )
        self.runtime = runtime
        self.limiter = anyio.CapacityLimiter(settings.worker_threads)
        # Password hashing (login, self sign-up) gets threads of its own: however
        # many hashes are asked for, the threads above stay free for signed-in requests.
        self.password_work = PasswordWorkThreads(settings.sign_in_threads)
        self.core_schema: GraphQLSchema = cast(strawberry.Schema, schema)._schema

    async def _run(
        self, request_data: GraphQLRequestData, context: RequestContext, allowed: Any
    ) -> ExecutionResult:
        """The operation, whole, on the password-work threads or the ordinary ones."""
        document = read_document(request_data.query, self.runtime.settings.max_tokens)
        fields = document_fields(document)
        refused = self._refuse_before_running(document, fields)
        if refused is not None:
            return await _held_back(refused)
        execute = partial(self._execute_in_thread, request_data, context, allowed)
        if hashes_passwords(fields, signed_in=context.viewer is not None):
            result = await self.password_work.run(execute)
        else:
            result = await anyio.to_thread.run_sync(execute, limiter=self.limiter)
        return await _held_back(result) if context.attempt_refused else result

    def _refuse_before_running(
        self, document: DocumentNode | None, fields: Counter[str]
    ) -> ExecutionResult | None:
        """More than one sign-in per operation is refused here, for the price of one walk of
        the document: a flood of them never reaches a thread. (Schema validation applies
        the same rule to whatever comes another way.)"""
        if document is None or sum(fields[name] for name in ONE_PER_OPERATION) <= 1:
            return None
        errors = validate(self.core_schema, document, [OneSignInPerOperation])
        if not errors:
            return None
        self.schema.process_errors(errors)
        return ExecutionResult(data=None, errors=errors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except Unauthenticated as error:
            response = JSONResponse(
                _error_body(str(error), "UNAUTHENTICATED"),
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        except HTTPException as error:
            response = JSONResponse(
                _error_body(error.reason, "BAD_REQUEST"), status_code=error.status_code
            )
        await response(scope, receive, send)

    def viewer_from_authorization(self, header: str | None) -> Viewer | None:
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Use `Authorization: Bearer <access token>`.")
        try:
            claims = read_access_token(
                self.runtime.settings.sign_in_policy().access, token.strip(), utcnow()
            )
        except InvalidAccessToken as error:
            raise Unauthenticated(
                "The access token is invalid or expired; sign in again or use refreshToken."
            ) from error
        return Viewer(claims.user_id, claims.role, claims.token_id, claims.expires_at)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        viewer, token_problem = None, None
        if not isinstance(request, WebSocket):
            try:
                viewer = self.viewer_from_authorization(request.headers.get("authorization"))
            except Unauthenticated as error:
                token_problem = error  # refused in execute_single, unless only signing in
        context = RequestContext(
            request_id=current_request_id(),
            sign_in=self.runtime.settings.sign_in_policy(),
            after_commit=self.runtime.dispatcher.dispatch,
            viewer=viewer,
            client_address=request.client.host if request.client else None,
            core_banking=self.runtime.core_banking,
            cbs_currency=self.runtime.settings.cbs_currency,
            business_date_settable=not self.runtime.settings.is_production,
            attempts=self.runtime.attempts,
        )
        context.extras["token_problem"] = token_problem
        if isinstance(request, WebSocket):
            context.open_session = self.runtime.session_factory
            context.events = self.runtime.events.subscribe
        return context

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        """A websocket signs in once, in `connection_init`: {"authorization": "Bearer <token>"}."""
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        try:
            viewer = self.viewer_from_authorization(header if isinstance(header, str) else None)
        except Unauthenticated as error:
            raise ConnectionRejectionError({"message": str(error)}) from error
        if viewer is None or not await anyio.to_thread.run_sync(
            self._is_active, viewer, limiter=self.limiter
        ):
            raise ConnectionRejectionError({"message": "Send an access token in connection_init."})
        context.viewer = viewer
        return UNSET

    def _is_active(self, viewer: Viewer) -> bool:
        with self.runtime.session_factory() as session:
            return is_signed_in(session, viewer.user_id, viewer.role)

    def _execute_in_thread(
        self, request_data: GraphQLRequestData, context: RequestContext, allowed: Any
    ) -> ExecutionResult:
        with self.runtime.session_factory() as session:
            context.session = session
            try:
                viewer = context.viewer
                if viewer is not None and not is_signed_in(session, viewer.user_id, viewer.role):
                    context.viewer = None
                return self.schema.execute_sync(
                    request_data.query,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request_data.extensions,
                )
            finally:
                context.session = None

    async def execute_single(  # noqa: PLR0917
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        from strawberry.types.graphql import OperationType

        allowed = OperationType.from_http(request_adapter.method)
        token_problem = context.extras.get("token_problem")
        if token_problem is not None and not _only_signs_in(request_data):
            raise token_problem
        started = time.perf_counter()
        try:
            result = await self._run(request_data, context, allowed)
        except CannotGetOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason()) from e
        except InvalidOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason(request_adapter.method)) from e
        except MissingQueryError as e:
            raise HTTPException(400, "No GraphQL query found in the request") from e
        except Exception:
            log.exception("graphql_unexpected_error", request_id=context.request_id)
            result = ExecutionResult(data=None, errors=[masked_error(context.request_id)])
        metrics.observe(
            context.operation_name or request_data.operation_name,
            "error" if result.errors else "ok",
            time.perf_counter() - started,
        )
        return result

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
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from app import graphql_over_http, metrics
from app.http_requests import StrictJsonBodies
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
from domain.database_outage import is_database_outage
from domain.tables import utcnow
from resolvers.context import RequestContext, Viewer
from schema.build import failure_error
from schema.sign_in_guard import ONE_PER_OPERATION, OneSignInPerOperation

log = structlog.get_logger(__name__)


class Unauthenticated(Exception):
    """A bearer token was sent but is not valid: the client must sign in or refresh."""


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _failed(error: Exception, request_id: str) -> GraphQLError:
    """An operation that failed before or around execution (opening its session, checking
    the viewer): logged, and answered as SERVICE_UNAVAILABLE or a masked INTERNAL_ERROR."""
    if is_database_outage(error):
        log.warning("graphql_database_unavailable", request_id=request_id, error=repr(error))
    else:
        log.exception("graphql_unexpected_error", request_id=request_id)
    return failure_error(error, request_id)


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


class LendgraphGraphQL(StrictJsonBodies, GraphQL[RequestContext, None]):
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
        query = request_data.query or ""
        if any(name in query for name in ONE_PER_OPERATION):  # else nothing here to route
            document = read_document(query, self.runtime.settings.max_tokens)
        else:
            document = None  # most requests: no second parse on the event loop
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
        request = Request(scope=scope, receive=receive)
        media_type = graphql_over_http.response_media_type(request.headers.get("accept"))
        try:
            graphql_over_http.check_request(
                request.method, request.headers, "query" in request.query_params
            )
            response = await self.run(request)
        except Unauthenticated as error:
            response = JSONResponse(
                _error_body(str(error), "UNAUTHENTICATED"),
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                media_type=graphql_over_http.content_type(media_type),
            )
        except HTTPException as error:
            response = graphql_over_http.refused_response(error, media_type)
        await response(scope, receive, send)

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """Strawberry's, reading GET parameters as GraphQL over HTTP defines them."""
        return graphql_over_http.query_parameters(super().parse_query_params(params))

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's, refusing the parameters it lets through ill-typed."""
        request_data = await super().parse_http_body(request)
        graphql_over_http.check_parameters(request_data)
        return request_data

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Strawberry's, noting the media type the client accepts (see create_response)."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = graphql_over_http.response_media_type(
            request.headers.get("accept")
        )
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """The answer in the media type the client accepts, with the status GraphQL over
        HTTP gives it there (app.graphql_over_http decides both)."""
        media_type = sub_response.media_type or graphql_over_http.JSON
        headers: dict[str, str] = {}
        if isinstance(response_data, dict):
            response_data, status, headers = graphql_over_http.finish(response_data, media_type)
            if status != 200:
                sub_response.status_code = status
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = graphql_over_http.content_type(media_type)
        response.headers.update(headers)
        return response

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
        return Viewer(
            claims.user_id, claims.role, claims.token_id, claims.expires_at, claims.session_version
        )

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
            return self.runtime.sign_ins.admits(session, viewer)

    def _execute_in_thread(
        self, request_data: GraphQLRequestData, context: RequestContext, allowed: Any
    ) -> ExecutionResult:
        with self.runtime.session_factory() as session:
            context.session = session
            try:
                viewer = context.viewer
                if viewer is not None and not self.runtime.sign_ins.admits(session, viewer):
                    context.viewer = None  # signed out, disabled or role changed: anonymous
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
        allowed = graphql_over_http.allowed_operations(request_adapter.method)
        token_problem = context.extras.get("token_problem")
        if token_problem is not None and not _only_signs_in(request_data):
            raise token_problem
        started = time.perf_counter()
        try:
            result = await self._run(request_data, context, allowed)
        except CannotGetOperationTypeError as e:  # a GraphQL request error, as when parsing
            result = ExecutionResult(data=None, errors=[GraphQLError(e.as_http_error_reason())])
        except InvalidOperationTypeError as e:
            method = request_adapter.method
            raise graphql_over_http.operation_refused(e.operation_type, method) from e
        except MissingQueryError as e:
            raise HTTPException(400, "No GraphQL query found in the request") from e
        except Exception as error:
            result = ExecutionResult(data=None, errors=[_failed(error, context.request_id)])
        metrics.observe(
            context.operation_name or request_data.operation_name,
            "error" if result.errors else "ok",
            time.perf_counter() - started,
        )
        return result

"""GET /scoring/transactions/{customerNumber}: the scoring engine pulls a customer's CBS
transactions here with the HTTP Basic credentials Lendgraph registered with it."""

from __future__ import annotations

import base64
import binascii

import anyio
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.runtime import Runtime
from domain.core_banking import CoreBankingUnavailable, CustomerNotInCoreBanking
from domain.customers import CustomerNotFound
from domain.errors import NotAuthenticated
from resolvers.scoring_callback import transactions_for_engine

log = structlog.get_logger(__name__)
CHALLENGE = {"WWW-Authenticate": 'Basic realm="lendgraph-scoring", charset="UTF-8"'}


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an `Authorization: Basic ...` header, or None."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def transactions_endpoint(runtime: Runtime):  # type: ignore[no-untyped-def]
    def read(number: str, credentials: tuple[str, str] | None) -> list[dict[str, object]]:
        return transactions_for_engine(
            runtime.session_factory, runtime.core_banking, credentials, number
        )

    async def endpoint(request: Request) -> Response:
        number = request.path_params["customer_number"]
        credentials = basic_credentials(request.headers.get("authorization"))
        try:
            records = await anyio.to_thread.run_sync(read, number, credentials)
        except NotAuthenticated:
            return JSONResponse({"error": "unauthorized"}, status_code=401, headers=CHALLENGE)
        except (CustomerNotFound, CustomerNotInCoreBanking):
            return JSONResponse({"error": "unknown customer"}, status_code=404)
        except CoreBankingUnavailable as error:
            log.warning("scoring_transactions_unavailable", detail=error.message)
            return JSONResponse(
                {"error": "the core banking system is unavailable; try again later"},
                status_code=503,
            )
        return JSONResponse(records)

    return endpoint

"""A stand-in core banking system: a real SOAP 1.1 server for customer KYC and transactions,
with switches to make it slow, down, faulty or garbled for tests and demos."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from integrations.cbs.customers import kyc_of, transactions_of

WSDL_DIR = Path(__file__).parent / "wsdl"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
MODES = ("ok", "down", "fault", "garbled")
XML = "text/xml; charset=utf-8"
# Requests come from outside: never resolve entities or fetch anything they point at.
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class Controls:
    """How the simulated CBS misbehaves right now."""

    mode: str = "ok"
    delay_seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "delaySeconds": self.delay_seconds}


@dataclass(frozen=True)
class Service:
    """One SOAP endpoint: its WSDL, the record type it answers with, and how it answers."""

    name: str
    namespace: str
    wsdl: bytes
    fields: tuple[str, ...]  # the record's elements, in WSDL sequence order


def create_cbs_simulator(
    username: str = "lendgraph",
    password: str = "cbs-dev-password",  # noqa: S107 - the simulator's published dev login
    generated: int = 0,
) -> Starlette:
    """The simulator app; `generated` adds customers 500000001..500000000+generated."""
    controls = Controls()
    customer = _service("customer", "customer")
    transaction = _service("transaction", "transactionData")
    answers: dict[str, Callable[[str], etree._Element]] = {
        "customer": lambda number: _customer_body(customer, kyc_of(number, generated)),
        "transaction": lambda number: _transactions_body(
            transaction, transactions_of(number, generated)
        ),
    }

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def control(request: Request) -> Response:
        if request.method == "POST":
            error = _apply_controls(controls, await request.json())
            if error:
                return JSONResponse({"error": error}, status_code=400)
        return JSONResponse(controls.as_json())

    def endpoint(service: Service) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            if request.method == "GET":
                return _serve_wsdl(request, service)
            soap = await _answer_soap(request, controls, (username, password))
            return soap if isinstance(soap, Response) else _envelope(answers[service.name](soap))

        return handle

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/_control", control, methods=["GET", "POST"]),
            *(
                Route(path, endpoint(service), methods=["GET", "POST"])
                for service in (customer, transaction)
                for base in _paths(service)
                for path in (base, f"{base}.wsdl")
            ),
        ]
    )
    app.state.controls = controls  # for `lendgraph simulate cbs --mode/--delay`
    return app


def _service(name: str, record_type: str) -> Service:
    wsdl = (WSDL_DIR / f"{name}.wsdl").read_bytes()
    tree = etree.fromstring(wsdl, SAFE_PARSER)
    namespace = tree.get("targetNamespace")
    fields = tree.xpath(
        "//xs:complexType[@name=$t]/xs:sequence/xs:element/@name",
        namespaces={"xs": XSD},
        t=record_type,
    )
    return Service(name, namespace, wsdl, tuple(str(field) for field in fields))


def _apply_controls(controls: Controls, body: Any) -> str | None:
    """Each POST states the whole desired behaviour; what it leaves out goes back to normal."""
    if not isinstance(body, dict):
        return "expected a JSON object"
    mode, delay = body.get("mode", "ok"), body.get("delaySeconds", 0)
    if mode not in MODES:
        return f"mode must be one of {', '.join(MODES)}"
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        return "delaySeconds must be a non-negative number"
    controls.mode, controls.delay_seconds = mode, float(delay)
    return None


def _paths(service: Service) -> tuple[str, ...]:
    """Where the service answers: the reference WSDL's address (transaction-data) and the
    plain name."""
    if service.name == "transaction":
        return ("/service/transaction-data", "/service/transaction")
    return (f"/service/{service.name}",)


def _serve_wsdl(request: Request, service: Service) -> Response:
    if request.url.path.endswith(".wsdl") or "wsdl" in request.query_params:
        tree = etree.fromstring(service.wsdl, SAFE_PARSER)
        path = request.url.path.removesuffix(".wsdl")
        location = f"{request.url.scheme}://{request.url.netloc}{path}"
        for address in tree.iter(f"{{{WSDL_SOAP}}}address"):
            address.set("location", location)
        return Response(
            etree.tostring(tree, xml_declaration=True, encoding="UTF-8"), 200, media_type=XML
        )
    return PlainTextResponse("Ask for the service description with ?wsdl.", status_code=404)


async def _answer_soap(
    request: Request, controls: Controls, credentials: tuple[str, str]
) -> Response | str:
    """The customer number asked about, or the response that refuses to answer."""
    # Read the request before sleeping: a client that gives up meanwhile is then no error here.
    body = await request.body()
    if controls.delay_seconds:
        await asyncio.sleep(controls.delay_seconds)
    misbehaviour = _misbehaviour(controls.mode)
    if misbehaviour is not None:
        return misbehaviour
    try:
        envelope = etree.fromstring(body, SAFE_PARSER)
    except etree.XMLSyntaxError:
        return _fault("soapenv:Client", "request is not XML")
    if not _authenticated(envelope, credentials):
        return _fault("soapenv:Client", "authentication failed")
    number = envelope.findtext(f"{{{SOAP_ENV}}}Body/*/{{*}}customerNumber")
    if number is None:
        return _fault("soapenv:Client", "customerNumber is required")
    return str(number).strip()


def _misbehaviour(mode: str) -> Response | None:
    if mode == "down":
        return PlainTextResponse("Service Unavailable", status_code=503)
    if mode == "garbled":
        return PlainTextResponse("<html><body>Gateway says: oops", media_type=XML)
    if mode == "fault":
        return _fault("soapenv:Server", "core banking system error")
    return None


def _authenticated(envelope: etree._Element, credentials: tuple[str, str]) -> bool:
    token = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return False
    given = (
        token.findtext(f"{{{WSSE}}}Username") or "",
        token.findtext(f"{{{WSSE}}}Password") or "",
    )
    # Compare both halves in constant time so timing tells nothing about which one was wrong.
    return all(
        hmac.compare_digest(a.encode(), b.encode()) for a, b in zip(given, credentials, strict=True)
    )


def _customer_body(service: Service, kyc: dict[str, Any] | None) -> etree._Element:
    response = etree.Element(
        f"{{{service.namespace}}}CustomerResponse", nsmap={"ns2": service.namespace}
    )
    # The WSDL's way of saying "no such customer" is an empty customer element.
    _fill(etree.SubElement(response, f"{{{service.namespace}}}customer"), service, kyc or {})
    return response


def _transactions_body(service: Service, records: list[dict[str, Any]]) -> etree._Element:
    response = etree.Element(
        f"{{{service.namespace}}}TransactionsResponse", nsmap={"ns2": service.namespace}
    )
    for record in records:
        _fill(etree.SubElement(response, f"{{{service.namespace}}}transactions"), service, record)
    return response


def _fill(parent: etree._Element, service: Service, values: dict[str, Any]) -> None:
    for field in service.fields:
        if values.get(field) is not None:
            etree.SubElement(parent, f"{{{service.namespace}}}{field}").text = _lexical(
                values[field]
            )


def _lexical(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _envelope(body: etree._Element, status: int = 200) -> Response:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(body)
    content = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    return Response(content, status, media_type=XML)


def _fault(code: str, message: str) -> Response:
    """SOAP 1.1 sends faults with HTTP 500, whoever is to blame."""
    fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = message
    return _envelope(fault, status=500)

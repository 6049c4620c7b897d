"""GET /scoring/transactions/{customerNumber}: only the scoring engine, with the HTTP Basic
credentials Lendgraph registered, reads a subscribed customer's CBS records (RULES.md §3)."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlmodel import delete

from domain.scoring import registration
from domain.scoring.registration import ScoringRegistration, engine_may_read
from tests.integrations.scoring_world import CALLBACK, ScoringWorld

REPO = Path(__file__).resolve().parents[2]
REFERENCE_WSDL = REPO.parent / "shared" / "reference" / "cbs" / "transaction.wsdl"
PROJECT_WSDL = REPO / "integrations" / "cbs" / "wsdl" / "transaction.wsdl"
CUSTOMER = "234774784"


def _reference_fields() -> set[str]:
    wsdl = REFERENCE_WSDL if REFERENCE_WSDL.is_file() else PROJECT_WSDL
    names = etree.parse(str(wsdl)).xpath(
        "//xs:complexType[@name='transactionData']/xs:sequence/xs:element/@name",
        namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
    )
    return {str(name) for name in names}


def _get(world: ScoringWorld, number: str, authorization: str | None) -> httpx.Response:
    headers = {"authorization": authorization} if authorization is not None else {}
    return httpx.get(f"{world.lendgraph.url}/scoring/transactions/{number}", headers=headers)


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_the_engine_reads_a_customers_records_with_the_reference_field_names(
    world: ScoringWorld,
) -> None:
    world.subscribe(CUSTOMER)

    response = _get(world, CUSTOMER, _basic(CALLBACK.username, CALLBACK.password))

    assert response.status_code == 200
    records = response.json()
    assert len(records) >= 3
    expected = _reference_fields()
    assert len(expected) > 60
    for record in records:
        assert set(record) == expected


BAD_CREDENTIALS = [
    None,
    "",
    "Bearer some-token",
    "Basic not-base64!",
    "Basic " + base64.b64encode(b"no-colon-at-all").decode(),
    _basic(CALLBACK.username, ""),
    _basic(CALLBACK.username, "wrong"),
    _basic("someone-else", CALLBACK.password),
    _basic(CALLBACK.username.upper(), CALLBACK.password),
    # shaped like a timing attack: right length, or a long right prefix
    _basic(CALLBACK.username, CALLBACK.password[:-1] + "X"),
    _basic(CALLBACK.username, CALLBACK.password[:-1]),
    _basic(CALLBACK.username, CALLBACK.password + "0"),
    _basic(CALLBACK.username + ":" + CALLBACK.password, ""),
    _basic(CALLBACK.username[:-1], CALLBACK.username[-1] + ":" + CALLBACK.password),
]


@pytest.mark.parametrize("authorization", BAD_CREDENTIALS)
def test_anything_but_the_registered_credentials_is_unauthorized(
    world: ScoringWorld, authorization: str | None
) -> None:
    world.subscribe(CUSTOMER)

    response = _get(world, CUSTOMER, authorization)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "accountNumber" not in response.text


def test_nobody_reads_anything_before_lendgraph_registers(world: ScoringWorld) -> None:
    world.subscribe(CUSTOMER)
    with world.lendgraph.runtime.session_factory() as session:
        session.exec(delete(ScoringRegistration))
        session.commit()

    assert _get(world, CUSTOMER, _basic(CALLBACK.username, CALLBACK.password)).status_code == 401


def test_customers_who_are_not_ours_are_not_found(world: ScoringWorld) -> None:
    right = _basic(CALLBACK.username, CALLBACK.password)
    assert _get(world, "318411216", right).status_code == 404  # in the CBS, not subscribed
    assert _get(world, "999999999", right).status_code == 404


def test_a_cbs_outage_is_reported_as_unavailable(world: ScoringWorld) -> None:
    world.subscribe(CUSTOMER)
    world.control_cbs(mode="down")

    response = _get(world, CUSTOMER, _basic(CALLBACK.username, CALLBACK.password))

    assert response.status_code == 503


def test_the_password_is_checked_even_when_the_username_is_wrong(
    world: ScoringWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = registration._password_matches

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(registration, "_password_matches", spy)
    with world.lendgraph.runtime.session_factory() as session:
        assert not engine_may_read(session, "someone-else", CALLBACK.password)
        assert engine_may_read(session, CALLBACK.username, CALLBACK.password)
        session.exec(delete(ScoringRegistration))
        assert not engine_may_read(session, CALLBACK.username, CALLBACK.password)
    assert len(checked) == 3  # the same work whatever is wrong
    assert CALLBACK.password not in checked[0]  # kept only as a salted HMAC

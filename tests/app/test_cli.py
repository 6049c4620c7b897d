"""The `lendgraph` command as an operator uses it."""

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, col, create_engine, select

from domain.passwords import verify_password
from domain.sign_in import RefreshToken, log_in
from domain.tables import utcnow
from domain.users import Role, find_user_by_username
from tests.conftest import make_settings

LENDGRAPH = [sys.executable, "-m", "app.cli"]


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LENDGRAPH, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_create_user_reads_the_password_from_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "LOG_JSON": "false"}
    assert _run(["migrate"], env).returncode == 0
    created = _run(
        ["create-user", "--username", "ops", "--role", "staff", "--password-stdin"],
        env,
        "a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    with Session(create_engine(url)) as session:
        user = find_user_by_username(session, "ops")
        assert user is not None and user.role is Role.STAFF
        assert verify_password(user.password_hash, "a long enough password")

    duplicate = _run(["create-user", "--username", "ops", "--password-stdin"], env, "x" * 12 + "\n")
    assert duplicate.returncode == 1 and "already taken" in duplicate.stderr
    weak = _run(["create-user", "--username", "weak", "--password-stdin"], env, "short\n")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr


def test_demo_data_loads_once_and_prints_the_credentials(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    assert _run(["migrate"], env).returncode == 0
    first, second = _run(["demo"], env), _run(["demo"], env)
    assert "created staff user" in first.stderr and "created" not in second.stderr
    assert "lendgraph-demo-staff" in second.stderr


def test_disable_user_ends_every_session_and_refuses_unknown_names(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "LOG_JSON": "false", "EMBEDDED_WORKER": "false"}
    assert _run(["migrate"], env).returncode == 0
    created = _run(
        ["create-user", "--username", "asha", "--password-stdin"], env, "a long password\n"
    )
    assert created.returncode == 0, created.stderr
    engine = create_engine(url)
    with Session(engine) as session:
        log_in(session, make_settings(url).sign_in_policy(), "asha", "a long password", utcnow())
        session.commit()

    disabled = _run(["disable-user", "--username", "asha"], env)
    assert disabled.returncode == 0, disabled.stderr
    with Session(engine) as session:
        user = find_user_by_username(session, "asha")
        assert user is not None and not user.is_active
        assert user.session_version == 1  # the access tokens issued at version 0 are void
        live = select(RefreshToken).where(col(RefreshToken.revoked_at).is_(None))
        assert session.exec(live).all() == []
    unknown = _run(["disable-user", "--username", "nobody"], env)
    assert unknown.returncode == 1 and "no user 'nobody'" in unknown.stderr

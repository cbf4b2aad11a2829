"""Least privilege on PostgreSQL: `govledger init --owner-url URL --create-roles` migrates as the owner
role and leaves the service's role (the database URL's) unable to drop or disable the append-only
triggers or to change entries, while everything the service writes still works as that role.

Roles are cluster-wide, so each test makes its own (unique names) and drops them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from govledger.cli import main
from govledger.registry import open_ledger
from ledger.access.api_keys import create_api_key
from ledger.access.sessions import SessionStore
from ledger.config import Settings
from ledger.privacy.sealing import erase_subject
from ledger.storage.sequencer import CheckpointPolicy
from tests.conftest import PG_URL, require_postgres
from tests.lineage.factories import RISK_OFFICER, build_chain
from tests.lineage.test_privacy import APPLICANT, record

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Roles:
    owner: str
    app: str
    schema: str

    def url(self, role: str) -> str:
        base = make_url(PG_URL).set(username=role).render_as_string(hide_password=False)
        return f"{base}?options=-csearch_path%3D{self.schema}"


@pytest.fixture
def roles(request: pytest.FixtureRequest) -> Iterator[Roles]:
    require_postgres(request)
    suffix = uuid.uuid4().hex[:10]
    made = Roles(owner=f"gl_owner_{suffix}", app=f"gl_app_{suffix}", schema=f"lp_{suffix}")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # what a DBA does once: an owner that may create the app role
        conn.execute(text(f"CREATE ROLE {made.owner} LOGIN CREATEROLE"))
        conn.execute(text(f"CREATE SCHEMA {made.schema} AUTHORIZATION {made.owner}"))
    try:
        yield made
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {made.schema} CASCADE"))
            conn.execute(text(f"DROP ROLE IF EXISTS {made.app}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {made.owner}"))
        admin.dispose()


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def _refused(conn_url: str, statement: str) -> str:
    engine = create_engine(conn_url)
    try:
        with engine.begin() as conn, pytest.raises(DBAPIError) as refused:
            conn.execute(text(statement))
    finally:
        engine.dispose()
    return str(refused.value.orig)


def test_app_role_cannot_touch_triggers_or_entries_but_the_service_writes(
    roles: Roles, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVLEDGER_SIGNING_KEY", raising=False)
    home = tmp_path / "home"
    code, _, err = run_cli(
        "--database-url", roles.url(roles.app), "--home", str(home),
        "init", "--origin", "lp.example/log", "--owner-url", roles.url(roles.owner), "--create-roles",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err

    app_url = roles.url(roles.app)
    for statement, why in (
        ("DROP TRIGGER entries_append_only ON entries", "must be owner"),
        ("ALTER TABLE entries DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE checkpoints DISABLE TRIGGER checkpoints_append_only", "must be owner"),
        ("UPDATE entries SET body = body WHERE seq = 0", "permission denied"),
        ("DELETE FROM entries WHERE seq = 0", "permission denied"),
        ("TRUNCATE entries", "permission denied"),
        ("DELETE FROM checkpoints", "permission denied"),
        ("DROP TABLE entries", "must be owner"),
        ("CREATE TABLE intruder (x int)", "permission denied"),
    ):
        assert why in _refused(app_url, statement), statement

    # Everything the service writes, as the app role: appends and projections (a model's stage is
    # an UPDATE), sealed inputs (a new subject key), an API key revoked, an erasure with its purge.
    settings = Settings(database_url=app_url, home=home)
    with open_ledger(settings, policy=CheckpointPolicy(after_batch=True, max_delay_s=None)) as gov:
        facts = build_chain(gov)
        record(gov, facts, "d-1", "applicant-1", APPLICANT)
        token, created = create_api_key(gov, name="scorer", role="producer", actor=RISK_OFFICER)
        sessions = SessionStore(gov.engine)  # the web console's sign-in and sign-out (INSERT, DELETE)
        signed = sessions.sign_in(token)
        assert signed is not None and sessions.resolve(signed[0]) is not None
        sessions.sign_out(signed[0])
        assert sessions.resolve(signed[0]) is None
        key_id = gov.get(created.seq).data["key_id"]
        gov.append("access.key_revoked", {"key_id": key_id, "reason": "rotated"}, actor=RISK_OFFICER)
        erasure = erase_subject(gov, "applicant-1", reason="request", actor=RISK_OFFICER)
        assert erasure.purged, erasure.purge_detail  # VACUUM (owns subject_keys) and CHECKPOINT (pg_checkpoint)
        report = gov.verify(deep=True)
        assert report.ok, report.problems
        assert token

    owner = create_engine(roles.url(roles.owner))
    with owner.connect() as conn:
        tables = dict(
            conn.execute(
                text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = :s"), {"s": roles.schema}
            ).all()
        )
    owner.dispose()
    assert tables.pop("subject_keys") == roles.app
    assert set(tables.values()) == {roles.owner}, "the app role owns nothing but the subject keys"


def test_the_app_role_cannot_migrate_and_says_who_can(
    roles: Roles, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVLEDGER_SIGNING_KEY", raising=False)
    home = str(tmp_path / "home")
    init = ("init", "--owner-url", roles.url(roles.owner), "--create-roles")
    assert run_cli("--database-url", roles.url(roles.app), "--home", home, *init, capsys=capsys)[0] == 0
    owner = create_engine(roles.url(roles.owner))
    with owner.begin() as conn:  # as if govledger were upgraded: one migration is pending
        conn.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    owner.dispose()
    code, _, err = run_cli("--database-url", roles.url(roles.app), "--home", home, "log", capsys=capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"role '{roles.app}' may not migrate it" in err and "--owner-url" in err


def test_print_role_sql_writes_nothing(roles: Roles, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        "--database-url", roles.url(roles.app),
        "init", "--owner-url", roles.url(roles.owner), "--print-role-sql",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert f"CREATE ROLE {roles.owner} LOGIN;" in out and f"GRANT pg_checkpoint TO {roles.app};" in out
    assert f"ALTER TABLE public.subject_keys OWNER TO {roles.app};" in out
    admin = create_engine(PG_URL)
    with admin.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": roles.app}).first() is None
        assert conn.execute(text(f"SELECT COUNT(*) FROM pg_tables WHERE schemaname = '{roles.schema}'")).scalar() == 0
    admin.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["init", "--create-roles"], "need --owner-url"),
        (["init", "--owner-url", "sqlite:///x.db"], "must be a postgresql:// URL"),
        (["init", "--owner-url", "postgresql://gl_app_same@127.0.0.1/test"], "the service must not own the tables"),
    ],
)
def test_bad_role_options_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(
        "--database-url", "postgresql://gl_app_same@127.0.0.1/test", "--home", str(tmp_path), *args, capsys=capsys
    )
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.db").exists()

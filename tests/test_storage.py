"""Stored analyses on SQLite and PostgreSQL: round trip, restart, revocation, ids and tokens."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from webfixtures import ARTICLE, SHARE_ID, database_for, make_app, postgres_url, upload

from webapp.web.storage import Deletion, Storage, analyses, database_url, is_well_formed

DOCUMENT = json.dumps({"version": 1, "nodes": [{"id": "default/Deployment/<img src=x>"}],
                       "flows": [], "policies": [], "findings": [], "problems": []})
INPUT = json.dumps([{"kind": "Deployment", "metadata": {"name": "mysql"}}])

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_for(request.param, tmp_path)


@pytest.fixture
def storage(database: str) -> Storage:
    store = Storage(database)
    yield store
    store.close()


def test_round_trip_keeps_document_input_and_version(storage: Storage) -> None:
    before = datetime.now(UTC)
    saved = storage.save(DOCUMENT, INPUT, "9.8.7")
    stored = storage.load(saved.id)
    assert stored is not None
    assert (stored.id, stored.document, stored.input) == (saved.id, DOCUMENT, INPUT)
    assert stored.netpol_viz_version == "9.8.7"
    assert before - timedelta(seconds=5) <= stored.created_at <= datetime.now(UTC)
    assert storage.exists(saved.id)


def test_analyses_survive_a_restart(database: str) -> None:
    first = Storage(database)
    saved = first.save(DOCUMENT, INPUT, "0.1.0")
    first.close()
    second = Storage(database)  # the schema step finds the table and keeps its rows
    stored = second.load(saved.id)
    second.close()
    assert stored is not None and stored.document == DOCUMENT


def test_a_link_made_on_one_app_instance_opens_on_another(database: str, tmp_path: Path) -> None:
    one = make_app(tmp_path / "one", {"DATABASE": database}).test_client()
    created = upload(one, ("article.yaml", ARTICLE)).get_json()
    two = make_app(tmp_path / "two", {"DATABASE": database}).test_client()
    response = two.get(f"/api/v1/analyses/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created["analysis"]
    deleted = two.delete(
        f"/api/v1/analyses/{created['id']}", headers={"X-Delete-Token": created["deleteToken"]}
    )
    assert deleted.status_code == 204
    assert one.get(f"/api/v1/analyses/{created['id']}").status_code == 404


def test_delete_needs_the_token_and_wipes_the_content(storage: Storage) -> None:
    saved = storage.save(DOCUMENT, INPUT, "0.1.0")
    assert storage.delete(saved.id, "not the token") is Deletion.WRONG_TOKEN
    assert storage.delete(saved.id, "") is Deletion.WRONG_TOKEN
    assert storage.load(saved.id) is not None
    assert storage.delete(saved.id, saved.delete_token) is Deletion.DELETED
    assert storage.load(saved.id) is None
    assert not storage.exists(saved.id)
    assert storage.delete(saved.id, saved.delete_token) is Deletion.NOT_FOUND
    with storage.engine.connect() as connection:
        row = connection.execute(select(analyses).where(analyses.c.id == saved.id)).one()
    assert row.deleted is True
    assert row.document is None and row.input is None


def test_only_a_hash_of_the_delete_token_is_stored(storage: Storage) -> None:
    saved = storage.save(DOCUMENT, INPUT, "0.1.0")
    with storage.engine.connect() as connection:
        row = connection.execute(select(analyses).where(analyses.c.id == saved.id)).one()
    assert saved.delete_token not in tuple(str(value) for value in row)
    assert row.delete_token_hash == hashlib.sha256(saved.delete_token.encode()).hexdigest()


@pytest.mark.parametrize(
    "analysis_id",
    [
        pytest.param("", id="empty"),
        pytest.param("short", id="too-short"),
        pytest.param("A" * 32, id="well-formed-unknown"),
        pytest.param("A" * 31 + "/", id="slash"),
        pytest.param("' OR '1'='1' -- " + "A" * 20, id="sql-injection"),
        pytest.param("A" * 500, id="too-long"),
        pytest.param("\x00" * 40, id="nul"),
    ],
)
def test_unknown_and_malformed_ids_load_nothing(storage: Storage, analysis_id: str) -> None:
    storage.save(DOCUMENT, INPUT, "0.1.0")
    assert storage.load(analysis_id) is None
    assert not storage.exists(analysis_id)
    assert storage.delete(analysis_id, "x") is Deletion.NOT_FOUND


def test_share_ids_carry_at_least_128_random_bits(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "ids.sqlite3")
    saved = [storage.save("{}", "[]", "0") for _ in range(100)]
    ids = [s.id for s in saved]
    assert len(set(ids)) == len(ids)
    # token_urlsafe: 6 bits per character; 32 characters are 192 bits.
    assert all(SHARE_ID.fullmatch(i) and len(i) * 6 >= 128 for i in ids)
    assert all(is_well_formed(i) for i in ids)
    # Random, not a counter: no common prefix beyond chance, all characters in use.
    assert len({i[:4] for i in ids}) > 95
    assert len(set("".join(ids))) > 60
    assert len({s.delete_token for s in saved} | set(ids)) == 2 * len(ids)


def test_schema_creation_is_idempotent(database: str) -> None:
    for _ in range(3):
        Storage(database).close()


@pytest.mark.parametrize(
    ("xdg", "expected"),
    [
        pytest.param("data", "data/netpol-viz/netpol-viz.sqlite3", id="xdg-data-home"),
        pytest.param(None, "home/.local/share/netpol-viz/netpol-viz.sqlite3", id="home-fallback"),
    ],
)
def test_default_database_is_created_in_the_per_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: str | None, expected: str
) -> None:
    """Not in the instance folder inside the virtualenv, where recreating it loses every link."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / xdg))
    app = make_app(tmp_path, {"DATABASE": None})
    assert app.config["DATABASE"] == str(tmp_path / expected)
    assert (tmp_path / expected).is_file()
    assert not (tmp_path / "instance").exists()


def test_instance_config_is_read_before_the_test_config(tmp_path: Path) -> None:
    from webapp.web import create_app

    instance = tmp_path / "instance"
    instance.mkdir()
    database = tmp_path / "from-instance.sqlite3"
    (instance / "config.py").write_text(
        f"DATABASE = {str(database)!r}\nBASE_URL = 'https://a.example'\nMAX_DOCUMENTS = 5\n"
    )
    app = create_app({"INSTANCE_PATH": str(instance), "MAX_DOCUMENTS": 7})
    assert app.config["DATABASE"] == str(database)
    assert app.config["BASE_URL"] == "https://a.example"
    assert app.config["MAX_DOCUMENTS"] == 7
    assert database.is_file()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("/var/lib/netpol.db", "sqlite:////var/lib/netpol.db", id="absolute-path"),
        pytest.param("sqlite:///x.db", "sqlite:///x.db", id="sqlite-url"),
        pytest.param(
            "postgresql://u:p@db:5432/netpol", "postgresql+psycopg://u:p@db:5432/netpol",
            id="postgresql-gets-psycopg3",
        ),
        pytest.param(
            "postgres://u@db/netpol", "postgresql+psycopg://u@db/netpol", id="postgres-alias"
        ),
        pytest.param(
            "postgresql+psycopg://u@db/n", "postgresql+psycopg://u@db/n", id="explicit-driver"
        ),
    ],
)
def test_database_url(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_url("data/n.db") == f"sqlite:///{tmp_path.resolve()}/data/n.db"


def test_delete_token_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    import hmac

    from webapp.web import storage as module

    calls: list[tuple[str, str]] = []
    compare = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(module.hmac, "compare_digest", spy)
    store = Storage(tmp_path / "t.sqlite3")
    saved = store.save("{}", "[]", "0")
    store.delete(saved.id, secrets.token_urlsafe(32))
    assert len(calls) == 1


@pytest.mark.postgres
def test_workers_starting_together_on_an_empty_postgresql_all_come_up() -> None:
    """gunicorn starts its workers at once; each creates the schema if it is missing."""
    import threading

    from sqlalchemy import create_engine, text

    url = postgres_url()
    schema = "race_" + secrets.token_hex(6)
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = f"{url}?options=-csearch_path%3D{schema}"
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def start_worker() -> None:
        barrier.wait()
        try:
            Storage(scoped).close()
        except BaseException as error:
            failures.append(error)

    try:
        threads = [threading.Thread(target=start_worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        store = Storage(scoped)
        assert store.load(store.save(DOCUMENT, INPUT, "0").id) is not None
        store.close()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_a_share_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """`netpol-viz diff <id> <id>` reads an id starting with '-' as an option: redraw it."""
    from webapp.web import storage as storage_module

    drawn = iter(["-starts-with-a-dash", "fine-id"])
    monkeypatch.setattr(storage_module.secrets, "token_urlsafe", lambda _n: next(drawn))
    assert storage_module.new_id() == "fine-id"


def test_an_upgrade_writes_only_a_live_row_that_still_holds_the_old_document(
    storage: Storage,
) -> None:
    saved = storage.save('{"version": 1}', INPUT, "0.9.0")
    assert storage.upgrade(saved.id, '{"version": 1}', '{"version": 2}', "1.2.3")
    # A second server that read the old document too finds it upgraded already.
    assert not storage.upgrade(saved.id, '{"version": 1}', '{"version": 2, "x": 1}', "0")
    stored = storage.load(saved.id)
    assert stored is not None
    assert (stored.document, stored.input, stored.netpol_viz_version) == (
        '{"version": 2}',
        INPUT,
        "1.2.3",
    )
    # A row deleted meanwhile stays deleted.
    gone = storage.save('{"version": 1}', INPUT, "0.9.0")
    storage.delete(gone.id, gone.delete_token)
    assert not storage.upgrade(gone.id, '{"version": 1}', '{"version": 2}', "0")
    assert storage.load(gone.id) is None

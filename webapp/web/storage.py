"""Stored analyses behind share links, through SQLAlchemy Core (SQLite or PostgreSQL).

A share link must show the same analysis forever, across restarts and app
instances, so the analysis document and the sanitized input are stored as
produced, with the netpol-viz version that produced them, and never
recomputed on read, except once when the document's version is older than
the one this code speaks (`upgrade`, see webapp.web.reanalysis). Ids are
`secrets.token_urlsafe(24)` (192 random bits); the delete token is another
secret of which only the SHA-256 is kept. Deleting wipes the stored content
and keeps a tombstone, so a deleted id answers exactly like one that never
existed.

A database that cannot be reached (down, refusing connections, a SQLite
file that cannot be opened, locked past the timeout) raises `Unreachable`,
which the app answers with 503; a server may start before its database and
creates the schema on first contact.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

ID_BYTES = 24
"""Random bytes in a share id: 192 bits, well over the 128 the contract asks."""

CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL connection: an unreachable host fails a request quickly."""

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,86}")
"""What `secrets.token_urlsafe` can produce for 24..64 bytes; anything else is malformed."""

metadata = MetaData()

analyses = Table(
    "analyses",
    metadata,
    Column("id", String(86), primary_key=True),
    Column("delete_token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("netpol_viz_version", String(32), nullable=False),
    # JSON text exactly as produced; NULL once deleted.
    Column("document", Text, nullable=True),
    Column("input", Text, nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
)


@dataclass(frozen=True, slots=True)
class StoredAnalysis:
    id: str
    created_at: datetime
    netpol_viz_version: str
    document: str
    """The analysis document as JSON text (CONTRACT §3)."""
    input: str
    """The sanitized input as JSON text."""


@dataclass(frozen=True, slots=True)
class Saved:
    id: str
    delete_token: str


class Unreachable(Exception):
    """The database cannot be used right now (a connection failure, not a bug): try again later."""


class Deletion(Enum):
    DELETED = "deleted"
    NOT_FOUND = "not-found"
    WRONG_TOKEN = "wrong-token"


def database_url(database: str | Path) -> str:
    """A SQLAlchemy URL for `database`: a URL as given, a path as a SQLite file.

    `postgresql://` and `postgres://` get the psycopg (3) driver, the one we
    depend on, instead of SQLAlchemy's default psycopg2.
    """
    text = str(database)
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser().resolve())
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    return text


def describe(database: str | Path) -> str:
    """Where analyses are stored, for people: the SQLite file, or the URL without its password."""
    url = database_url(database)
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    return make_url(url).render_as_string(hide_password=True)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_well_formed(analysis_id: str) -> bool:
    return ID_PATTERN.fullmatch(analysis_id) is not None


def new_id() -> str:
    """A fresh share id that does not start with '-': a command line would read it as an
    option (`netpol-viz diff <id> <id>`). Redrawing keeps every id uniformly random."""
    while True:
        analysis_id = secrets.token_urlsafe(ID_BYTES)
        if not analysis_id.startswith("-"):
            return analysis_id


class Storage:
    """Save, load and delete analyses; the schema is created on first contact if missing."""

    def __init__(self, database: str | Path) -> None:
        url = database_url(database)
        self.location = describe(database)
        self.engine: Engine = _make_engine(url)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        try:
            self.check()
        except Unreachable as error:
            log.warning(
                "database %s unreachable at start (%s): answering 503 until it is back",
                self.location,
                error,
            )

    def check(self) -> None:
        """Raise Unreachable unless the database answers (and has the schema)."""
        with self._connect() as connection:
            connection.execute(text("SELECT 1"))

    def _create_schema(self) -> None:
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except OperationalError:
            raise
        except DBAPIError:
            # Several workers starting at once against one PostgreSQL can race
            # on CREATE TABLE; the loser finds the table made by the winner.
            metadata.create_all(self.engine, checkfirst=True)

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A connection (in a transaction when `write`); connection failures become Unreachable."""
        try:
            if not self._schema_ready:
                with self._schema_lock:
                    if not self._schema_ready:
                        self._create_schema()
                        self._schema_ready = True
            opened = self.engine.begin() if write else self.engine.connect()
            with opened as connection:
                yield connection
        except (OperationalError, PoolTimeout) as error:
            # PEP 249: OperationalError is "not necessarily under the control of the
            # programmer" (refused, dropped, locked, file not openable).
            raise Unreachable(_reason(error)) from error
        except DBAPIError as error:
            if error.connection_invalidated:
                raise Unreachable(_reason(error)) from error
            raise

    def close(self) -> None:
        self.engine.dispose()

    def save(self, document: str, sanitized_input: str, version: str) -> Saved:
        """Store a new analysis (JSON texts) under a fresh random id."""
        analysis_id = new_id()
        token = secrets.token_urlsafe(32)
        with self._connect(write=True) as connection:
            connection.execute(
                insert(analyses).values(
                    id=analysis_id,
                    delete_token_hash=hash_token(token),
                    created_at=datetime.now(UTC),
                    netpol_viz_version=version,
                    document=document,
                    input=sanitized_input,
                    deleted=False,
                )
            )
        return Saved(analysis_id, token)

    def load(self, analysis_id: str) -> StoredAnalysis | None:
        """The stored analysis, or None when the id is malformed, unknown or deleted."""
        if not is_well_formed(analysis_id):
            return None
        query = select(
            analyses.c.id,
            analyses.c.created_at,
            analyses.c.netpol_viz_version,
            analyses.c.document,
            analyses.c.input,
        ).where(analyses.c.id == analysis_id, analyses.c.deleted.is_(False))
        with self._connect() as connection:
            row = connection.execute(query).first()
        if row is None or row.document is None:
            return None
        created = row.created_at
        if created.tzinfo is None:  # SQLite keeps no zone; we only ever write UTC
            created = created.replace(tzinfo=UTC)
        return StoredAnalysis(
            id=row.id,
            created_at=created,
            netpol_viz_version=row.netpol_viz_version,
            document=row.document,
            input=row.input or "",
        )

    def upgrade(self, analysis_id: str, old_document: str, document: str, version: str) -> bool:
        """Replace the stored document `old_document` by `document` (produced by `version`).

        A compare-and-swap: only a live row that still holds `old_document` is
        written, so two servers upgrading one row at once write it once (both
        compute the same document from the same input), and a row deleted
        meanwhile stays deleted. Returns whether this call wrote it.
        """
        with self._connect(write=True) as connection:
            written = connection.execute(
                update(analyses)
                .where(
                    analyses.c.id == analysis_id,
                    analyses.c.deleted.is_(False),
                    analyses.c.document == old_document,
                )
                .values(document=document, netpol_viz_version=version)
            )
        return bool(written.rowcount == 1)

    def exists(self, analysis_id: str) -> bool:
        """Whether `load` would find the analysis, without reading its content."""
        if not is_well_formed(analysis_id):
            return False
        query = select(analyses.c.id).where(
            analyses.c.id == analysis_id, analyses.c.deleted.is_(False)
        )
        with self._connect() as connection:
            return connection.execute(query).first() is not None

    def delete(self, analysis_id: str, token: str) -> Deletion:
        """Revoke an analysis if `token` is its delete token; its content is wiped."""
        if not is_well_formed(analysis_id):
            return Deletion.NOT_FOUND
        with self._connect(write=True) as connection:
            stored_hash = connection.execute(
                select(analyses.c.delete_token_hash).where(
                    analyses.c.id == analysis_id, analyses.c.deleted.is_(False)
                )
            ).scalar_one_or_none()
            if stored_hash is None:
                return Deletion.NOT_FOUND
            if not hmac.compare_digest(hash_token(token), stored_hash):
                return Deletion.WRONG_TOKEN
            connection.execute(
                update(analyses)
                .where(analyses.c.id == analysis_id)
                .values(deleted=True, document=None, input=None)
            )
        return Deletion.DELETED


def _reason(error: DBAPIError | PoolTimeout) -> str:
    """The driver's first line (no SQL, no parameters): enough for a log line."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        if url not in ("sqlite://", "sqlite:///:memory:"):
            try:
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                # Not fatal: every request answers 503 until the folder can be used.
                log.warning("cannot create the folder of %s: %s", url, error)
            event.listen(engine, "connect", _sqlite_wal)
        return engine
    connect_args = {}
    if url.startswith("postgresql+psycopg") and "connect_timeout" not in make_url(url).query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_wal(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers go on while one gunicorn worker writes.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()

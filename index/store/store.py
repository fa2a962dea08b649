"""The :class:`Store`: one persistent database for every modality.

A store wraps two SQLAlchemy engines (see :mod:`.engine`) and exposes typed
methods only; no caller writes SQL. Writes made inside one
``with store.transaction():`` block commit together or not at all, and every
write that changes what an index must contain bumps that index kind's
generation counter in the same transaction, so a derived index labelled with
an older generation is known to be stale.
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, Integer, Text, cast, func, inspect, insert, select, update

from . import _checks
from ._audit import AuditMixin, install_append_only_guard
from ._bulk import BulkMixin
from ._cases import CasesMixin
from ._jobs import JobsMixin
from ._keys import KeysMixin
from ._migrate import upgrade
from ._records import RecordsMixin
from ._sharing import SharingMixin
from .engine import biomatch_home, default_url, make_engines
from .errors import StoreError
from .schema import INDEX_KINDS, SCHEMA_VERSION, meta, metadata

__all__ = ["Store", "Transaction"]

_GENESIS = "0" * 64
# Key for PostgreSQL's advisory lock around schema creation (two servers starting at once).
_SCHEMA_LOCK_KEY = 0x6269_6F6D_6174_6368 & 0x7FFF_FFFF_FFFF_FFFF


@dataclass
class Transaction:
    """Handle of a store transaction, as ``with store.transaction() as tx`` gives it.

    Attributes
    ----------
    generations : dict of str to int
        Filled at commit: for every index kind this transaction changed, the
        generation it committed. The generation just before it is that minus
        one, so an in-memory index known to be at ``generations[kind] - 1``
        is exactly at ``generations[kind]`` once this transaction's change is
        applied to it; any other value means another writer came in between.
    """

    conn: Connection
    dirty: set[str] = field(default_factory=set)
    generations: dict[str, int] = field(default_factory=dict)


class Store(RecordsMixin, BulkMixin, CasesMixin, AuditMixin, KeysMixin, SharingMixin, JobsMixin):
    """Persistent store of records, templates, marks, notifications and audit.

    Create it with :meth:`Store.open`. It is safe to share one instance between
    threads; each thread (or asyncio task) has its own current transaction.

    Attributes
    ----------
    url : str
        The database URL with any password hidden.
    backend : str
        ``"sqlite"`` or ``"postgresql"``.
    """

    def __init__(self, write: Engine, read: Engine, *, home: Path):
        self._write, self._read = write, read
        self._home = home
        self._tx: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(f"biomatch_store_tx_{id(self)}", default=None)
        self.url = write.url.render_as_string(hide_password=True)
        self.backend = write.dialect.name
        self._instance_id = self._init_schema()

    # -- life cycle ---------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None, *, home: str | Path | None = None) -> "Store":
        """Open (and create or check the schema of) a store.

        Parameters
        ----------
        url : str, optional
            Database URL. Default ``sqlite:///$BIOMATCH_HOME/biomatch.db``
            (``BIOMATCH_HOME`` defaults to ``~/.biomatch``, created if missing).
            ``postgresql+psycopg://user@host/db`` uses PostgreSQL.
        home : path, optional
            Where derived index files go for a PostgreSQL store (default
            ``$BIOMATCH_HOME``). A SQLite store keeps them beside its file.

        Raises
        ------
        ValueError
            For an unsupported or in-memory URL.
        SchemaVersionError
            When the database was written by a newer biomatch.
        """
        write, read = make_engines(url or default_url())
        if write.dialect.name == "sqlite":
            base = Path(write.url.database).expanduser().resolve().parent
        else:
            base = Path(home).expanduser() if home is not None else biomatch_home()
        try:
            return cls(write, read, home=base)
        except BaseException:
            write.dispose()
            read.dispose()
            raise

    def close(self) -> None:
        """Release every pooled connection. The store must not be used afterwards."""
        self._write.dispose()
        if self._read is not self._write:
            self._read.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def derived_dir(self) -> Path:
        """Folder for derived index files of this database (created on demand).

        It is keyed by the database's instance id, so two databases never share
        (or mistake each other's) index files.
        """
        path = self._home / "derived" / self._instance_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- transactions -------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self):
        """Group writes into one all-or-nothing transaction.

        Every store write inside the block joins it; an exception rolls all of
        them back. Nested blocks become savepoints (and yield the outer
        handle). Generation counters of the index kinds touched are bumped
        once, just before the commit.

        Yields
        ------
        Transaction
            Its ``generations`` tell, after the block, which generation each
            changed index kind committed (see :class:`Transaction`).

        Examples
        --------
        >>> with store.transaction() as tx:                    # doctest: +SKIP
        ...     rid = store.add_record("fingerprint", "TP-1", "FR")
        ...     store.add_fingerprints(rid, fingers)
        >>> if tx.generations["fingerprint"] - 1 == index.generation:   # doctest: +SKIP
        ...     index.add(...)                                 # nobody else wrote in between
        ...     index.generation = tx.generations["fingerprint"]
        ... else:
        ...     index = rebuild(store)
        """
        outer = self._tx.get()
        if outer is not None:
            with outer.conn.begin_nested():
                yield outer
            return
        with self._write.begin() as conn:
            tx = Transaction(conn)
            token = self._tx.set(tx)
            try:
                yield tx
                bumped = {kind: self._bump(conn, kind) for kind in sorted(tx.dirty)}
            finally:
                self._tx.reset(token)
        tx.generations.update(bumped)  # only once committed

    @contextlib.contextmanager
    def _writing(self, *dirty: str):
        """Connection of the current transaction (or a new one), marking index kinds dirty."""
        with self.transaction():
            tx = self._tx.get()
            tx.dirty.update(dirty)
            yield tx.conn

    def _mark_dirty(self, kind: str) -> None:
        self._tx.get().dirty.add(kind)

    @contextlib.contextmanager
    def _reading(self):
        """Connection that sees the current transaction's writes, if any."""
        tx = self._tx.get()
        if tx is not None:
            yield tx.conn
            return
        with self._read.connect() as conn:
            yield conn

    # -- generations --------------------------------------------------------
    def generation(self, kind: str) -> int:
        """Return the generation counter of an index kind.

        Parameters
        ----------
        kind : {'fingerprint', 'face', 'dna', 'mark'}

        Notes
        -----
        To rebuild an index, take the generation and the rows together from
        :meth:`template_snapshot`, which reads both in one snapshot.
        """
        _checks.choice("index kind", kind, INDEX_KINDS)
        with self._reading() as conn:
            return int(conn.execute(select(meta.c.value).where(meta.c.key == f"generation.{kind}")).scalar_one())

    def _bump(self, conn: Connection, kind: str) -> int:
        return int(conn.execute(
            update(meta).where(meta.c.key == f"generation.{kind}")
            .values(value=cast(cast(meta.c.value, Integer) + 1, Text)).returning(meta.c.value)
        ).scalar_one())

    # -- schema ---------------------------------------------------------------
    def _init_schema(self) -> str:
        with self._write.begin() as conn:
            if self.backend == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
            if inspect(conn).has_table("meta"):
                self._check_version(conn)
            metadata.create_all(conn)
            install_append_only_guard(conn)
            present = set(conn.execute(select(meta.c.key)).scalars())
            wanted = {"schema_version": str(SCHEMA_VERSION), "instance_id": uuid.uuid4().hex,
                      "audit_head": _GENESIS, **{f"generation.{k}": "0" for k in INDEX_KINDS}}
            missing = [{"key": k, "value": v} for k, v in wanted.items() if k not in present]
            if missing:
                conn.execute(insert(meta), missing)
            return conn.execute(select(meta.c.value).where(meta.c.key == "instance_id")).scalar_one()

    def _check_version(self, conn: Connection) -> None:
        found = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one_or_none()
        if found is None:
            return
        try:
            version = int(found)
        except ValueError:
            raise StoreError(f"database {self.url} has an unreadable schema_version {found!r}") from None
        upgrade(conn, self.url, version, SCHEMA_VERSION)


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (the form ``image_sha256`` columns hold)."""
    return hashlib.sha256(data).hexdigest()

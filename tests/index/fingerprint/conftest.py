from biomatch.index.store.testing import db_url, pg_database, pg_server, store  # noqa: F401

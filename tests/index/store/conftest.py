from biomatch.index.store.testing import db_url, pg_server, store  # noqa: F401

"""Background job status in the store: add, update, read, fail the unfinished ones; the version 3 -> 4 upgrade."""
import pytest
from sqlalchemy import create_engine, inspect, text, update

from biomatch.index.store import NotFoundError, Store
from biomatch.index.store.schema import SCHEMA_VERSION, meta


def test_job_status_round_trip_and_interrupted_jobs(store):
    store.add_job("a" * 32, "face.probe", "FR", 3)
    store.add_job("b" * 32, "face.probe", "DE", 1)
    store.add_job("c" * 32, "face.probe", "FR", 2)
    store.add_job("d" * 32, "other.kind", "FR", 2)
    job = store.get_job("a" * 32)
    assert (job.status, job.files, job.done, job.error, job.agency) == ("queued", 3, 0, None, "FR")
    store.update_job("a" * 32, status="running")
    store.update_job("c" * 32, status="done", done=2)
    assert store.fail_unfinished_jobs("face.probe", "interrupted") == 2
    assert [(store.get_job(k * 32).status, store.get_job(k * 32).error) for k in "abcd"] == [
        ("failed", "interrupted"), ("failed", "interrupted"), ("done", None), ("queued", None)]
    assert store.get_job("nope") is None and store.get_job("") is None
    with pytest.raises(NotFoundError, match="no job 'nope'"):
        store.update_job("nope", status="done")
    with pytest.raises(ValueError, match="status must be one of"):
        store.update_job("a" * 32, status="lost")


def test_version_3_database_gains_the_jobs_table(db_url, tmp_path):
    Store.open(db_url, home=tmp_path).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:  # turn it back into what schema version 3 wrote
        conn.execute(text("DROP TABLE jobs"))
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value="3"))
    with Store.open(db_url, home=tmp_path) as store:
        store.add_job("j1", "face.probe", "FR", 1)
        assert store.get_job("j1").status == "queued"
    with engine.connect() as conn:
        assert inspect(conn).has_table("jobs")
        assert conn.execute(meta.select().where(meta.c.key == "schema_version")).one().value == str(SCHEMA_VERSION)
    engine.dispose()

import os
import uuid

import pytest

from db import migrate
from db.connect import bind, open_database
from tests.pgcluster import Cluster, find_bindir

REQUIRE_POSTGRES = os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def pg_cluster():
    bindir = find_bindir()
    if bindir is None:
        if REQUIRE_POSTGRES:
            pytest.fail("HOTLINE_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries found")
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    cluster = Cluster(bindir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture
def db(database_url):
    """A migrated database bound to the models' proxy."""
    database = bind(open_database(database_url))
    migrate.upgrade(database)
    yield database
    database.close()

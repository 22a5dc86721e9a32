"""A throwaway PostgreSQL cluster for the test session: its own data directory
under a temporary directory, a free loopback port, run as a non-root user."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_bindir() -> str | None:
    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return os.path.dirname(initdb)
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


class Cluster:
    def __init__(self, bindir: str):
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="hotline-pg-")
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _cmd(self, name, *args, **kw):
        return subprocess.run(self._run_as + [os.path.join(self.bindir, name), *args],
                              check=True, capture_output=True, text=True, **kw)

    def start(self):
        if self._run_as:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
        data = os.path.join(self.root, "data")
        self._cmd("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self._cmd("pg_ctl", "-D", data, "-l", os.path.join(self.root, "log"), "-w", "-o",
                  f"-h 127.0.0.1 -p {self.port} -k {self.root} -F", "start")
        self.data = data
        return self

    def url(self, dbname="postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg2
        conn = psycopg2.connect(self.url())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def stop(self):
        try:
            self._cmd("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def wait_for(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False

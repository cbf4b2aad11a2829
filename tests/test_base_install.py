"""`pip install govledger` without extras: the ledger, the service and the client work; the gate
and the reports say which extra to install (one line, exit code 2).

The package is installed from this checkout into a fresh virtual environment (about a minute,
mostly downloads), and every command runs from there with no PYTHONPATH, so what is tested is
the installed base package and nothing else. Skipped when PyPI cannot be reached.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "pandas", "sklearn", "fairlearn", "shap", "skops", "jinja2", "weasyprint", "matplotlib")

pytestmark = pytest.mark.slow


class BaseInstall:
    """A virtual environment holding the base package, and a working directory to run it in."""

    def __init__(self, venv: Path, workdir: Path) -> None:
        self.venv, self.workdir = venv, workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVLEDGER_", "PYTHON", "VIRTUAL_ENV"))}

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        program = str(self.venv / "bin" / args[0])
        return subprocess.run(
            [program, *args[1:]],
            cwd=self.workdir,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def govledger(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("govledger", *args)


def _pypi_reachable() -> bool:
    try:
        return httpx.head("https://pypi.org/simple/pip/", timeout=10, follow_redirects=True).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> BaseInstall:
    if not _pypi_reachable():
        pytest.skip("PyPI is unreachable: cannot build a virtual environment with the base package alone")
    root = tmp_path_factory.mktemp("base-install")
    venv, workdir = root / "venv", root / "work"
    workdir.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = BaseInstall(venv, workdir)
    pip = installed.run(
        "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(REPO), timeout=900
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    return installed


def test_base_install_has_no_ml_or_pdf_library(base: BaseInstall) -> None:
    probe = "import importlib.util as u, json, sys; print(json.dumps([m for m in sys.argv[1:] if u.find_spec(m)]))"
    found = base.run("python", "-c", probe, *HEAVY)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == []
    imported = base.run("python", "-c", "import govledger.cli, ledger.client, ledger.service")
    assert imported.returncode == 0, imported.stderr


def test_init_append_and_deep_verify_work_on_the_base_install(base: BaseInstall) -> None:
    assert base.govledger("--help").returncode == 0
    init = base.govledger("init", "--origin", "base.example/log")
    assert init.returncode == 0, init.stderr
    one = base.govledger("append", "--kind", "note.recorded", "--data", '{"text": "base install"}')
    assert one.returncode == 0, one.stderr
    batch = '{"kind":"note.recorded","data":{"text":"a"}}\n{"kind":"note.recorded","data":{"text":"b"}}\n'
    many = base.run("govledger", "append", stdin=batch)
    assert many.returncode == 0, many.stderr
    verified = base.govledger("verify", "--deep", "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["ok"] is True


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (["gate", "--policy", "four-fifths", "--model", "m.skops", "--data", "d.csv", "--target", "y"], "gate"),
        (["report", "attestation", "-o", "attestation.pdf"], "reports"),
        (["demo", "--no-serve"], "all"),
    ],
)
def test_a_command_of_a_missing_extra_names_the_extra_and_exits_2(
    base: BaseInstall, command: list[str], extra: str
) -> None:
    before = sorted(p.name for p in base.workdir.iterdir())
    refused = base.govledger(*command)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert f"pip install 'govledger[{extra}]'" in refused.stderr
    assert sorted(p.name for p in base.workdir.iterdir()) == before  # nothing was written
    assert base.govledger(command[0], "--help").returncode == 0  # help still works


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(base: BaseInstall) -> Iterator[tuple[str, str]]:
    """`govledger serve` from the base install; yields (its URL, a producer key)."""
    if not (base.workdir / "govledger.db").exists():
        init = base.govledger("init", "--origin", "base.example/log")
        assert init.returncode == 0, init.stderr
    created = base.govledger("keys", "create", "--role", "producer", "--name", "base-client", "--json")
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)["token"]
    port = _free_port()
    log = (base.workdir / "serve.log").open("w")
    server = subprocess.Popen(
        [str(base.venv / "bin" / "govledger"), "serve", "--port", str(port)],
        cwd=base.workdir,
        env=base.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/checkpoints/latest", timeout=2).status_code in (200, 401):
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            assert server.poll() is None, (base.workdir / "serve.log").read_text()
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


SDK_SCRIPT = """
import json, sys
from ledger.client import GovledgerClient

url, token = sys.argv[1], sys.argv[2]
with GovledgerClient(url, token) as client:
    dataset = {
        "dataset_id": "base-install-data",
        "content_sha256": "ab" * 32,
        "columns": [{"name": "age", "type": "int"}],
        "rows": 10,
        "source_uri": "s3://bucket/base.csv",
        "licence": "CC-BY-4.0",
        "sensitive_attributes": [],
    }
    receipt = client.register_dataset(dataset)
    proof = client.inclusion_proof(receipt.seq)
    print(json.dumps({"seq": receipt.seq, "got": client.get_dataset("base-install-data")["dataset_id"],
                      "proof": sorted(proof)}))
"""


def test_the_sdk_client_talks_to_govledger_serve_on_the_base_install(
    base: BaseInstall, served: tuple[str, str]
) -> None:
    url, token = served
    answer = base.run("python", "-c", SDK_SCRIPT, url, token)
    assert answer.returncode == 0, answer.stderr[-3000:]
    result = json.loads(answer.stdout)
    assert result["got"] == "base-install-data"
    assert result["seq"] > 0
    log = (base.workdir / "serve.log").read_text()
    assert "pip install 'govledger[reports]'" in log  # the report endpoints are off, and it says so

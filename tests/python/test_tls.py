"""The Python client's TLS options (tls_ca, tls_cert, tls_key,
tls_server_name) against the real aadd with --tls_cert/--tls_key, and with
--tls_client_ca (mutual TLS).  Certificates are made here with openssl."""

import shutil
import subprocess

import pytest

import aadd
from conftest import AaddProcess


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for localhost and 127.0.0.1, a client
    certificate the CA signed, and an unrelated self-signed pair."""
    if shutil.which("openssl") is None:
        pytest.fail("no openssl to make test certificates (scripts/install-deps.sh)")
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]
    sign = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2"]
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=aadd test ca")
    run("req", "-x509", *key, "-keyout", "other.key", "-out", "other.pem", "-subj", "/CN=other")
    for name in ("server", "client"):
        run("req", "-new", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", *sign, "-out", f"{name}.pem",
            *(["-extfile", "server.ext"] if name == "server" else []))
    return d


def _start(binary, pki, *extra):
    return AaddProcess(binary, "--listen_address=127.0.0.1",
                       f"--tls_cert={pki / 'server.pem'}", f"--tls_key={pki / 'server.key'}",
                       *extra)


@pytest.fixture(scope="module")
def tls_server(aadd_binary, pki):
    process = _start(aadd_binary, pki)
    yield process
    assert process.stop() == 0, "\n".join(process.log[-20:])


@pytest.fixture(scope="module")
def mtls_server(aadd_binary, pki):
    process = _start(aadd_binary, pki, f"--tls_client_ca={pki / 'ca.pem'}")
    yield process
    assert process.stop() == 0, "\n".join(process.log[-20:])


def test_tls_with_the_ca(tls_server, pki):
    with aadd.Client(tls_server.target, tls_ca=pki / "ca.pem", timeout=30) as c:
        assert c.tls
        assert c.health() == "SERVING"
        s = c.create_session(feature_count=2)
        assert s.id in [x.session_id for x in c.sessions()]
        s.delete()


def test_tls_server_name(tls_server, pki):
    at_ip = f"127.0.0.1:{tls_server.port}"
    with aadd.Client(at_ip, tls_ca=pki / "ca.pem", tls_server_name="localhost",
                     timeout=30) as c:
        assert c.health() == "SERVING"
    with aadd.Client(at_ip, tls_ca=pki / "ca.pem", tls_server_name="elsewhere.example",
                     max_attempts=1, timeout=10) as c:
        with pytest.raises(aadd.UnavailableError):
            c.health()


def test_tls_refusals(tls_server, pki):
    with aadd.Client(tls_server.target, max_attempts=1, timeout=10) as plain:
        with pytest.raises(aadd.UnavailableError):
            plain.health()
    with aadd.Client(tls_server.target, tls_ca=pki / "other.pem", max_attempts=1,
                     timeout=10) as untrusting:
        with pytest.raises(aadd.UnavailableError):
            untrusting.health()


def test_mutual_tls(mtls_server, pki):
    with aadd.Client(mtls_server.target, tls_ca=pki / "ca.pem", tls_cert=pki / "client.pem",
                     tls_key=pki / "client.key", timeout=30) as c:
        assert c.health() == "SERVING"
        s = c.create_session(feature_count=2)
        s.delete()
    with aadd.Client(mtls_server.target, tls_ca=pki / "ca.pem", max_attempts=1,
                     timeout=10) as no_cert:
        with pytest.raises(aadd.UnavailableError):
            no_cert.health()
    with aadd.Client(mtls_server.target, tls_ca=pki / "ca.pem", tls_cert=pki / "other.pem",
                     tls_key=pki / "other.key", max_attempts=1, timeout=10) as untrusted:
        with pytest.raises(aadd.UnavailableError):
            untrusted.health()


def test_aadctl_over_mutual_tls(aadctl_binary, mtls_server, pki):
    result = subprocess.run(
        [aadctl_binary, f"--server={mtls_server.target}", f"--tls_ca={pki / 'ca.pem'}",
         f"--tls_cert={pki / 'client.pem'}", f"--tls_key={pki / 'client.key'}", "health"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout

"""What the client puts on the wire, seen by a stand-in server written with
grpcio in this test: x-session-id and the token on every call, deadlines,
retries of idempotent calls only (a retried ingest stream sends the same
batch ids), and TLS with the client's certificate.  The TLS options
against aadd itself are in test_tls.py."""

import shutil
import subprocess
import threading
from concurrent import futures

import grpc
import numpy as np
import pytest

import aadd
from aadd._proto import aad_pb2, aad_pb2_grpc


class StandIn(aad_pb2_grpc.ActiveAnomalyDetectionServicer):
    """Answers a few calls, records what arrived, fails on request."""

    def __init__(self):
        self.calls = []
        self.unavailable = {}  # method -> UNAVAILABLE answers left
        self.lock = threading.Lock()

    def _arrive(self, method, context, request):
        with self.lock:
            self.calls.append({"method": method, "metadata": dict(context.invocation_metadata()),
                               "request": request, "time_left": context.time_remaining()})
            if self.unavailable.get(method, 0) > 0:
                self.unavailable[method] -= 1
                context.abort(grpc.StatusCode.UNAVAILABLE, "stand-in: try again")

    def of(self, method):
        return [c for c in self.calls if c["method"] == method]

    def GetSession(self, request, context):
        self._arrive("GetSession", context, request)
        return aad_pb2.GetSessionResponse(session=aad_pb2.SessionInfo(
            session_id=request.session_id, feature_count=2))

    def CreateSession(self, request, context):
        self._arrive("CreateSession", context, request)
        return aad_pb2.CreateSessionResponse(session=aad_pb2.SessionInfo(
            session_id=request.session_id))

    def Ingest(self, request_iterator, context):
        requests = list(request_iterator)
        self._arrive("Ingest", context, requests)
        batches, first = [], 0
        for r in requests:
            n = len(r.values) // r.feature_count
            batches.append(aad_pb2.IngestedBatch(batch_id=r.batch_id, first_row_id=first,
                                                 row_count=n))
            first += n
        return aad_pb2.IngestResponse(batches=batches, total_rows=first)

    def SubmitLabels(self, request, context):
        self._arrive("SubmitLabels", context, request)
        return aad_pb2.SubmitLabelsResponse(labels=len(request.labels))


def _serve(credentials=None):
    standin = StandIn()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    aad_pb2_grpc.add_ActiveAnomalyDetectionServicer_to_server(standin, server)
    if credentials is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port("localhost:0", credentials)
    server.start()
    return server, standin, port


@pytest.fixture
def standin():
    server, standin, port = _serve()
    standin.target = f"127.0.0.1:{port}"
    yield standin
    server.stop(None)


def test_session_id_and_token_on_every_call(standin, monkeypatch):
    monkeypatch.delenv("AADD_TOKEN", raising=False)
    c = aadd.Client(standin.target, token="s3cret", timeout=7)
    s = c.session("abc")
    s.ingest(np.zeros((3, 2)))
    s.label({0: True})
    for call in standin.calls:
        assert call["metadata"]["x-session-id"] == "abc", call["method"]
        assert call["metadata"]["authorization"] == "Bearer s3cret", call["method"]
        assert 5 < call["time_left"] < 7.5, call["method"]  # the deadline travels
    created = c.create_session(seed=1)
    call = standin.of("CreateSession")[0]
    assert call["metadata"]["x-session-id"] == created.id == call["request"].session_id
    assert len(created.id) == 32  # the client names the session


def test_token_from_the_environment(standin, monkeypatch):
    monkeypatch.setenv("AADD_TOKEN", "from-env")
    aadd.Client(standin.target).session("abc")
    assert standin.calls[-1]["metadata"]["authorization"] == "Bearer from-env"
    monkeypatch.delenv("AADD_TOKEN")
    aadd.Client(standin.target).session("abc")
    assert "authorization" not in standin.calls[-1]["metadata"]


def test_idempotent_calls_are_retried(standin):
    c = aadd.Client(standin.target, initial_backoff=0.01, max_attempts=4)
    standin.unavailable["GetSession"] = 2
    assert c.session("abc").id == "abc"
    assert len(standin.of("GetSession")) == 3
    standin.unavailable["GetSession"] = 4
    with pytest.raises(aadd.UnavailableError, match="stand-in: try again"):
        c.session("abc")
    assert len(standin.of("GetSession")) == 3 + 4  # max_attempts, then the error


def test_a_retried_ingest_sends_the_same_batch_ids(standin):
    c = aadd.Client(standin.target, initial_backoff=0.01, ingest_batch_rows=2)
    s = c.session("abc")
    standin.unavailable["Ingest"] = 1
    result = s.ingest(np.arange(10, dtype=np.float32).reshape(5, 2))
    assert result.total_rows == 5 and result.row_ids == range(5)
    first, second = (call["request"] for call in standin.of("Ingest"))
    ids = [r.batch_id for r in first]
    assert ids == [r.batch_id for r in second] and len(ids) == 3
    prefix = ids[0].rsplit("-", 1)[0]
    assert ids == [f"{prefix}-{n}" for n in range(3)]
    # Packed floats from numpy arrive as the rows, in order.
    assert [list(r.values) for r in second] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(r.session_id == "abc" and r.feature_count == 2 for r in second)


def test_creates_and_withdrawals_are_not_retried(standin):
    c = aadd.Client(standin.target, initial_backoff=0.01)
    standin.unavailable["CreateSession"] = 1
    with pytest.raises(aadd.UnavailableError):
        c.create_session(seed=1)
    assert len(standin.of("CreateSession")) == 1
    s = c.session("abc")
    standin.unavailable["SubmitLabels"] = 1
    with pytest.raises(aadd.UnavailableError):
        s.withdraw(3)
    assert len(standin.of("SubmitLabels")) == 1
    standin.unavailable["SubmitLabels"] = 1
    assert s.label({3: False}).labels == 1  # a verdict is safe to resend
    assert len(standin.of("SubmitLabels")) == 3


def test_feature_names_go_in_the_first_message_only(standin):
    import pandas as pd
    c = aadd.Client(standin.target, ingest_batch_rows=1)
    c.session("abc").ingest(pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]}))
    first, second = standin.of("Ingest")[0]["request"]
    assert list(first.feature_names) == ["x", "y"] and list(second.feature_names) == []


# --- TLS ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for localhost and a client certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make test certificates")
    d = tmp_path_factory.mktemp("pki")

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out",
            f"{ca}.pem", "-days", "2", "-subj", f"/CN=aadd test {ca}")
    for name in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", "/CN=localhost")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext")
    return d


@pytest.fixture
def tls_standin(pki):
    credentials = grpc.ssl_server_credentials(
        [((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes())],
        root_certificates=(pki / "ca.pem").read_bytes(), require_client_auth=True)
    server, standin, port = _serve(credentials)
    standin.target = f"localhost:{port}"
    yield standin
    server.stop(None)


def test_mutual_tls(tls_standin, pki):
    c = aadd.Client(tls_standin.target, tls_ca=pki / "ca.pem", tls_cert=pki / "client.pem",
                    tls_key=pki / "client.key", token="t", timeout=10)
    assert c.tls
    assert c.session("abc").id == "abc"
    assert tls_standin.calls[-1]["metadata"]["authorization"] == "Bearer t"


def test_tls_refusals(tls_standin, pki):
    calls = len(tls_standin.calls)
    # No client certificate: the server requires one.
    no_cert = aadd.Client(tls_standin.target, tls_ca=pki / "ca.pem", max_attempts=1, timeout=10)
    with pytest.raises(aadd.UnavailableError):
        no_cert.session("abc")
    # A server certificate from a CA the client does not trust.
    wrong_ca = aadd.Client(tls_standin.target, tls_ca=pki / "other-ca.pem",
                           tls_cert=pki / "client.pem", tls_key=pki / "client.key",
                           max_attempts=1, timeout=10)
    with pytest.raises(aadd.UnavailableError):
        wrong_ca.session("abc")
    # Plain text to a TLS port.
    plain = aadd.Client(tls_standin.target, max_attempts=1, timeout=10)
    with pytest.raises(aadd.UnavailableError):
        plain.session("abc")
    assert len(tls_standin.calls) == calls  # none of them got through


def test_tls_options_are_checked(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        aadd.Client("localhost:1", tls_ca=tmp_path / "missing-ca.pem")
    assert "tls_ca" in str(e.value) and "missing-ca.pem" in str(e.value)
    with pytest.raises(ValueError, match="tls_cert and tls_key go together"):
        aadd.Client("localhost:1", tls_cert=tmp_path / "c.pem")
    with pytest.raises(ValueError, match="tls=False"):
        aadd.Client("localhost:1", tls=False, tls_ca=tmp_path / "ca.pem")

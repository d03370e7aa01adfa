"""Bearer tokens (issue 14): the client's token= and AADD_TOKEN against a
real aadd started with --auth_tokens."""

import os

import numpy as np
import pytest

import aadd
from conftest import AaddProcess

TOKEN_A = "python-token-of-acme-0123456789"
TOKEN_B = "python-token-of-globex-0123456789"


@pytest.fixture(scope="module")
def secured(aadd_binary, tmp_path_factory):
    path = tmp_path_factory.mktemp("tokens") / "tokens"
    path.write_text(f"{TOKEN_A} acme\n{TOKEN_B} globex\n")
    os.chmod(path, 0o600)
    process = AaddProcess(aadd_binary, f"--auth_tokens={path}")
    yield process
    assert process.stop() == 0, "\n".join(process.log[-20:])


def test_the_token_picks_the_tenant(secured, monkeypatch):
    monkeypatch.delenv("AADD_TOKEN", raising=False)
    with aadd.Client(secured.target, token=TOKEN_A, max_attempts=1) as a, \
            aadd.Client(secured.target, token=TOKEN_B, max_attempts=1) as b:
        s = a.create_session(session_id="py-acme", pretrain_epochs=2, hidden_units=8)
        s.ingest(np.arange(30, dtype=np.float32).reshape(10, 3))
        assert [x.session_id for x in a.sessions()] == ["py-acme"]
        assert b.sessions() == []
        with pytest.raises(aadd.NotFoundError) as held:
            b.session("py-acme")
        with pytest.raises(aadd.NotFoundError) as unknown:
            b.session("py-nobody")
        assert str(held.value).replace("py-acme", "ID") == \
            str(unknown.value).replace("py-nobody", "ID")


def test_no_or_a_wrong_token_is_unauthenticated(secured, monkeypatch):
    monkeypatch.delenv("AADD_TOKEN", raising=False)
    for token in (None, "wrong-token-0123456789abcdef"):
        with aadd.Client(secured.target, token=token, max_attempts=1) as c:
            with pytest.raises(aadd.UnauthenticatedError) as refused:
                c.sessions()
            assert "wrong-token" not in str(refused.value)
            assert c.health() == "SERVING"  # probes need no token


def test_aadd_token_in_the_environment(secured, monkeypatch):
    monkeypatch.setenv("AADD_TOKEN", TOKEN_B)
    with aadd.Client(secured.target, max_attempts=1) as b:
        b.create_session(session_id="py-globex", pretrain_epochs=2, hidden_units=8)
        assert [x.session_id for x in b.sessions()] == ["py-globex"]
    # An explicit token wins over the environment.
    with aadd.Client(secured.target, token=TOKEN_A, max_attempts=1) as a:
        assert "py-globex" not in [x.session_id for x in a.sessions()]


def test_reflection_answers_without_a_token(secured):
    # grpc.reflection.v1alpha by hand (Debian has no grpcio-reflection): a
    # ServerReflectionRequest with list_services = "*" (field 7).
    import grpc
    with grpc.insecure_channel(secured.target) as channel:
        info = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        replies = list(info(iter([b"\x3a\x01*"]), timeout=30))
    assert len(replies) == 1
    assert b"aad.v1.ActiveAnomalyDetection" in replies[0]

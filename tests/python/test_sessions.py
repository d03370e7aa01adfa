"""Sessions: create with settings, find, list, delete; the package itself."""

from pathlib import Path

import pytest

import aadd


def test_package_comes_from_the_build_tree():
    # The generated stubs are laid out by the build, never checked in.
    here = Path(aadd.__file__).resolve().parent
    assert (here / "_proto" / "aad_pb2.py").exists()
    assert not (Path(__file__).resolve().parents[2] / "client" / "python" / "aadd" /
                "_proto").exists()
    for name in aadd.__all__:
        assert hasattr(aadd, name), name


def test_health(client):
    assert client.health() == "SERVING"


def test_create_find_list_delete(client):
    s = client.create_session(detector="deep_svdd", strategy="diverse", seed=7,
                              pretrain_epochs=3, hidden_units=16, leaf_inputs=False,
                              feature_names=["a", "b"])
    st = s.status()
    assert st.config.detector == "deep_svdd" and st.config.strategy == "diverse"
    assert st.config.seed == 7 and st.config.pretrain_epochs == 3
    assert st.config.hidden_units == 16 and st.config.leaf_inputs is False
    assert st.feature_names == ["a", "b"] and st.feature_count == 2
    assert st.model_version == 0 and st.rows == 0
    assert client.session(s.id) == s
    assert s.id in [x.session_id for x in client.sessions()]
    named = client.create_session(session_id="py-named", config=aadd.SessionConfig(seed=3))
    assert named.id == "py-named" and named.status().config.seed == 3
    s.delete()
    named.delete()
    with pytest.raises(aadd.NotFoundError):
        s.status()
    with pytest.raises(aadd.NotFoundError):
        s.delete()
    assert s.id not in [x.session_id for x in client.sessions()]


def test_many_sessions_are_listed_across_pages(client):
    made = [client.create_session(seed=i) for i in range(105)]  # pages hold 100
    listed = {x.session_id for x in client.sessions()}
    assert {s.id for s in made} <= listed
    for s in made:
        s.delete()

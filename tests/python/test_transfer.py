"""Export and import: a session moved through a file scores, proposes and
learns as the original does; the files are the ones aadctl reads and
writes; damaged files are refused before any upload."""

import pandas as pd
import pytest

import aadd


def _same(a: aadd.SessionStatus, b: aadd.SessionStatus):
    for field in ("rows", "labels", "anomalies", "model_version", "feature_count",
                  "feature_names", "config", "label_rounds"):
        assert getattr(a, field) == getattr(b, field), field


def test_export_import_round_trip(client, yeast, tmp_path, run_aadctl):
    features = yeast.drop(columns=["label"])
    s = client.create_session(seed=1)
    s.ingest(features)
    s.train(progress=False)
    s.label({696: True, 802: True, 519: False}, wait=True)
    path = tmp_path / "yeast.aads"
    size = s.export(path)
    assert size == path.stat().st_size
    assert s.export_bytes() == path.read_bytes()  # same state, same bytes
    assert not [p for p in tmp_path.iterdir() if p.name != "yeast.aads"]  # no temporary left

    copy = client.import_session(path, session_id="py-imported")
    assert copy.id == "py-imported"
    _same(s.status(), copy.status())
    pd.testing.assert_frame_equal(s.candidates(k=10), copy.candidates(k=10), check_exact=True,
                                  check_like=False)
    sample = features.sample(50, random_state=0)
    pd.testing.assert_frame_equal(s.score(sample), copy.score(sample), check_exact=True)
    # Both learn alike from the next verdict.
    for session in (s, copy):
        session.label({215: True}, wait=True)
    pd.testing.assert_frame_equal(s.candidates(k=10), copy.candidates(k=10), check_exact=True)

    with pytest.raises(aadd.AlreadyExistsError) as e:
        client.import_session(path, session_id="py-imported")
    assert e.value.message.startswith(f"import of {path}: ")

    # Without an id the archive's own id is used (and sent as x-session-id).
    s.delete()
    restored = client.import_session(path)
    assert restored.id == s.id
    restored.delete()
    copy.delete()


def test_files_are_the_ones_aadctl_reads_and_writes(client, yeast, tmp_path, run_aadctl):
    s = client.create_session(seed=2)
    s.ingest(yeast.drop(columns=["label"]))
    s.train(progress=False)
    ours = tmp_path / "python.aads"
    s.export(ours)
    out = run_aadctl("import", str(ours), "--session=py-by-aadctl").stdout
    assert "imported" in out and "py-by-aadctl" in out
    theirs = tmp_path / "aadctl.aads"
    run_aadctl("export", s.id, str(theirs))
    from_aadctl = client.import_session(theirs, session_id="py-from-aadctl")
    pd.testing.assert_frame_equal(s.candidates(k=5), from_aadctl.candidates(k=5),
                                  check_exact=True)
    for x in (s, from_aadctl, client.session("py-by-aadctl")):
        x.delete()


def test_damaged_archives_are_refused_before_upload(client, yeast, tmp_path):
    s = client.create_session(seed=1)
    s.ingest(yeast.drop(columns=["label"]).head(100))
    data = s.export_bytes()
    s.delete()
    before = {x.session_id for x in client.sessions()}

    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    bad = tmp_path / "flipped.aads"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(aadd.DataLossError) as e:
        client.import_session(bad)
    assert str(bad) in e.value.message and "checksum mismatch" in e.value.message

    short = tmp_path / "short.aads"
    short.write_bytes(data[:-100])
    with pytest.raises(aadd.DataLossError, match="truncated"):
        client.import_session(short)
    with pytest.raises(aadd.DataLossError, match="missing the 'AADDSESS' header"):
        client.import_session(b"not an archive at all, not at all")
    newer = bytearray(data)
    newer[8] = 99  # format version 99
    with pytest.raises(aadd.FailedPreconditionError, match="format version 99"):
        client.import_session(bytes(newer))
    assert {x.session_id for x in client.sessions()} == before

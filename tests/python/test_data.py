"""DataFrames in and out: column names become the session's feature names
(status, candidates, explanations), scores come back one per input row, and
bad input is caught before the wire with a message naming the column."""

import numpy as np
import pandas as pd
import pytest

import aadd
from aadd._proto import aad_pb2


@pytest.fixture
def features(yeast):
    return yeast.drop(columns=["label"])


@pytest.fixture
def named(client, features):
    s = client.create_session(seed=1)
    s.ingest(features)
    s.train(progress=False)
    yield s
    s.delete()


def test_names_show_in_status_and_candidates(named, features):
    names = list(features.columns)
    status = named.status()
    assert status.feature_names == names
    assert status.feature_count == 8 and status.rows == len(features)
    assert status.model_version == 1 and status.training_state == "idle"
    assert status.config.seed == 1 and status.config.detector == "autoencoder"
    c = named.candidates(k=5)
    assert list(c.columns) == ["p", "s", *names, "explanation"]
    assert c.index.name == "row_id"
    for e in c["explanation"]:
        assert isinstance(e, aadd.Explanation)
        assert all(t.name in names for t in e.top) and len(e.top) == 5
        assert list(e.to_frame().index) == [t.name for t in e.top]
    assert list(named.candidates(k=2, explain_top=0).columns) == ["p", "s", *names]


def test_unnamed_rows_get_positional_columns(client, features):
    s = client.create_session(seed=1)
    s.ingest(features.to_numpy())
    s.train(progress=False)
    assert s.status().feature_names == []
    c = s.candidates(k=3, explain_top=0)
    assert list(c.columns) == ["p", "s", *[f"f{j}" for j in range(8)]]
    s.delete()


def test_score_one_row_per_input_row(named, features):
    sample = features.iloc[[5, 17, 300]]
    scores = named.score(sample)
    assert list(scores.index) == [5, 17, 300]
    assert list(scores.columns) == ["p", "s", "logit"]
    assert scores.attrs["model_version"] == 1
    # Inline rows score as the same rows of the pool do.
    pool = named.score(row_ids=[5, 17, 300])
    np.testing.assert_array_equal(scores.to_numpy(), pool.to_numpy())
    # A frame with the session's columns in another order is put in order.
    shuffled = sample[list(reversed(features.columns))]
    np.testing.assert_array_equal(named.score(shuffled).to_numpy(), scores.to_numpy())
    # A plain array, and one row as a Series.
    np.testing.assert_array_equal(named.score(sample.to_numpy())["p"].to_numpy(),
                                  scores["p"].to_numpy())
    assert named.score(sample.iloc[0])["p"].iloc[0] == scores["p"].iloc[0]
    explained = named.score(sample, explain=True, explain_top=3)
    assert all(len(e.top) == 3 for e in explained["explanation"])
    # Batches: the same answers in pieces of one row.
    np.testing.assert_array_equal(named.score(sample, batch_rows=1).to_numpy(), scores.to_numpy())


def test_score_with_other_columns_names_them(named, features):
    wrong = features.rename(columns={"V3": "W3"}).head(2)
    with pytest.raises(aadd.InvalidArgumentError) as e:
        named.score(wrong)
    assert "missing ['V3']" in e.value.message and "unexpected ['W3']" in e.value.message


def test_labels_in_every_form(named):
    assert named.label({696: True, 802: False}).labels == 2
    assert named.label(pd.Series([True, False], index=[215, 82])).labels == 4
    assert named.label([(519, "anomaly"), (1, "nominal")]).labels == 6
    assert named.label([2, 3], [True, False]).labels == 8
    assert named.label(np.array([4, 5]), False, wait=True).labels == 10
    r = named.withdraw([4, 5], wait=True)
    assert r.labels == 8 and r.update_scheduled
    assert named.status().anomalies == 4  # 696, 215, 519 and 2
    with pytest.raises(aadd.InvalidArgumentError, match="maybe"):
        named.label({7: "maybe"})
    with pytest.raises(aadd.InvalidArgumentError, match="2 row ids but 1 verdicts"):
        named.label([7, 8], [True])


def test_ingest_reports_row_ids_and_retries_are_counted_once(client, features):
    s = client.create_session(seed=1)
    first = s.ingest(features, batch_rows=500, batch_prefix="load-1")
    assert first.row_ids == range(0, len(features)) and first.total_rows == len(features)
    # The same batch ids again (what a retried stream sends): stored once.
    again = s.ingest(features, batch_rows=500, batch_prefix="load-1")
    assert again.duplicate_batches == 3 and again.total_rows == len(features)
    more = s.ingest(features.head(10))
    assert more.row_ids == range(len(features), len(features) + 10)
    s.delete()


class _NoWire:
    """A session whose client must never be called: the checks below run
    before anything is sent."""

    @staticmethod
    def make():
        c = aadd.Client("127.0.0.1:1", max_attempts=1)
        return aadd.Session(c, aad_pb2.SessionInfo(session_id="never-sent",
                                                   feature_names=["a", "b", "c"]))


@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_values_name_the_column(value, word):
    s = _NoWire.make()
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, value, 3.0], "c": [0.0, 0.0, 0.0]},
                      index=["x", "y", "z"])
    with pytest.raises(aadd.InvalidArgumentError) as e:
        s.ingest(df)
    assert f"column 'b' holds {word} at row 'y'" in e.value.message
    with pytest.raises(aadd.InvalidArgumentError, match="column 'b'"):
        s.score(df)
    with pytest.raises(aadd.InvalidArgumentError, match=f"column 1 holds {word} at row 1"):
        s.ingest(df.to_numpy())


def test_non_numeric_column_is_named():
    s = _NoWire.make()
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "label": ["nominal", "anomaly"]})
    with pytest.raises(aadd.InvalidArgumentError) as e:
        s.ingest(df)
    assert "column 'label' is not numeric" in e.value.message
    assert "'nominal'" in e.value.message
    with pytest.raises(aadd.InvalidArgumentError, match="column 2 is not numeric: 'x' at row 0"):
        s.ingest(np.array([[1, 2, "x"]], dtype=object))


def test_nullable_and_boolean_columns():
    s = _NoWire.make()
    na = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": [1.0, 2.0, 3.0],
                       "c": [True, False, True]})
    with pytest.raises(aadd.InvalidArgumentError, match="column 'a' holds NaN at row 1"):
        s.ingest(na)
    rows = aadd._data.as_rows(na.fillna(0), "ingest")
    assert rows.values.dtype == np.float32 and rows.values.tolist() == [[1, 1, 1], [0, 2, 0],
                                                                        [3, 3, 1]]


def test_ragged_rows_are_refused():
    s = _NoWire.make()
    with pytest.raises(aadd.InvalidArgumentError, match="ragged rows: row 1 has 2 values, row 0 "
                                                         "has 3"):
        s.ingest([[1, 2, 3], [4, 5], [6, 7, 8]])
    with pytest.raises(aadd.InvalidArgumentError, match="ragged"):
        s.score(np.array([[1.0, 2.0, 3.0], [4.0]], dtype=object))


def test_other_shapes_and_names_are_refused():
    s = _NoWire.make()
    with pytest.raises(aadd.InvalidArgumentError, match="no rows"):
        s.ingest(np.zeros((0, 3)))
    with pytest.raises(aadd.InvalidArgumentError, match="3 dimensions"):
        s.ingest(np.zeros((2, 3, 4)))
    with pytest.raises(aadd.InvalidArgumentError, match="out of range for float32"):
        s.ingest(pd.DataFrame({"a": [1e39], "b": [0.0], "c": [0.0]}))
    dup = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(aadd.InvalidArgumentError, match="'a' appears twice"):
        s.ingest(dup)
    with pytest.raises(aadd.InvalidArgumentError, match="not both"):
        s.score(np.zeros((1, 3)), row_ids=[1])
    with pytest.raises(aadd.InvalidArgumentError, match="missing \\['c'\\]"):
        s.ingest(pd.DataFrame({"a": [1.0], "b": [2.0]}))

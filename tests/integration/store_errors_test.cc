// A failing store (a full disk, a failing device) fails the writing call
// with the store's status and leaves the session as it was; reads keep
// working. The store here is the in-memory one behind a switch that makes
// every write fail, so each write path is hit deterministically.
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "server/storage/memory_session_store.h"
#include "tests/testing/failing_store.h"
#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

class StoreErrorsTest : public ServerFixture {
 protected:
  void Configure(aad::ServerOptions* options) override {
    options->sessions.store = &failing_;
  }
  // Declared in the fixture's subclass, so it outlives nothing it must:
  // TearDown stops the server before members are destroyed.
  FailingStore failing_;
};

std::vector<float> Rows(int64_t rows, int64_t cols) {
  std::vector<float> v(rows * cols);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % 101) / 10.0f;
  return v;
}

TEST_F(StoreErrorsTest, FailedWritesChangeNothingAndReadsKeepWorking) {
  const std::string id = NewSession(2);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(client_->Ingest(id, Rows(100, 4), 4, "a").ok());
  ASSERT_TRUE(client_->Train(id).ok());
  auto before = client_->GetSession(id);
  ASSERT_TRUE(before.ok()) << before.status();

  failing_.fail = true;
  aad::v1::IngestRequest batch;
  batch.set_session_id(id);
  batch.set_batch_id("b");
  batch.set_feature_count(4);
  const std::vector<float> rows = Rows(10, 4);
  batch.mutable_values()->Assign(rows.begin(), rows.end());
  auto ingested = client_->IngestMessages(id, {batch});
  EXPECT_EQ(ingested.status().code(), absl::StatusCode::kResourceExhausted) << ingested.status();
  EXPECT_NE(ingested.status().message().find("disk full"), absl::string_view::npos);
  auto labelled = client_->SubmitLabels(id, {{0, true}}, false);
  EXPECT_EQ(labelled.status().code(), absl::StatusCode::kResourceExhausted) << labelled.status();
  auto trained = client_->Train(id);
  EXPECT_EQ(trained.status().code(), absl::StatusCode::kResourceExhausted) << trained.status();
  aad::v1::CreateSessionRequest create;
  create.set_session_id("never");
  EXPECT_EQ(client_->CreateSession(create).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client_->DeleteSession(id).code(), absl::StatusCode::kUnavailable);

  // Nothing changed, and reads answer.
  auto after = client_->GetSession(id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->rows(), before->rows());
  EXPECT_EQ(after->labels(), 0);
  EXPECT_EQ(after->model_version(), before->model_version());
  EXPECT_NE(after->last_training_error().find("disk full"), std::string::npos);
  EXPECT_EQ(client_->GetSession("never").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(client_->ScorePoolRows(id, {0, 99}).ok());
  EXPECT_TRUE(client_->GetQueryCandidates(id, 5).ok());

  // Once the store recovers, the same calls succeed: the failed batch id
  // was not taken, the failed model version not used up.
  failing_.fail = false;
  ingested = client_->IngestMessages(id, {batch});
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  EXPECT_FALSE(ingested->batches(0).duplicate());
  EXPECT_EQ(ingested->batches(0).first_row_id(), 100);
  labelled = client_->SubmitLabels(id, {{0, true}}, true);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ(labelled->model_version(), before->model_version() + 1);
  EXPECT_TRUE(client_->DeleteSession(id).ok());
}

// The in-process server on the SQLite store: every acknowledged write is in
// the store when the call returns, and a deletion removes the session's data.
class SqliteStoreTest : public ServerFixture {
 protected:
  SqliteStoreTest() { durable_store_ = true; }
};

TEST_F(SqliteStoreTest, AcknowledgedWritesAreInTheStore) {
  const std::string id = NewSession(2);
  ASSERT_FALSE(id.empty());
  auto ingested = client_->Ingest(id, Rows(120, 3), 3, "x");
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  ASSERT_TRUE(client_->Train(id).ok());
  auto labelled = client_->SubmitLabels(id, {{5, true}, {7, false}}, true);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  ASSERT_TRUE(client_->SubmitLabels(id, {{5, false}}, false).ok());

  auto record = store_->LoadSession(id);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->row_count(), 120);
  ASSERT_EQ(record->batches.size(), 1u);
  EXPECT_EQ(record->batches[0].batch_id, "x-0");
  ASSERT_EQ(record->labels.size(), 2u);
  EXPECT_EQ(record->labels[0].row_id, 5);
  EXPECT_FALSE(record->labels[0].anomaly);
  EXPECT_EQ(record->label_history.size(), 3u);
  ASSERT_TRUE(record->model.has_value());
  EXPECT_GE(record->model->version, 2);
  EXPECT_EQ(record->options.config.pretrain_epochs, 2);

  ASSERT_TRUE(client_->DeleteSession(id).ok());
  EXPECT_EQ(store_->LoadSession(id).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace aad::testing

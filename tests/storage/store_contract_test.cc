// The SessionStore contract, run against every implementation: what the
// service relies on must hold for the in-memory store exactly as for SQLite
// and for PostgreSQL (a real server, tests/testing/postgres_server.h).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/storage/memory_session_store.h"
#include "server/storage/postgres_session_store.h"
#include "server/storage/sqlite_session_store.h"
#include "tests/format/record_test_util.h"
#include "tests/testing/postgres_server.h"

namespace aad {
namespace {

using ::aad::testing::ExpectBatchesEqual;
using ::aad::testing::ExpectOptionsEqual;
using ::aad::testing::MakeBatch;
using ::aad::testing::OddOptions;
using ::aad::testing::PostgresServer;
using ::aad::testing::SameLabels;
using ::aad::testing::TempDir;

// Reopen(dir, store) is the store a restart gives: the same object for the
// memory store (its contents are the process's), a fresh open of the file
// for SQLite.
struct MemoryKind {
  static std::unique_ptr<SessionStore> Make(const std::string&) {
    return std::make_unique<MemorySessionStore>();
  }
  static std::unique_ptr<SessionStore> Reopen(const std::string&,
                                              std::unique_ptr<SessionStore> store) {
    return store;
  }
};
struct SqliteKind {
  static std::unique_ptr<SessionStore> Make(const std::string& dir) {
    auto store = SqliteSessionStore::Open(dir);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static std::unique_ptr<SessionStore> Reopen(const std::string& dir,
                                              std::unique_ptr<SessionStore> store) {
    store.reset();  // releases the directory lock
    return Make(dir);
  }
};

// One PostgreSQL server for the whole binary (started on first use,
// stopped at exit), a database of its own for each test, named after the
// test's directory so that Reopen finds it again.
struct PostgresKind {
  static PostgresServer* Server() {
    static auto* server = new absl::StatusOr<std::unique_ptr<PostgresServer>>(
        PostgresServer::Start());
    static struct Stopper {
      ~Stopper() {
        if (server->ok()) server->value().reset();
      }
    } stopper;
    EXPECT_TRUE(server->ok()) << server->status();
    return server->ok() ? server->value().get() : nullptr;
  }
  static std::string Database(const std::string& dir) {
    std::string name = "t_" + std::filesystem::path(dir).filename().string();
    for (char& c : name) c = c == '-' ? '_' : c;
    return name;
  }
  static std::unique_ptr<SessionStore> Open(const std::string& dir) {
    PostgresServer* server = Server();
    if (server == nullptr) return nullptr;
    auto store = PostgresSessionStore::Open(server->Uri(Database(dir)));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static std::unique_ptr<SessionStore> Make(const std::string& dir) {
    PostgresServer* server = Server();
    if (server == nullptr) return nullptr;
    const absl::Status created = server->CreateDatabase(Database(dir));
    EXPECT_TRUE(created.ok()) << created;
    return created.ok() ? Open(dir) : nullptr;
  }
  static std::unique_ptr<SessionStore> Reopen(const std::string& dir,
                                              std::unique_ptr<SessionStore> store) {
    store.reset();
    return Open(dir);
  }
};

template <typename Kind>
class StoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Kind::Make(dir_.path());
    ASSERT_NE(store_, nullptr);
  }
  TempDir dir_;
  std::unique_ptr<SessionStore> store_;
};

using StoreKinds = ::testing::Types<MemoryKind, SqliteKind, PostgresKind>;
TYPED_TEST_SUITE(StoreContractTest, StoreKinds);

TYPED_TEST(StoreContractTest, RoundTripsEveryRecord) {
  SessionStore& store = *this->store_;
  const SessionOptions options = OddOptions();
  ASSERT_TRUE(store.CreateSession("s1", options, 1234, "").ok());
  std::vector<BatchRecord> batches = {MakeBatch("b0", 0, 3, 4, 1), MakeBatch("b1", 3, 5, 4, 2)};
  for (const BatchRecord& b : batches) {
    auto result = store.AppendBatch("s1", b);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_FALSE(result->duplicate);
    EXPECT_EQ(result->first_row_id, b.first_row_id);
    EXPECT_EQ(result->row_count, b.row_count);
  }
  std::vector<LabelRecord> labels = {{5, true, 100}, {1, false, 101}};
  ASSERT_TRUE(store.PutLabels("s1", labels).ok());
  ModelRecord model{3, 7, 999, std::string("model\0bytes", 11)};
  ASSERT_TRUE(store.PutModel("s1", model, 0).ok());

  auto loaded = store.LoadSession("s1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->id, "s1");
  EXPECT_EQ(loaded->created_micros, 1234);
  ExpectOptionsEqual(loaded->options, options);
  ExpectBatchesEqual(loaded->batches, batches);
  EXPECT_TRUE(SameLabels(loaded->labels, labels));
  EXPECT_TRUE(SameLabels(loaded->label_history, labels));
  ASSERT_TRUE(loaded->model.has_value());
  EXPECT_EQ(loaded->model->version, 3);
  EXPECT_EQ(loaded->model->labels_revision, 7);
  EXPECT_EQ(loaded->model->created_micros, 999);
  EXPECT_EQ(loaded->model->bytes, model.bytes);
  EXPECT_TRUE(loaded->interrupted_training.empty());
  EXPECT_EQ(loaded->row_count(), 8);

  auto list = store.ListSessions();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, "s1");
  EXPECT_EQ((*list)[0].row_count, 8);
  EXPECT_EQ((*list)[0].model_version, 3);
  EXPECT_EQ((*list)[0].created_micros, 1234);
}

TYPED_TEST(StoreContractTest, BatchIdsAreIdempotent) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(store.AppendBatch("s", MakeBatch("a", 0, 4, 2, 1)).ok());
  ASSERT_TRUE(store.AppendBatch("s", MakeBatch("b", 4, 2, 2, 2)).ok());
  // A retry of "a" (the client never saw the answer) repeats its ids and
  // stores nothing, even when the caller proposes another first row.
  auto retry = store.AppendBatch("s", MakeBatch("a", 6, 4, 2, 1));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->first_row_id, 0);
  EXPECT_EQ(retry->row_count, 4);
  // The same id with other sizes is a client bug, not a retry.
  auto clash = store.AppendBatch("s", MakeBatch("a", 6, 5, 2, 1));
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists) << clash.status();
  EXPECT_NE(clash.status().message().find("'a'"), std::string::npos) << clash.status();
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->batches.size(), 2u);
  EXPECT_EQ(loaded->row_count(), 6);
}

// Small batches (1-6 rows, as a client sending rows as they come does):
// every batch comes back with its id, rows and values, in order, after a
// reopen and through PutSession, and every one of them answers a retry
// with its own first row id.
TYPED_TEST(StoreContractTest, ManySmallBatchesRoundTripAndAnswerRetries) {
  ASSERT_TRUE(this->store_->CreateSession("s", SessionOptions{}, 0, "").ok());
  std::vector<BatchRecord> batches;
  int64_t row = 0;
  for (int n = 0; n < 300; ++n) {
    batches.push_back(MakeBatch(absl::StrCat("0123456789abcdef-", n), row, 1 + n % 6, 3, n));
    auto result = this->store_->AppendBatch("s", batches.back());
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->first_row_id, row);
    EXPECT_FALSE(result->duplicate);
    row += batches.back().row_count;
  }
  this->store_ = TypeParam::Reopen(this->dir_.path(), std::move(this->store_));
  SessionStore& store = *this->store_;
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectBatchesEqual(loaded->batches, batches);
  EXPECT_EQ(loaded->row_count(), row);
  for (int n = 0; n < 300; n += 7) {
    BatchRecord retry = batches[static_cast<size_t>(n)];
    retry.first_row_id = row;  // where the caller would put it now
    auto again = store.AppendBatch("s", retry);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->first_row_id, batches[static_cast<size_t>(n)].first_row_id);
    EXPECT_EQ(again->row_count, batches[static_cast<size_t>(n)].row_count);
    BatchRecord wider = MakeBatch(retry.batch_id, row, retry.row_count, 4, 0);
    EXPECT_EQ(store.AppendBatch("s", wider).status().code(), absl::StatusCode::kAlreadyExists);
  }
  SessionRecord copy = *loaded;
  copy.id = "copy";
  ASSERT_TRUE(store.PutSession(copy).ok());
  auto copied = store.LoadSession("copy");
  ASSERT_TRUE(copied.ok()) << copied.status();
  ExpectBatchesEqual(copied->batches, batches);
  auto retried = store.AppendBatch("copy", MakeBatch("0123456789abcdef-299", row, 6, 3, 299));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->duplicate);
  EXPECT_EQ(retried->first_row_id, batches.back().first_row_id);
  auto next = store.AppendBatch("copy", MakeBatch("new", row, 2, 3, 1));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(next->duplicate);
  EXPECT_EQ(next->first_row_id, row);
  EXPECT_EQ(store.LoadSession("copy")->row_count(), row + 2);
  EXPECT_EQ(store.LoadSession("s")->row_count(), row);
}

TYPED_TEST(StoreContractTest, RejectsBatchesOutOfOrderOrMalformed) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  auto gap = store.AppendBatch("s", MakeBatch("a", 5, 4, 2, 1));
  EXPECT_EQ(gap.status().code(), absl::StatusCode::kFailedPrecondition) << gap.status();
  EXPECT_NE(gap.status().message().find("starts at row 5"), std::string::npos) << gap.status();
  BatchRecord short_values = MakeBatch("a", 0, 4, 2, 1);
  short_values.values.pop_back();
  EXPECT_EQ(store.AppendBatch("s", short_values).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.AppendBatch("s", MakeBatch("", 0, 1, 2, 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store.AppendBatch("s", MakeBatch("a", 0, 4, 2, 1)).ok());
  auto width = store.AppendBatch("s", MakeBatch("b", 4, 4, 3, 1));
  EXPECT_EQ(width.status().code(), absl::StatusCode::kInvalidArgument) << width.status();
  EXPECT_EQ(store.AppendBatch("nope", MakeBatch("c", 0, 1, 2, 1)).status().code(),
            absl::StatusCode::kNotFound);
  // A width fixed at creation binds the first batch too.
  SessionOptions fixed;
  fixed.feature_count = 4;
  ASSERT_TRUE(store.CreateSession("fixed", fixed, 0, "").ok());
  auto narrow = store.AppendBatch("fixed", MakeBatch("a", 0, 2, 3, 1));
  EXPECT_EQ(narrow.status().code(), absl::StatusCode::kInvalidArgument) << narrow.status();
  EXPECT_TRUE(store.AppendBatch("fixed", MakeBatch("a", 0, 2, 4, 1)).ok());
}

TYPED_TEST(StoreContractTest, RelabelKeepsFirstOrderAndHistory) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(store.AppendBatch("s", MakeBatch("a", 0, 10, 2, 1)).ok());
  ASSERT_TRUE(store.PutLabels("s", std::vector<LabelRecord>{{7, true, 1}, {2, false, 2}}).ok());
  ASSERT_TRUE(store.PutLabels("s", std::vector<LabelRecord>{{4, true, 3}, {7, false, 4}}).ok());
  ASSERT_TRUE(store.PutLabels("s", std::vector<LabelRecord>{{2, true, 5}}).ok());
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok());
  // Current labels: rows in the order first labelled, latest verdicts.
  std::vector<LabelRecord> current = {{7, false, 4}, {2, true, 5}, {4, true, 3}};
  EXPECT_TRUE(SameLabels(loaded->labels, current));
  std::vector<LabelRecord> history = {{7, true, 1}, {2, false, 2}, {4, true, 3},
                                      {7, false, 4}, {2, true, 5}};
  EXPECT_TRUE(SameLabels(loaded->label_history, history));
}

TYPED_TEST(StoreContractTest, AWithdrawalSurvivesReopenAndARelabelAfterItJoinsAtTheEnd) {
  ASSERT_TRUE(this->store_->CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(this->store_->AppendBatch("s", MakeBatch("a", 0, 10, 2, 1)).ok());
  ASSERT_TRUE(this->store_
                  ->PutLabels("s", std::vector<LabelRecord>{{7, true, 1}, {2, false, 2},
                                                            {4, true, 3}})
                  .ok());
  ASSERT_TRUE(
      this->store_->PutLabels("s", std::vector<LabelRecord>{{7, false, 4, /*withdrawn=*/true}})
          .ok());
  auto without = this->store_->LoadSession("s");
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_TRUE(SameLabels(without->labels, {{2, false, 2}, {4, true, 3}}));
  ASSERT_TRUE(this->store_->PutLabels("s", std::vector<LabelRecord>{{7, false, 5}}).ok());
  this->store_ = TypeParam::Reopen(this->dir_.path(), std::move(this->store_));
  ASSERT_NE(this->store_, nullptr);
  auto loaded = this->store_->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(SameLabels(loaded->labels, {{2, false, 2}, {4, true, 3}, {7, false, 5}}));
  EXPECT_TRUE(SameLabels(loaded->label_history, {{7, true, 1},
                                                 {2, false, 2},
                                                 {4, true, 3},
                                                 {7, false, 4, true},
                                                 {7, false, 5}}));
  // An import carries the withdrawal too.
  SessionRecord copy = *loaded;
  copy.id = "copy";
  ASSERT_TRUE(this->store_->PutSession(copy).ok());
  auto imported = this->store_->LoadSession("copy");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_TRUE(SameLabels(imported->label_history, loaded->label_history));
  EXPECT_TRUE(SameLabels(imported->labels, loaded->labels));
}

TYPED_TEST(StoreContractTest, AWithdrawalOfARowWithoutALabelStoresNothing) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(store.AppendBatch("s", MakeBatch("a", 0, 10, 2, 1)).ok());
  ASSERT_TRUE(store.PutLabels("s", std::vector<LabelRecord>{{1, true, 1}, {3, true, 1}}).ok());
  ASSERT_TRUE(store.PutLabels("s", std::vector<LabelRecord>{{3, false, 2, true}}).ok());
  // Never labelled (row 2), withdrawn before (row 3), withdrawn twice (row 1).
  const std::vector<std::vector<LabelRecord>> refused = {
      {{1, false, 3, true}, {2, false, 3, true}},
      {{3, false, 3, true}},
      {{1, false, 3, true}, {1, false, 3, true}},
  };
  const int64_t rows[] = {2, 3, 1};
  for (size_t i = 0; i < refused.size(); ++i) {
    absl::Status status = store.PutLabels("s", refused[i]);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
    EXPECT_NE(status.message().find(absl::StrCat("row id ", rows[i])), std::string::npos)
        << status;
  }
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->label_history.size(), 3u) << "a rejected submission stored a part";
  // Labelled again, row 3 can be withdrawn again, in one submission.
  EXPECT_TRUE(
      store.PutLabels("s", std::vector<LabelRecord>{{3, true, 4}, {3, false, 4, true}}).ok());
}

TYPED_TEST(StoreContractTest, LabelsForUnknownRowsStoreNothing) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(store.AppendBatch("s", MakeBatch("a", 0, 3, 2, 1)).ok());
  absl::Status status = store.PutLabels("s", std::vector<LabelRecord>{{1, true, 1}, {3, true, 2}});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_NE(status.message().find("row 3"), std::string::npos) << status;
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->label_history.empty()) << "a rejected submission stored a part";
}

TYPED_TEST(StoreContractTest, ModelVersionsOnlyGrow) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(store.PutModel("s", ModelRecord{2, 0, 0, "two"}, 0).ok());
  absl::Status stale = store.PutModel("s", ModelRecord{2, 0, 0, "again"}, 0);
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  ASSERT_TRUE(store.PutModel("s", ModelRecord{5, 1, 0, "five"}, 0).ok());
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->model.has_value());
  EXPECT_EQ(loaded->model->version, 5);
  EXPECT_EQ(loaded->model->bytes, "five");
}

TYPED_TEST(StoreContractTest, TrainingMarkersReportUnfinishedRuns) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  auto idle = store.BeginTraining("s", TrainingState::kIdle, 5);
  EXPECT_EQ(idle.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(idle.status().message().find("'idle'"), std::string::npos) << idle.status();
  auto first = store.BeginTraining("s", TrainingState::kTraining, 10);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(store.PutModel("s", ModelRecord{1, 0, 0, "m"}, *first).ok());
  auto second = store.BeginTraining("s", TrainingState::kUpdating, 20);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->interrupted_training.size(), 1u);
  EXPECT_EQ(loaded->interrupted_training[0].run_id, *second);
  EXPECT_EQ(loaded->interrupted_training[0].kind, TrainingState::kUpdating);
  EXPECT_EQ(loaded->interrupted_training[0].started_micros, 20);
  ASSERT_TRUE(store.FinishTraining("s", *second, "interrupted by restart").ok());
  EXPECT_EQ(store.FinishTraining("s", *second, "twice").code(), absl::StatusCode::kNotFound);
  // A model naming a closed run is refused whole: the model is not stored.
  EXPECT_EQ(store.PutModel("s", ModelRecord{2, 0, 0, "m2"}, *second).code(),
            absl::StatusCode::kNotFound);
  loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->interrupted_training.empty());
  EXPECT_EQ(loaded->model->version, 1);
}

TYPED_TEST(StoreContractTest, SessionsAreIndependentAndDeletable) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("b", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(store.CreateSession("a", SessionOptions{}, 0, "").ok());
  EXPECT_EQ(store.CreateSession("a", SessionOptions{}, 0, "").code(),
            absl::StatusCode::kAlreadyExists);
  // Batch ids are per session.
  ASSERT_TRUE(store.AppendBatch("a", MakeBatch("x", 0, 2, 2, 1)).ok());
  auto other = store.AppendBatch("b", MakeBatch("x", 0, 3, 2, 2));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->duplicate);
  auto list = store.ListSessions();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "a");
  EXPECT_EQ((*list)[1].id, "b");
  ASSERT_TRUE(store.DeleteSession("a").ok());
  EXPECT_EQ(store.DeleteSession("a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.LoadSession("a").status().code(), absl::StatusCode::kNotFound);
  // The id is free again, with nothing of the old session left.
  ASSERT_TRUE(store.CreateSession("a", SessionOptions{}, 0, "").ok());
  auto fresh = store.LoadSession("a");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->batches.empty());
  auto b = store.LoadSession("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->row_count(), 3);
}

// The owner survives a restart, in the list and in the record; an
// imported record keeps the tenant it was put with.
TYPED_TEST(StoreContractTest, StoresEachSessionsTenant) {
  ASSERT_TRUE(this->store_->CreateSession("a", SessionOptions{}, 0, "acme").ok());
  ASSERT_TRUE(this->store_->CreateSession("b", SessionOptions{}, 0, "").ok());
  SessionRecord imported;
  imported.id = "c";
  imported.tenant = "globex";
  ASSERT_TRUE(this->store_->PutSession(imported).ok());
  this->store_ = TypeParam::Reopen(this->dir_.path(), std::move(this->store_));
  ASSERT_NE(this->store_, nullptr);
  auto list = this->store_->ListSessions();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].tenant, "acme");
  EXPECT_EQ((*list)[1].tenant, "");
  EXPECT_EQ((*list)[2].tenant, "globex");
  EXPECT_EQ(this->store_->LoadSession("a")->tenant, "acme");
  EXPECT_EQ(this->store_->LoadSession("b")->tenant, "");
  EXPECT_EQ(this->store_->LoadSession("c")->tenant, "globex");
}

TYPED_TEST(StoreContractTest, PutSessionStoresAWholeRecord) {
  SessionStore& store = *this->store_;
  SessionRecord record;
  record.id = "imported";
  record.created_micros = 5;
  record.options = OddOptions();
  record.batches = {MakeBatch("p", 0, 2, 4, 1), MakeBatch("q", 2, 3, 4, 2)};
  record.label_history = {{0, true, 1}, {4, false, 2}, {0, false, 3}};
  record.labels = CurrentLabels(record.label_history);
  record.model = ModelRecord{4, 2, 3, "bytes"};
  ASSERT_TRUE(store.PutSession(record).ok());
  EXPECT_EQ(store.PutSession(record).code(), absl::StatusCode::kAlreadyExists);
  auto loaded = store.LoadSession("imported");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectOptionsEqual(loaded->options, record.options);
  ExpectBatchesEqual(loaded->batches, record.batches);
  EXPECT_TRUE(SameLabels(loaded->label_history, record.label_history));
  EXPECT_TRUE(SameLabels(loaded->labels, record.labels));
  EXPECT_EQ(loaded->model->bytes, "bytes");
  // Later writes continue where the record ends.
  EXPECT_TRUE(store.AppendBatch("imported", MakeBatch("r", 5, 1, 4, 3)).ok());
  ASSERT_TRUE(store.PutLabels("imported", std::vector<LabelRecord>{{5, true, 9}}).ok());
  loaded = store.LoadSession("imported");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->label_history.size(), 4u);

  // An inconsistent record stores nothing.
  SessionRecord bad = record;
  bad.id = "bad";
  bad.batches[1].first_row_id = 7;
  absl::Status status = store.PutSession(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(store.LoadSession("bad").status().code(), absl::StatusCode::kNotFound);
}

TYPED_TEST(StoreContractTest, FeatureNamesAreSetOnceAndSurviveReopen) {
  // A session created without names takes them from its first ingest (a
  // CSV header); they are kept in the options, across a restart.
  ASSERT_TRUE(this->store_->CreateSession("s", SessionOptions{}, 0, "").ok());
  const std::vector<std::string> names = {"mcg", "gvh", "alm"};
  absl::Status set = this->store_->SetFeatureNames("s", names);
  ASSERT_TRUE(set.ok()) << set;
  // A retried stream sends the same names: nothing to change.
  set = this->store_->SetFeatureNames("s", names);
  EXPECT_TRUE(set.ok()) << set;
  // Other names are refused, naming the first that differs.
  set = this->store_->SetFeatureNames("s", {"mcg", "x", "alm"});
  EXPECT_EQ(set.code(), absl::StatusCode::kFailedPrecondition) << set;
  EXPECT_NE(set.message().find("feature name 1 is 'x' now but 'gvh' as stored"),
            std::string::npos)
      << set;
  // The names fixed the width: a batch of another width is refused.
  EXPECT_EQ(this->store_->AppendBatch("s", MakeBatch("w", 0, 2, 4, 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(this->store_->AppendBatch("s", MakeBatch("b", 0, 2, 3, 1)).ok());

  // A restart: a fresh open of the file for SQLite, of the database for
  // PostgreSQL; the memory store's contents are the process's.
  this->store_ = TypeParam::Reopen(this->dir_.path(), std::move(this->store_));
  ASSERT_NE(this->store_, nullptr);
  auto loaded = this->store_->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->options.feature_names, names);
  EXPECT_EQ(loaded->options.feature_count, 3);
  EXPECT_EQ(loaded->row_count(), 2);
}

TYPED_TEST(StoreContractTest, FeatureNamesMustFitTheStoredRows) {
  SessionStore& store = *this->store_;
  ASSERT_TRUE(store.CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE(store.AppendBatch("s", MakeBatch("b", 0, 2, 3, 1)).ok());
  // Rows came first (ingested without a header): names must match their width.
  absl::Status set = store.SetFeatureNames("s", {"a", "b"});
  EXPECT_EQ(set.code(), absl::StatusCode::kInvalidArgument) << set;
  EXPECT_NE(set.message().find("2 feature names for 3 features"), std::string::npos) << set;
  set = store.SetFeatureNames("s", {"a", "b", "a"});
  EXPECT_EQ(set.code(), absl::StatusCode::kInvalidArgument) << set;
  EXPECT_EQ(store.SetFeatureNames("s", {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.SetFeatureNames("nope", {"a", "b", "c"}).code(), absl::StatusCode::kNotFound);
  // Nothing of that was stored.
  auto loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->options.feature_names.empty());
  ASSERT_TRUE(store.SetFeatureNames("s", {"a", "b", "c"}).ok());
  loaded = store.LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->options.feature_names, (std::vector<std::string>{"a", "b", "c"}));
}

TYPED_TEST(StoreContractTest, NamesGivenAtCreationAreSetAlready) {
  SessionStore& store = *this->store_;
  SessionOptions options;
  options.feature_count = 2;
  options.feature_names = {"x", "y"};
  ASSERT_TRUE(store.CreateSession("s", options, 0, "").ok());
  EXPECT_TRUE(store.SetFeatureNames("s", {"x", "y"}).ok());
  EXPECT_EQ(store.SetFeatureNames("s", {"y", "x"}).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace aad

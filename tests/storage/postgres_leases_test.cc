// The PostgreSQL store as the replicas' SessionLeases (session_leases.h),
// against a real PostgreSQL 15: two stores on one database play two
// replicas. Taking a session over, being asked to hand it over, losing it
// and having every later write refused (fencing), the tenant rule, and the
// migration of a version 1 schema.
#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/postgres_session_store.h"
#include "tests/format/record_test_util.h"
#include "tests/testing/postgres_server.h"

namespace aad {
namespace {

using ::aad::testing::MakeBatch;
using ::aad::testing::PostgresServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PostgresLeasesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    // A database of its own for each test, on the suite's server.
    db_ = absl::StrCat("leases", ++databases_);
    ASSERT_TRUE(server_->CreateDatabase(db_).ok());
  }
  std::unique_ptr<PostgresSessionStore> Replica(const std::string& name,
                                                std::chrono::milliseconds lease =
                                                    std::chrono::seconds(60)) {
    PostgresStoreOptions options;
    options.replica = name;
    options.lease = lease;
    auto store = PostgresSessionStore::Open(server_->Uri(db_), options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::string Column(const std::string& expr, const std::string& id = "s") {
    auto v = server_->Query(db_, absl::StrCat("SELECT ", expr, " FROM sessions WHERE id = '",
                                              id, "'"));
    return v.ok() ? *v : v.status().ToString();
  }
  // Acquire until the lease of the other holder lapsed (a deadline, not a
  // sleep: the lease is milliseconds long).
  static absl::StatusOr<LeaseGrant> AcquireWhenLapsed(PostgresSessionStore* store,
                                                      const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      absl::StatusOr<LeaseGrant> grant = store->Acquire(id, "");
      if (!absl::IsUnavailable(grant.status()) || std::chrono::steady_clock::now() > deadline) {
        return grant;
      }
    }
  }

  static PostgresServer* server_;
  static int databases_;
  std::string db_;
};

PostgresServer* PostgresLeasesTest::server_ = nullptr;
int PostgresLeasesTest::databases_ = 0;

TEST_F(PostgresLeasesTest, TheCreatorHoldsANewSessionAndAnotherReplicaIsToldWho) {
  auto a = Replica("a");
  auto b = Replica("b");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(absl::StartsWith(a->holder(), "a#")) << a->holder();
  EXPECT_NE(a->holder(), Replica("a")->holder()) << "a holder name is one process's";
  ASSERT_TRUE(a->CreateSession("s", SessionOptions{}, 1, "").ok());
  EXPECT_EQ(Column("owner || ' ' || epoch"), absl::StrCat(a->holder(), " 1"));

  absl::StatusOr<LeaseGrant> refused = b->Acquire("s", "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr(absl::StrCat("held by replica '", a->holder())));
  EXPECT_THAT(refused.status().message(), HasSubstr("retry"));
  // The holder learns at its renewal that b asked, and still holds it.
  absl::StatusOr<LeaseRenewal> renewal = a->RenewAll();
  ASSERT_TRUE(renewal.ok()) << renewal.status();
  ASSERT_EQ(renewal->wanted.size(), 1u);
  EXPECT_EQ(renewal->wanted[0].id, "s");
  EXPECT_EQ(renewal->wanted[0].by, b->holder());
  EXPECT_THAT(renewal->lost, IsEmpty());
  EXPECT_TRUE(a->AppendBatch("s", MakeBatch("a0", 0, 2, 3, 1)).ok());
}

TEST_F(PostgresLeasesTest, AHandedOverSessionIsTheNewHoldersAndTheOldOneCannotWrite) {
  auto a = Replica("a");
  auto b = Replica("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateSession("s", SessionOptions{}, 1, "").ok());
  ASSERT_TRUE(a->AppendBatch("s", MakeBatch("a0", 0, 2, 3, 1)).ok());
  ASSERT_TRUE(a->Release("s").ok());
  EXPECT_EQ(Column("owner"), "");

  absl::StatusOr<LeaseGrant> grant = b->Acquire("s", "");
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->epoch, 2);
  EXPECT_EQ(grant->previous_holder, "");
  // a gave it up: its writes are refused, and nothing of them is stored.
  absl::StatusOr<AppendResult> late = a->AppendBatch("s", MakeBatch("a1", 2, 2, 3, 2));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable) << late.status();
  EXPECT_THAT(late.status().message(), HasSubstr(absl::StrCat("taken over by replica '",
                                                              b->holder(), "' (epoch 2")));
  EXPECT_THAT(late.status().message(), HasSubstr("nothing stored"));
  ASSERT_TRUE(b->AppendBatch("s", MakeBatch("b1", 2, 2, 3, 3)).ok());
  auto loaded = b->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->batches.size(), 2u);
  EXPECT_EQ(loaded->batches[1].batch_id, "b1");
}

TEST_F(PostgresLeasesTest, ALapsedLeaseIsTakenOverAndEveryWriteOfTheOldHolderIsFenced) {
  // a's lease lasts 1 ms: as if a stopped renewing (paused, or dead).
  auto a = Replica("a", std::chrono::milliseconds(1));
  auto b = Replica("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateSession("s", SessionOptions{}, 1, "").ok());
  ASSERT_TRUE(a->AppendBatch("s", MakeBatch("a0", 0, 2, 3, 1)).ok());
  LabelRecord label;
  label.row_id = 0;
  label.anomaly = true;
  ASSERT_TRUE(a->PutLabels("s", {label}).ok());
  absl::StatusOr<int64_t> run = a->BeginTraining("s", TrainingState::kTraining, 5);
  ASSERT_TRUE(run.ok()) << run.status();

  absl::StatusOr<LeaseGrant> grant = AcquireWhenLapsed(b.get(), "s");
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->epoch, 2);
  EXPECT_EQ(grant->previous_holder, a->holder());

  // a wakes up: every kind of write is refused.
  EXPECT_TRUE(absl::IsUnavailable(a->AppendBatch("s", MakeBatch("a1", 2, 2, 3, 2)).status()));
  EXPECT_TRUE(absl::IsUnavailable(a->PutLabels("s", {label})));
  ModelRecord model;
  model.version = 1;
  model.bytes = "model";
  EXPECT_TRUE(absl::IsUnavailable(a->PutModel("s", model, *run)));
  EXPECT_TRUE(absl::IsUnavailable(a->FinishTraining("s", *run, "done")));
  EXPECT_TRUE(absl::IsUnavailable(a->BeginTraining("s", TrainingState::kUpdating, 6).status()));
  EXPECT_TRUE(absl::IsUnavailable(a->SetFeatureNames("s", {"x", "y", "z"})));
  EXPECT_TRUE(absl::IsUnavailable(a->DeleteSession("s")));
  // ... and its renewal reports the session lost.
  absl::StatusOr<LeaseRenewal> renewal = a->RenewAll();
  ASSERT_TRUE(renewal.ok()) << renewal.status();
  EXPECT_THAT(renewal->lost, ElementsAre("s"));

  // What b holds is what a stored before it lost the session, nothing after.
  auto loaded = b->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->row_count(), 2);
  EXPECT_EQ(loaded->label_history.size(), 1u);
  EXPECT_FALSE(loaded->model.has_value());
  EXPECT_TRUE(loaded->options.feature_names.empty());
  ASSERT_EQ(loaded->interrupted_training.size(), 1u);  // a's run never finished
  EXPECT_TRUE(b->FinishTraining("s", *run, "interrupted").ok());
}

TEST_F(PostgresLeasesTest, AnotherTenantsSessionIsNotFoundAndItsLeaseUntouched) {
  auto a = Replica("a", std::chrono::milliseconds(1));
  auto b = Replica("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateSession("s", SessionOptions{}, 1, "acme").ok());
  const std::string before = Column("owner || ' ' || epoch || ' ' || wanted_by");
  absl::StatusOr<LeaseGrant> other = b->Acquire("s", "globex");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound) << other.status();
  EXPECT_EQ(b->Acquire("nothing", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Column("owner || ' ' || epoch || ' ' || wanted_by"), before);
  EXPECT_TRUE(AcquireWhenLapsed(b.get(), "s").status().code() == absl::StatusCode::kNotFound);
  absl::StatusOr<LeaseGrant> own = b->Acquire("s", "acme");
  EXPECT_TRUE(own.ok()) << own.status();
}

TEST_F(PostgresLeasesTest, ADeletedSessionIsLostAndReleaseAllFreesEverySession) {
  auto a = Replica("a");
  auto b = Replica("b");
  ASSERT_TRUE(a && b);
  for (const char* id : {"s", "t", "u"}) {
    ASSERT_TRUE(a->CreateSession(id, SessionOptions{}, 1, "").ok());
  }
  ASSERT_TRUE(server_->Execute(db_, "DELETE FROM sessions WHERE id = 'u'").ok());
  absl::StatusOr<LeaseRenewal> renewal = a->RenewAll();
  ASSERT_TRUE(renewal.ok()) << renewal.status();
  EXPECT_THAT(renewal->lost, ElementsAre("u"));

  ASSERT_TRUE(a->ReleaseAll().ok());
  EXPECT_EQ(Column("owner", "s") + Column("owner", "t"), "");
  EXPECT_TRUE(b->Acquire("s", "").ok());
  EXPECT_TRUE(b->Acquire("t", "").ok());
  EXPECT_TRUE(absl::IsUnavailable(a->AppendBatch("s", MakeBatch("a0", 0, 1, 1, 1)).status()));
}

TEST_F(PostgresLeasesTest, AVersionOneSchemaIsMigratedInPlace) {
  {
    auto a = Replica("a");
    ASSERT_TRUE(a);
    ASSERT_TRUE(a->CreateSession("s", SessionOptions{}, 1, "").ok());
    ASSERT_TRUE(a->AppendBatch("s", MakeBatch("a0", 0, 2, 3, 1)).ok());
  }
  // Back to what version 1 had.
  ASSERT_TRUE(server_->Execute(db_, "DROP INDEX sessions_by_owner").ok());
  ASSERT_TRUE(server_->Execute(db_, "ALTER TABLE sessions DROP COLUMN wanted_by").ok());
  ASSERT_TRUE(server_->Execute(db_, "UPDATE sessions SET owner = '', epoch = 0").ok());
  ASSERT_TRUE(server_->Execute(db_, "UPDATE schema_version SET version = 1").ok());

  auto b = Replica("b");
  ASSERT_TRUE(b);
  EXPECT_EQ(*server_->Query(db_, "SELECT version FROM schema_version"),
            absl::StrCat(PostgresSessionStore::kSchemaVersion));
  absl::StatusOr<LeaseGrant> grant = b->Acquire("s", "");
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->epoch, 1);
  auto loaded = b->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->row_count(), 2);
}

TEST_F(PostgresLeasesTest, WithoutAReplicaNameThereAreNoLeasesAndNoFence) {
  auto store = PostgresSessionStore::Open(server_->Uri(db_));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Acquire("s", "").status().code(), absl::StatusCode::kFailedPrecondition);
  auto b = Replica("b");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->CreateSession("s", SessionOptions{}, 1, "").ok());
  // One aadd per database: it writes whatever the leases say.
  EXPECT_TRUE((*store)->AppendBatch("s", MakeBatch("a0", 0, 2, 3, 1)).ok());
}

}  // namespace
}  // namespace aad

// What only the PostgreSQL store has, against a real PostgreSQL 15
// (tests/testing/postgres_server.h): its versioned schema, its connections
// breaking and coming back, a server that is down, corruption found by the
// checksums, and SQLSTATEs mapped as the SQLite store maps its errors. The
// SessionStore contract itself is store_contract_test.cc.
#include "server/storage/postgres_session_store.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/storage/pg_error.h"
#include "tests/format/record_test_util.h"
#include "tests/testing/postgres_server.h"

namespace aad {
namespace {

using ::aad::testing::ExpectBatchesEqual;
using ::aad::testing::MakeBatch;
using ::aad::testing::PostgresServer;
using ::aad::testing::SameLabels;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_TRUE(server_->CreateDatabase("aadd").ok());
  }
  absl::StatusOr<std::unique_ptr<PostgresSessionStore>> Open(PostgresStoreOptions options = {}) {
    return PostgresSessionStore::Open(server_->Uri("aadd"), options);
  }
  std::unique_ptr<PostgresServer> server_;
};

TEST_F(PostgresStoreTest, CreatesTheSchemaOnceAndKeepsItsVersionOnReopen) {
  {
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->CreateSession("s", SessionOptions{}, 1, "acme").ok());
    ASSERT_TRUE((*store)->AppendBatch("s", MakeBatch("a", 0, 3, 2, 1)).ok());
  }
  auto version = server_->Query("aadd", "SELECT application || ' ' || version FROM schema_version");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, absl::StrCat("aadd ", PostgresSessionStore::kSchemaVersion));
  // Without a replica name (no leases) a session is created at epoch 1
  // with no holder (postgres_leases_test.cc has the rest).
  auto epoch = server_->Query("aadd", "SELECT epoch || ',' || owner FROM sessions");
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  EXPECT_EQ(*epoch, "1,");

  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto loaded = (*reopened)->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->row_count(), 3);
  EXPECT_EQ(loaded->tenant, "acme");
  EXPECT_EQ(*server_->Query("aadd", "SELECT count(*) FROM schema_version"), "1");
}

TEST_F(PostgresStoreTest, RefusesANewerSchemaAndADatabaseOfAnotherApplication) {
  ASSERT_TRUE(Open().ok());
  ASSERT_TRUE(server_->Execute("aadd", "UPDATE schema_version SET version = 99").ok());
  auto newer = Open();
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition) << newer.status();
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos)
      << newer.status();

  ASSERT_TRUE(server_->CreateDatabase("other").ok());
  ASSERT_TRUE(server_->Execute("other", "CREATE TABLE invoices(id int)").ok());
  auto other = PostgresSessionStore::Open(server_->Uri("other"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition) << other.status();
  EXPECT_NE(other.status().message().find("not an aadd store"), std::string::npos)
      << other.status();
  EXPECT_EQ(*server_->Query("other", "SELECT to_regclass('sessions') IS NULL"), "t")
      << "a refused database was written to";
}

// An administrator's pg_terminate_backend (or a failover) breaks every
// connection of the pool; the next calls reconnect, and nothing is lost.
TEST_F(PostgresStoreTest, ABrokenConnectionIsReconnectedAndTheNextWriteSucceeds) {
  PostgresStoreOptions options;
  options.connections = 2;
  auto store = Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE((*store)->AppendBatch("s", MakeBatch("a", 0, 4, 2, 1)).ok());
  auto terminated = server_->TerminateBackends("aadd");
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  EXPECT_EQ(*terminated, 2);
  for (int i = 0; i < 2; ++i) {  // both connections of the pool were cut
    auto appended = (*store)->AppendBatch("s", MakeBatch(absl::StrCat("b", i), 4 + 2 * i, 2, 2, i));
    ASSERT_TRUE(appended.ok()) << appended.status();
  }
  ASSERT_TRUE((*store)->PutLabels("s", std::vector<LabelRecord>{{1, true, 5}}).ok());
  auto loaded = (*store)->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->row_count(), 8);
  EXPECT_TRUE(SameLabels(loaded->label_history, {{1, true, 5}}));
}

// The server goes away: a write fails UNAVAILABLE naming host:port after
// the bounded reconnect attempts, and changes nothing; once the server is
// back, the same store carries on.
TEST_F(PostgresStoreTest, AServerThatIsDownIsUnavailableNamingItAndAFailedWriteChangesNothing) {
  PostgresStoreOptions options;
  options.connections = 1;
  options.reconnect_attempts = 3;
  options.reconnect_backoff = std::chrono::milliseconds(10);
  auto store = Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateSession("s", SessionOptions{}, 0, "").ok());
  const BatchRecord first = MakeBatch("a", 0, 4, 2, 1);
  ASSERT_TRUE((*store)->AppendBatch("s", first).ok());

  ASSERT_TRUE(server_->Stop().ok());
  auto failed = (*store)->AppendBatch("s", MakeBatch("b", 4, 2, 2, 2));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  EXPECT_NE(failed.status().message().find(server_->HostPort()), std::string::npos)
      << failed.status();
  EXPECT_NE(failed.status().message().find("3 attempts"), std::string::npos) << failed.status();
  EXPECT_EQ((*store)->PutLabels("s", std::vector<LabelRecord>{{0, true, 1}}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ((*store)->LoadSession("s").status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(server_->Restart().ok());
  auto loaded = (*store)->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectBatchesEqual(loaded->batches, {first});
  EXPECT_TRUE(loaded->label_history.empty());
  // The refused batch was never stored: sent again, it is new.
  auto again = (*store)->AppendBatch("s", MakeBatch("b", 4, 2, 2, 2));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->duplicate);
}

// Start-up against a server that is not there: UNAVAILABLE naming host and
// port, and never the password of the URI.
TEST_F(PostgresStoreTest, OpeningAServerThatIsDownNamesHostAndPortButNotThePassword) {
  ASSERT_TRUE(server_->Stop().ok());
  const std::string uri =
      absl::StrCat("postgresql://aadd:s3cret-pw@127.0.0.1:", server_->port(), "/aadd");
  auto store = PostgresSessionStore::Open(uri);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_NE(store.status().message().find(server_->HostPort()), std::string::npos)
      << store.status();
  EXPECT_EQ(store.status().message().find("s3cret-pw"), std::string::npos) << store.status();

  auto mysql = PostgresSessionStore::Open("mysql://root:s3cret-pw@db/aadd");
  EXPECT_EQ(mysql.status().code(), absl::StatusCode::kInvalidArgument) << mysql.status();
  EXPECT_NE(mysql.status().message().find("'mysql:"), std::string::npos) << mysql.status();
  EXPECT_EQ(mysql.status().message().find("s3cret-pw"), std::string::npos) << mysql.status();
}

TEST_F(PostgresStoreTest, ADamagedBatchOrModelIsDataLossNamingTheSession) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateSession("hurt", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE((*store)->AppendBatch("hurt", MakeBatch("a", 0, 4, 2, 1)).ok());
  ASSERT_TRUE((*store)->PutModel("hurt", ModelRecord{1, 0, 0, "model"}, 0).ok());
  ASSERT_TRUE(server_->Execute("aadd", "UPDATE models SET bytes = 'mode!'").ok());
  auto model = (*store)->LoadSession("hurt");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss) << model.status();
  EXPECT_NE(model.status().message().find("'hurt' model version 1"), std::string::npos)
      << model.status();
  ASSERT_TRUE(server_->Execute("aadd", "UPDATE models SET bytes = 'model'").ok());
  ASSERT_TRUE((*store)->LoadSession("hurt").ok());
  // One float flipped in place: the length fits, the checksum does not.
  ASSERT_TRUE(server_
                  ->Execute("aadd", "UPDATE batches SET vals = overlay(vals placing "
                                    "'\\xffffffff'::bytea from 1 for 4)")
                  .ok());
  auto batch = (*store)->LoadSession("hurt");
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kDataLoss) << batch.status();
  EXPECT_NE(batch.status().message().find("session 'hurt' batch 'a'"), std::string::npos)
      << batch.status();
}

// More callers than connections: each call waits for a free one, and the
// writes of every session land whole and in order.
TEST_F(PostgresStoreTest, CallsShareThePoolAcrossThreads) {
  PostgresStoreOptions options;
  options.connections = 2;
  auto store = Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  constexpr int kThreads = 6;
  constexpr int kBatches = 15;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = absl::StrCat("s", t);
      EXPECT_TRUE((*store)->CreateSession(id, SessionOptions{}, 0, "").ok());
      for (int b = 0; b < kBatches; ++b) {
        auto appended = (*store)->AppendBatch(id, MakeBatch(absl::StrCat("b", b), 3 * b, 3, 2, t));
        EXPECT_TRUE(appended.ok()) << appended.status();
        EXPECT_TRUE((*store)->PutLabels(id, std::vector<LabelRecord>{{3 * b, b % 2 == 0, b}}).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto list = (*store)->ListSessions();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), static_cast<size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    auto loaded = (*store)->LoadSession(absl::StrCat("s", t));
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->row_count(), 3 * kBatches);
    EXPECT_EQ(loaded->label_history.size(), static_cast<size_t>(kBatches));
  }
}

// PostgreSQL's text holds no NUL byte: an id with one is refused whole,
// never cut at the NUL (which would make "a\0x" a duplicate of "a").
TEST_F(PostgresStoreTest, AnIdWithANulByteIsRefusedNotCut) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateSession("s", SessionOptions{}, 0, "").ok());
  ASSERT_TRUE((*store)->AppendBatch("s", MakeBatch("a", 0, 2, 2, 1)).ok());
  auto nul = (*store)->AppendBatch("s", MakeBatch(std::string("a\0x", 3), 2, 2, 2, 2));
  EXPECT_EQ(nul.status().code(), absl::StatusCode::kInvalidArgument) << nul.status();
  auto loaded = (*store)->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->batches.size(), 1u);
}

TEST(PgSqlStateCode, MapsTheCodesTheSqliteStoreMaps) {
  EXPECT_EQ(PgSqlStateCode("53100"), absl::StatusCode::kResourceExhausted);  // disk full
  EXPECT_EQ(PgSqlStateCode("53300"), absl::StatusCode::kUnavailable);  // too many connections
  EXPECT_EQ(PgSqlStateCode("08006"), absl::StatusCode::kUnavailable);  // connection failure
  EXPECT_EQ(PgSqlStateCode("57P01"), absl::StatusCode::kUnavailable);  // admin shutdown
  EXPECT_EQ(PgSqlStateCode("25006"), absl::StatusCode::kUnavailable);  // read-only (standby)
  EXPECT_EQ(PgSqlStateCode("XX001"), absl::StatusCode::kDataLoss);     // data corrupted
  EXPECT_EQ(PgSqlStateCode("40001"), absl::StatusCode::kUnavailable);  // serialization
  EXPECT_EQ(PgSqlStateCode("42P01"), absl::StatusCode::kInternal);     // undefined table
}

}  // namespace
}  // namespace aad

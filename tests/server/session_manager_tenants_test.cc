// SessionManager's tenant rules without a transport (issue 14): another
// tenant's session is an unknown id to every method, lists are per tenant,
// the owner survives a restore, an import belongs to the importer, and the
// per-tenant limits count the caller's own sessions and rows only.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/session_manager.h"
#include "server/storage/memory_session_store.h"
#include "tests/testing/small_session.h"

namespace aad::testing {
namespace {

using ::testing::ElementsAre;

SessionManagerOptions Options(SessionStore* store) {
  SessionManagerOptions o;
  o.training_threads = 1;
  o.store = store;
  return o;
}

std::vector<std::string> Ids(const absl::StatusOr<std::vector<SessionInfo>>& sessions) {
  std::vector<std::string> out;
  if (!sessions.ok()) return {sessions.status().ToString()};
  for (const SessionInfo& s : *sessions) out.push_back(s.id);
  return out;
}

std::vector<float> Rows(int rows) { return std::vector<float>(static_cast<size_t>(rows) * 2, 1.f); }

TEST(SessionManagerTenants, AnotherTenantsSessionIsAnUnknownId) {
  MemorySessionStore store;
  SessionManager m(Options(&store));
  ASSERT_TRUE(m.Create(SmallSessionOptions(), "s", "acme").ok());
  EXPECT_EQ((*m.Get("s", "acme"))->tenant(), "acme");
  absl::Status other = m.Get("s", "globex").status();
  ASSERT_TRUE(m.Create(SmallSessionOptions(), "t", "acme").ok());
  ASSERT_TRUE(m.Delete("t", "acme").ok());
  absl::Status unknown = m.Get("t", "globex").status();
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.message(), "no session with id 's'");
  EXPECT_EQ(unknown.message(), "no session with id 't'");
  // The anonymous tenant is a tenant like any other.
  EXPECT_EQ(m.Get("s").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m.Delete("s", "globex"), other);
  EXPECT_EQ(m.Export("s", "globex").status(), other);
  EXPECT_TRUE(m.Get("s", "acme").ok());  // untouched
}

TEST(SessionManagerTenants, ListsShowEachTenantItsOwn) {
  MemorySessionStore store;
  SessionManager m(Options(&store));
  for (const char* id : {"a1", "a3"}) ASSERT_TRUE(m.Create(SmallSessionOptions(), id, "acme").ok());
  for (const char* id : {"a2", "a4"}) ASSERT_TRUE(m.Create(SmallSessionOptions(), id, "globex").ok());
  ASSERT_TRUE(m.Create(SmallSessionOptions(), "a0").ok());
  EXPECT_THAT(Ids(m.List("", 10, "acme")), ElementsAre("a1", "a3"));
  EXPECT_THAT(Ids(m.List("a1", 1, "acme")), ElementsAre("a3"));
  EXPECT_THAT(Ids(m.List("", 10, "globex")), ElementsAre("a2", "a4"));
  EXPECT_THAT(Ids(m.List("", 10)), ElementsAre("a0"));
}

TEST(SessionManagerTenants, TheOwnerSurvivesARestoreAndAnImportBelongsToTheImporter) {
  MemorySessionStore store;
  std::string archive;
  {
    SessionManager m(Options(&store));
    ASSERT_TRUE(m.Create(SmallSessionOptions(), "s", "acme").ok());
    ASSERT_TRUE((*m.Get("s", "acme"))->Append("b", 2, Rows(5)).ok());
    archive = *m.Export("s", "acme");
  }
  SessionManager restarted(Options(&store));
  ASSERT_TRUE(restarted.Restore().ok());
  EXPECT_TRUE(restarted.Get("s", "acme").ok());
  EXPECT_FALSE(restarted.Get("s", "globex").ok());
  auto imported = restarted.Import(archive, "copy", "test archive", "globex");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ((*imported)->tenant(), "globex");
  EXPECT_EQ(store.LoadSession("copy")->tenant, "globex");
  EXPECT_FALSE(restarted.Get("copy", "acme").ok());
}

TEST(SessionManagerTenants, LimitsCountTheCallersOwnSessionsAndRows) {
  MemorySessionStore store;
  SessionManagerOptions options = Options(&store);
  options.max_sessions_per_tenant = 1;
  options.max_rows_per_tenant = 8;
  SessionManager m(options);
  ASSERT_TRUE(m.Create(SmallSessionOptions(), "a", "acme").ok());
  EXPECT_EQ(m.Create(SmallSessionOptions(), "a2", "acme").status().message(),
            "tenant 'acme' holds 1 sessions, the limit is 1 (--max_sessions_per_tenant)");
  ASSERT_TRUE(m.Create(SmallSessionOptions(), "g", "globex").ok());
  auto a = *m.Get("a", "acme");
  ASSERT_TRUE(a->Append("b1", 2, Rows(6)).ok());
  absl::Status over = a->Append("b2", 2, Rows(3)).status();
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(over.message(),
            "tenant 'acme' holds 6 rows; 3 more would pass its limit of 8 (--max_rows_per_tenant)");
  // A retried batch is not counted twice.
  ASSERT_TRUE(a->Append("b1", 2, Rows(6)).ok());
  ASSERT_TRUE(a->Append("b3", 2, Rows(2)).ok());
  ASSERT_TRUE((*m.Get("g", "globex"))->Append("b1", 2, Rows(8)).ok());
  // Deleting gives the rows (and the session) back.
  ASSERT_TRUE(m.Delete("a", "acme").ok());
  auto again = m.Create(SmallSessionOptions(), "a3", "acme");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)->Append("b1", 2, Rows(8)).ok());
}

}  // namespace
}  // namespace aad::testing

// SessionManager without a transport: ids, limits, store errors, deletion,
// and export/import between two managers. Waits only on the callbacks of
// label submissions (an absl::Notification), never on time.
#include "server/session_manager.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/memory_session_store.h"
#include "tests/testing/failing_store.h"
#include "tests/testing/small_session.h"

namespace aad::testing {
namespace {

using ::testing::HasSubstr;

SessionManagerOptions Options(SessionStore* store) {
  SessionManagerOptions o;
  o.max_sessions = 3;
  o.training_threads = 1;
  o.store = store;
  return o;
}

TEST(SessionManager, IdsAreCheckedAndTakenOnlyOnce) {
  MemorySessionStore store;
  SessionManager m(Options(&store));
  ASSERT_TRUE(m.Create(SmallSessionOptions(), "fraud-2026_q4").ok());
  EXPECT_EQ(m.Create(SmallSessionOptions(), "fraud-2026_q4").status().code(), absl::StatusCode::kAlreadyExists);
  absl::Status bad = m.Create(SmallSessionOptions(), "has space").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("'has space'"));
  auto fresh = m.Create(SmallSessionOptions());
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->id().size(), 32u);
  absl::Status missing = m.Get("nope").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("'nope'"));
}

TEST(SessionManager, LimitsAndInvalidSettingsCreateNothing) {
  MemorySessionStore store;
  SessionManager m(Options(&store));
  SessionOptions wrong = SmallSessionOptions();
  wrong.config.batch_size = -3;
  absl::Status s = m.Create(wrong, "w").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("-3"));
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(m.Create(SmallSessionOptions(), id).ok());
  EXPECT_EQ(m.Create(SmallSessionOptions(), "d").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store.ListSessions()->size(), 3u);
  ASSERT_TRUE(m.Delete("b").ok());
  EXPECT_EQ(m.Delete("b").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(m.Create(SmallSessionOptions(), "d").ok());
}

TEST(SessionManager, AStoreErrorCreatesNoSession) {
  FailingStore store;
  SessionManager m(Options(&store));
  store.fail = true;
  absl::Status s = m.Create(SmallSessionOptions(), "x").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(m.Get("x").status().code(), absl::StatusCode::kNotFound);
  store.fail = false;
  EXPECT_TRUE(m.Create(SmallSessionOptions(), "x").ok()) << "the id is free again";
}

TEST(SessionManager, AnImportedSessionScoresAsTheExportedOne) {
  MemorySessionStore store_a, store_b;
  SessionManager a(Options(&store_a)), b(Options(&store_b));
  auto s = a.Create(SmallSessionOptions(), "orig");
  ASSERT_TRUE(s.ok());
  std::vector<float> rows;
  for (int i = 0; i < 300; ++i) {
    rows.push_back(static_cast<float>(i % 17));
    rows.push_back(static_cast<float>((i * 7) % 23) + (i % 50 == 0 ? 40.0f : 0.0f));
  }
  ASSERT_TRUE((*s)->Append("b", 2, rows).ok());
  // Labels before a model only wait for the first training; train through
  // a label submission's wait: an observer-free way to await the model.
  class Done final : public TrainObserver {
   public:
    void OnProgress(const aad::TrainProgress&) override {}
    bool ShouldStop() override { return false; }
    void OnTrainingDone(const absl::Status& s, int64_t) override {
      status = s;
      done.Notify();
    }
    absl::Status status;
    absl::Notification done;
  } trained;
  ASSERT_TRUE((*s)->StartTraining(&trained).ok());
  trained.done.WaitForNotification();
  ASSERT_TRUE(trained.status.ok()) << trained.status;
  absl::Notification labelled;
  (*s)->SubmitLabels({{0, true}, {5, false}}, true,
                     [&](absl::StatusOr<LabelResult> r) {
                       EXPECT_TRUE(r.ok()) << r.status();
                       labelled.Notify();
                     });
  labelled.WaitForNotification();

  auto archive = a.Export("orig");
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(a.Export("none").status().code(), absl::StatusCode::kNotFound);
  auto copy = b.Import(*archive, "", "test archive");
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->id(), "orig");
  EXPECT_EQ(b.Import(*archive, "", "again").status().code(), absl::StatusCode::kAlreadyExists);
  std::string damaged = *archive;
  damaged[damaged.size() / 2] ^= 0x40;
  absl::Status loss = b.Import(damaged, "other", "damaged.aads").status();
  EXPECT_EQ(loss.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(loss.message(), HasSubstr("damaged.aads"));

  const SessionInfo x = (*s)->Info(), y = (*copy)->Info();
  EXPECT_EQ(x.rows, y.rows);
  EXPECT_EQ(x.labels, y.labels);
  EXPECT_EQ(x.model_version, y.model_version);
  auto px = (*s)->ScorePoolRows({0, 1, 2, 299});
  auto py = (*copy)->ScorePoolRows({0, 1, 2, 299});
  ASSERT_TRUE(px.ok() && py.ok());
  EXPECT_EQ(px->p, py->p);
  EXPECT_EQ(px->logit, py->logit);
}

}  // namespace
}  // namespace aad::testing

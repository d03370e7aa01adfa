// Feature names end to end inside the server (issue 12): a session created
// without names takes an ingest's (a CSV header), stored before it changes;
// one with names refuses others; names are checked by one rule at creation,
// at ingest and at import, and come back after a restore and an import.
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "format/session_archive.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/session.h"
#include "server/session_manager.h"
#include "server/storage/memory_session_store.h"
#include "tests/testing/failing_store.h"
#include "tests/testing/manual_training_pool.h"
#include "tests/testing/small_session.h"

namespace aad::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Names = std::vector<std::string>;

// `rows` rows of three features.
std::vector<float> Rows(int64_t rows) {
  std::vector<float> v;
  for (int64_t i = 0; i < rows; ++i) {
    for (int f = 0; f < 3; ++f) v.push_back(static_cast<float>((i * 7 + f * 3) % 11));
  }
  return v;
}

class SessionFeatureNamesTest : public ::testing::Test {
 protected:
  std::shared_ptr<Session> NewSession(SessionStore* store, SessionOptions options) {
    EXPECT_TRUE(store->CreateSession("s", options, 0, "").ok());
    return std::make_shared<Session>("s", std::move(options), SessionLimits{1000, 16}, &pool_,
                                     store);
  }
  std::shared_ptr<Session> NewSession(SessionStore* store) {
    return NewSession(store, SmallSessionOptions());
  }
  Names StoredNames(SessionStore* store) {
    auto record = store->LoadSession("s");
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? record->options.feature_names : Names{};
  }

  ManualTrainingPool pool_;
  MemorySessionStore store_;
};

TEST_F(SessionFeatureNamesTest, ASessionWithoutNamesTakesTheFirstIngestsAndKeepsThem) {
  auto s = NewSession(&store_);
  EXPECT_TRUE(s->feature_names().empty());
  const Names header = {"mcg", "gvh", "alm"};
  auto first = s->Append("b0", 3, Rows(4), header);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(s->feature_names(), header);
  EXPECT_EQ(s->Info().options.feature_names, header);
  EXPECT_EQ(StoredNames(&store_), header);
  // The same names again (the next file of the same source), or none.
  ASSERT_TRUE(s->Append("b1", 3, Rows(2), header).ok());
  ASSERT_TRUE(s->Append("b2", 3, Rows(2)).ok());
  EXPECT_EQ(s->Info().rows, 8);

  // A restart rebuilds the session from the store: the names are there.
  auto record = store_.LoadSession("s");
  ASSERT_TRUE(record.ok()) << record.status();
  auto restored = Session::Restore(*record, SessionLimits{1000, 16}, &pool_, &store_);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->feature_names(), header);
}

TEST_F(SessionFeatureNamesTest, OtherNamesAreRefusedNamingTheColumnAndNothingIsIngested) {
  auto s = NewSession(&store_);
  ASSERT_TRUE(s->Append("b0", 3, Rows(4), Names{"mcg", "gvh", "alm"}).ok());
  auto other = s->Append("b1", 3, Rows(5), Names{"mcg", "gvh", "x"});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument) << other.status();
  EXPECT_THAT(other.status().message(),
              HasSubstr("feature name 2 is 'x' in this ingest but 'alm' in session s"));
  auto shorter = s->Append("b1", 2, std::vector<float>(10, 1.0f), Names{"mcg", "gvh"});
  EXPECT_EQ(shorter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Info().rows, 4);
  EXPECT_EQ(store_.LoadSession("s")->row_count(), 4);
  EXPECT_THAT(s->feature_names(), ElementsAre("mcg", "gvh", "alm"));
}

TEST_F(SessionFeatureNamesTest, BadNamesOrABadBatchStoreNeither) {
  auto s = NewSession(&store_);
  auto repeated = s->Append("b0", 3, Rows(4), Names{"a", "b", "a"});
  EXPECT_EQ(repeated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(repeated.status().message(), HasSubstr("feature name 2 'a' repeats feature name 0"));
  auto miscounted = s->Append("b0", 3, Rows(4), Names{"a", "b"});
  EXPECT_EQ(miscounted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(miscounted.status().message(), HasSubstr("2 feature names for 3 features"));
  // Good names with a bad batch: the batch is refused, the names with it.
  std::vector<float> nan = Rows(2);
  nan[4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(s->Append("b0", 3, nan, Names{"a", "b", "c"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(s->feature_names().empty());
  EXPECT_TRUE(StoredNames(&store_).empty());
  EXPECT_EQ(s->Info().rows, 0);
}

TEST_F(SessionFeatureNamesTest, AStoreErrorFailsTheIngestAndChangesNothing) {
  FailingStore store;
  auto s = NewSession(&store);
  store.fail = true;
  auto failed = s->Append("b0", 3, Rows(4), Names{"a", "b", "c"});
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted) << failed.status();
  EXPECT_TRUE(s->feature_names().empty());
  EXPECT_EQ(s->Info().rows, 0);
  store.fail = false;
  EXPECT_TRUE(StoredNames(&store).empty());
  // The retry succeeds and stores both.
  ASSERT_TRUE(s->Append("b0", 3, Rows(4), Names{"a", "b", "c"}).ok());
  EXPECT_THAT(StoredNames(&store), ElementsAre("a", "b", "c"));
  EXPECT_EQ(s->Info().rows, 4);
}

TEST_F(SessionFeatureNamesTest, ARetriedFirstBatchMayBringTheHeaderAfterAll) {
  auto s = NewSession(&store_);
  ASSERT_TRUE(s->Append("b0", 3, Rows(4)).ok());
  // A retried first batch now with its header: the names fit the rows,
  // so the session takes them; the batch itself is not stored again.
  auto retried = s->Append("b0", 3, Rows(4), Names{"a", "b", "c"});
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->duplicate);
  EXPECT_EQ(s->Info().rows, 4);
  EXPECT_THAT(s->feature_names(), ElementsAre("a", "b", "c"));
  EXPECT_THAT(StoredNames(&store_), ElementsAre("a", "b", "c"));
}

TEST_F(SessionFeatureNamesTest, NamesMustFitRowsIngestedBefore) {
  auto s = NewSession(&store_);
  ASSERT_TRUE(s->Append("b0", 3, Rows(4)).ok());
  auto narrow = s->Append("b1", 2, std::vector<float>(4, 1.0f), Names{"a", "b"});
  EXPECT_EQ(narrow.status().code(), absl::StatusCode::kInvalidArgument) << narrow.status();
  EXPECT_TRUE(s->feature_names().empty());
  EXPECT_EQ(s->Info().rows, 4);
}

TEST_F(SessionFeatureNamesTest, NamesGivenAtCreationAcceptTheSameAtIngest) {
  SessionOptions options = SmallSessionOptions();
  options.feature_count = 3;
  options.feature_names = {"x", "y", "z"};
  auto s = NewSession(&store_, options);
  ASSERT_TRUE(s->Append("b0", 3, Rows(4), Names{"x", "y", "z"}).ok());
  EXPECT_EQ(s->Append("b1", 3, Rows(4), Names{"x", "z", "y"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Info().rows, 4);
}

SessionManagerOptions ManagerOptions(SessionStore* store) {
  SessionManagerOptions o;
  o.training_threads = 1;
  o.store = store;
  return o;
}

TEST(SessionManagerFeatureNames, CreateChecksNamesByTheSameRule) {
  MemorySessionStore store;
  SessionManager m(ManagerOptions(&store));
  SessionOptions o = SmallSessionOptions();
  o.feature_names = {"amount", "", "hour"};
  absl::Status empty = m.Create(o, "a").status();
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("feature name 1 '' is empty"));
  o.feature_names = {"amount", "hour", "amount"};
  absl::Status repeated = m.Create(o, "a").status();
  EXPECT_EQ(repeated.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(repeated.message(), HasSubstr("feature name 2 'amount' repeats feature name 0"));
  o.feature_names = {"amount", std::string(300, 'h')};
  EXPECT_EQ(m.Create(o, "a").status().code(), absl::StatusCode::kInvalidArgument);
  o.feature_names = {"amount", "hour"};
  o.feature_count = 3;
  absl::Status count = m.Create(o, "a").status();
  EXPECT_EQ(count.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(count.message(), HasSubstr("2 feature names for 3 features"));
  EXPECT_TRUE(store.ListSessions()->empty());
  o.feature_count = 0;
  auto created = m.Create(o, "a");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ((*created)->Info().options.feature_count, 2);
}

TEST(SessionManagerFeatureNames, NamesTakenAtIngestTravelInTheArchive) {
  MemorySessionStore store_a, store_b;
  SessionManager a(ManagerOptions(&store_a));
  SessionManager b(ManagerOptions(&store_b));
  auto s = a.Create(SmallSessionOptions(), "orig");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE((*s)->Append("b0", 3, Rows(6), Names{"p", "q", "r"}).ok());
  auto archive = a.Export("orig");
  ASSERT_TRUE(archive.ok()) << archive.status();
  auto copy = b.Import(*archive, "copy", "test archive");
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_THAT((*copy)->feature_names(), ElementsAre("p", "q", "r"));

  // An archive whose names break the rule is refused, naming the name.
  auto record = DecodeSessionArchive(*archive, "test archive");
  ASSERT_TRUE(record.ok()) << record.status();
  record->options.feature_names = {"p", "p", "r"};
  absl::Status bad = b.Import(EncodeSessionArchive(*record), "bad", "bad.aads").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_THAT(bad.message(), HasSubstr("feature name 1 'p' repeats feature name 0"));
  EXPECT_EQ(b.Get("bad").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace aad::testing

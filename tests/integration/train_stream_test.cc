// The Train stream's reactor against its own races: progress and the final
// message are written from gRPC's threads while the training thread reports
// the outcome, and the reactor is deleted as soon as it finished. Many
// quick runs of tiny sessions, four at once on the two training threads (so
// that threads are preempted mid-reaction), race the final write against
// the training thread's report of the outcome; the sanitizer flavours
// (ASan: a use after free; TSan: a race) catch a reactor touched after it
// was finished, as ASan once did in TenantsTest.
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

class TrainStreamTest : public ServerFixture {};

TEST_F(TrainStreamTest, ManyQuickRunsAtOnceEachEndWithTheirModel) {
  constexpr int kSessions = 4;
  constexpr int kRuns = 60;
  std::vector<float> rows(64 * kFeatures);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>((i * 7) % 13) * 0.25f;
  for (int s = 0; s < kSessions; ++s) {
    const std::string id = absl::StrCat("quick", s);
    ASSERT_TRUE(client_->CreateSession(SmallSession(id)).ok());
    ASSERT_TRUE(client_->Ingest(id, rows, kFeatures).ok());
  }
  std::vector<std::string> failures(kSessions);
  std::vector<std::thread> threads;
  for (int s = 0; s < kSessions; ++s) {
    threads.emplace_back([this, s, &failures] {
      const std::string id = absl::StrCat("quick", s);
      int64_t last = 0;
      for (int run = 0; run < kRuns && failures[s].empty(); ++run) {
        int64_t messages = 0;
        auto version = client_->Train(
            id, [&messages](const aad::v1::TrainResponse&) { ++messages; }, {},
            /*pretrain_epochs=*/run % 3);
        if (!version.ok()) {
          failures[s] = absl::StrCat(id, " run ", run, ": ", version.status().ToString());
        } else if (*version != last + 1 || messages < 1) {
          failures[s] = absl::StrCat(id, " run ", run, ": version ", *version, " after ", last,
                                     ", ", messages, " messages");
        } else {
          last = *version;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
}

}  // namespace
}  // namespace aad::testing

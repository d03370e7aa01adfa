// The crash test of issue 4 against a real aadd process: a client ingests and
// labels continuously while the test SIGKILLs the server at seeded random
// moments (at least 20 times), restarts it and checks that every
// acknowledged batch and label is present exactly once and that no batch is
// half present. AADD_CRASH_SEED=N replays a run. Its own binary, so that
// ctest can label it slow (it takes ~30 s under ThreadSanitizer).
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/durability_util.h"

namespace aad::testing {
namespace {

// The crash test. A client thread ingests batches and submits labels; the
// test SIGKILLs aadd after a seeded random number of acknowledged calls,
// restarts it and checks that every acknowledged batch and label is there
// exactly once and that the call cut by the kill left all or nothing.
class CrashClient {
 public:
  struct PendingBatch {
    std::string id;
    std::vector<float> values;
  };

  CrashClient(std::string session, uint64_t seed) : session_(std::move(session)), rng_(seed) {}

  // Resolves what the last kill cut, on the restarted server, and checks the
  // stored state against everything acknowledged.
  void Verify(aad::AadClient* client) {
    auto info = client->GetSession(session_);
    ASSERT_TRUE(info.ok()) << info.status();
    if (pending_batch_) {
      const int64_t n = static_cast<int64_t>(pending_batch_->values.size()) / kFeatures;
      ASSERT_TRUE(info->rows() == acked_rows_ || info->rows() == acked_rows_ + n)
          << "rows " << info->rows() << " are neither the acknowledged " << acked_rows_
          << " nor those plus the whole cut batch of " << n;
    } else {
      ASSERT_EQ(info->rows(), acked_rows_);
    }
    if (pending_label_) {
      ASSERT_TRUE(info->labels() == acked_labels_ || info->labels() == acked_labels_ + 1)
          << "labels " << info->labels() << ", acknowledged " << acked_labels_;
    } else {
      ASSERT_EQ(info->labels(), acked_labels_);
    }
    // Resolve the cut calls by retrying them (both are idempotent).
    if (pending_batch_) {
      auto r = client->IngestMessages(
          session_, {Batch(session_, pending_batch_->id, pending_batch_->values)});
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->batches(0).first_row_id(), acked_rows_) << pending_batch_->id;
      resolved_duplicates_ += r->batches(0).duplicate();
      Acknowledge(pending_batch_->id, r->batches(0).first_row_id(), r->batches(0).row_count());
      pending_batch_.reset();
    }
    if (pending_label_) {
      auto r = client->SubmitLabels(session_, {*pending_label_}, false);
      ASSERT_TRUE(r.ok()) << r.status();
      AcknowledgeLabel(*pending_label_);
      pending_label_.reset();
    }
    info = client->GetSession(session_);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->rows(), acked_rows_);
    EXPECT_EQ(info->labels(), acked_labels_);
    EXPECT_EQ(info->anomalies(), acked_anomalies_);
    if (info->last_training_error().find("interrupted by a restart") != std::string::npos) {
      ++interrupted_runs_seen_;
    }
    // Acknowledged batches: retries are duplicates with the same ids.
    std::uniform_int_distribution<size_t> pick(0, batches_.size() - 1);
    for (int i = 0; i < 3; ++i) {
      const AckedBatch& b = batches_[i == 0 ? batches_.size() - 1 : pick(rng_)];
      auto r = client->IngestMessages(session_, {Batch(session_, b.id, b.values)});
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_TRUE(r->batches(0).duplicate()) << b.id;
      EXPECT_EQ(r->batches(0).first_row_id(), b.first_row_id) << b.id;
      EXPECT_EQ(r->batches(0).row_count(), b.row_count) << b.id;
    }
    std::vector<int64_t> ids(acked_rows_);
    for (int64_t i = 0; i < acked_rows_; ++i) ids[i] = i;
    auto scores = client->ScorePoolRows(session_, ids);
    ASSERT_TRUE(scores.ok()) << scores.status();
    EXPECT_EQ(scores->p_size(), acked_rows_);
  }

  // Ingests and labels until a call fails (the kill), counting
  // acknowledgements for the test thread.
  void Run(aad::AadClient* client) {
    std::uniform_int_distribution<int> rows(1, 40);
    for (;;) {
      if (next_op_ % 2 == 0) {
        PendingBatch batch{absl::StrCat("batch-", next_batch_++), MakeRows(&rng_, rows(rng_))};
        auto r = client->IngestMessages(session_, {Batch(session_, batch.id, batch.values)});
        if (!r.ok()) {
          pending_batch_ = std::move(batch);
          break;
        }
        if (r->batches(0).duplicate() || r->batches(0).first_row_id() != acked_rows_) {
          ADD_FAILURE() << "new batch " << batch.id << " got first row id "
                        << r->batches(0).first_row_id() << ", expected " << acked_rows_;
          break;
        }
        Acknowledge(batch.id, r->batches(0).first_row_id(), r->batches(0).row_count(),
                    std::move(batch.values));
      } else {
        // A new row each time, so the label count tells what was stored.
        const std::pair<int64_t, bool> label = {acked_labels_, acked_labels_ % 5 == 0};
        auto r = client->SubmitLabels(session_, {label}, false);
        if (!r.ok()) {
          pending_label_ = label;
          break;
        }
        AcknowledgeLabel(label);
      }
      ++next_op_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++acks_;
      }
      acked_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    acked_.notify_all();
  }

  // Waits until `n` calls were acknowledged since the last Reset, or the
  // client stopped; false after `timeout`.
  bool WaitForAcks(int n, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return acked_.wait_for(lock, timeout, [&] { return acks_ >= n || stopped_; });
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    acks_ = 0;
    stopped_ = false;
  }

  void Acknowledge(const std::string& id, int64_t first, int64_t count,
                   std::vector<float> values = {}) {
    if (values.empty() && pending_batch_) values = pending_batch_->values;
    batches_.push_back({id, first, count, std::move(values)});
    acked_rows_ += count;
  }
  void AcknowledgeLabel(const std::pair<int64_t, bool>& label) {
    ++acked_labels_;
    acked_anomalies_ += label.second;
  }

  int64_t acked_rows() const { return acked_rows_; }
  int64_t acked_labels() const { return acked_labels_; }
  int resolved_duplicates() const { return resolved_duplicates_; }
  int interrupted_runs_seen() const { return interrupted_runs_seen_; }

 private:
  struct AckedBatch {
    std::string id;
    int64_t first_row_id;
    int64_t row_count;
    std::vector<float> values;
  };

  const std::string session_;
  std::mt19937_64 rng_;
  // Touched by one thread at a time: Run's thread, then (after join) the test's.
  std::vector<AckedBatch> batches_;
  int64_t acked_rows_ = 0, acked_labels_ = 0, acked_anomalies_ = 0;
  int64_t next_op_ = 0, next_batch_ = 0;
  std::optional<PendingBatch> pending_batch_;
  std::optional<std::pair<int64_t, bool>> pending_label_;
  int resolved_duplicates_ = 0, interrupted_runs_seen_ = 0;

  std::mutex mu_;
  std::condition_variable acked_;
  int acks_ = 0;          // guarded by mu_
  bool stopped_ = false;  // guarded by mu_
};

TEST(CrashRecovery, NothingAcknowledgedIsLostWhenKilledAtRandomMoments) {
  uint64_t seed = std::random_device()();
  if (const char* env = std::getenv("AADD_CRASH_SEED"); env != nullptr) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &seed)) << "AADD_CRASH_SEED=" << env;
  }
  std::cout << "crash test seed " << seed << " (replay: AADD_CRASH_SEED=" << seed << ")"
            << std::endl;
  RecordProperty("crash_seed", std::to_string(seed));
  constexpr int kKills = 20;
  TempDir dir;
  std::mt19937_64 rng(seed);
  const std::string session = "crash";
  CrashClient crash_client(session, seed + 1);
  {
    auto aadd = StartAadd(dir.path());
    ASSERT_NE(aadd, nullptr);
    auto client = Connect(aadd->port());
    ASSERT_TRUE(client->CreateSession(SmallSession(session)).ok());
    std::vector<float> first = MakeRows(&rng, 200);
    auto r = client->IngestMessages(session, {Batch(session, "first", first)});
    ASSERT_TRUE(r.ok()) << r.status();
    crash_client.Acknowledge("first", 0, 200, std::move(first));
    ASSERT_TRUE(client->Train(session).ok());
    StopAadd(aadd.get(), &client);
  }
  std::uniform_int_distribution<int> acks_before_kill(0, 12);
  std::uniform_int_distribution<int> kill_delay_us(0, 4000);
  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill, ", seed ", seed));
    auto aadd = StartAadd(dir.path());
    ASSERT_NE(aadd, nullptr);
    {
      auto client = Connect(aadd->port());
      crash_client.Verify(client.get());
      if (::testing::Test::HasFatalFailure()) return;
    }
    // One attempt per call: the kill must show as a failed call.
    auto client = Connect(aadd->port(), /*attempts=*/1);
    crash_client.Reset();
    const int target = acks_before_kill(rng);
    std::thread writer([&] { crash_client.Run(client.get()); });
    const bool reached = crash_client.WaitForAcks(target, std::chrono::seconds(120));
    // Not synchronisation: this is the seeded random kill moment, so that
    // kills land inside calls in flight (a commit, a training run) too.
    std::this_thread::sleep_for(std::chrono::microseconds(kill_delay_us(rng)));
    aadd->Signal(SIGKILL);
    const int status = aadd->WaitExit();
    writer.join();
    ASSERT_TRUE(reached) << "no " << target << " acknowledgements within 120 s";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "aadd ended on its own (wait status " << status << "); log:\n"
        << aadd->log();
  }
  auto aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  auto client = Connect(aadd->port());
  crash_client.Verify(client.get());
  StopAadd(aadd.get(), &client);
  std::cout << kKills << " kills: " << crash_client.acked_rows() << " rows and "
            << crash_client.acked_labels() << " labels acknowledged, all present; "
            << crash_client.resolved_duplicates()
            << " cut batches turned out stored, " << crash_client.interrupted_runs_seen()
            << " restarts reported interrupted training" << std::endl;
}

}  // namespace
}  // namespace aad::testing

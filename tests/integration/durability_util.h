// Helpers of the tests that run the aadd binary as a child process
// (durability_test.cc, crash_test.cc). AADD_BINARY is the path of aadd,
// a compile definition.
#ifndef AADD_TESTS_INTEGRATION_DURABILITY_UTIL_H_
#define AADD_TESTS_INTEGRATION_DURABILITY_UTIL_H_

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/aadd_process.h"
#include "tests/testing/temp_dir.h"

namespace aad::testing {

namespace fs = std::filesystem;

inline constexpr int kFeatures = 6;

// Rows of a Gaussian cluster with a few far rows, row-major.
template <typename Rng>
inline std::vector<float> MakeRows(Rng* rng, int64_t rows) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> far(0, 19);
  std::vector<float> values;
  values.reserve(rows * kFeatures);
  for (int64_t r = 0; r < rows; ++r) {
    const float offset = far(*rng) == 0 ? 6.0f : 0.0f;
    for (int f = 0; f < kFeatures; ++f) values.push_back(normal(*rng) + offset);
  }
  return values;
}

inline aad::v1::IngestRequest Batch(const std::string& session, const std::string& id,
                             const std::vector<float>& values) {
  aad::v1::IngestRequest m;
  m.set_session_id(session);
  m.set_batch_id(id);
  m.set_feature_count(kFeatures);
  m.mutable_values()->Assign(values.begin(), values.end());
  return m;
}

inline aad::v1::CreateSessionRequest SmallSession(const std::string& id) {
  aad::v1::CreateSessionRequest request;
  request.set_session_id(id);
  request.mutable_config()->set_pretrain_epochs(3);
  request.mutable_config()->set_hidden_units(16);
  request.mutable_config()->set_latent_units(4);
  request.mutable_config()->set_seed(11);
  return request;
}

// A trained session of 600 rows (`rows`, row-major) in three batches b0..b2,
// with two feedback rounds (5 rows, then a relabel of the first and row 3):
// model version 3. Fails the test (fatally) on error.
inline void BuildTrainedSession(aad::AadClient* client, const std::string& session,
                                const std::vector<float>& rows) {
  ASSERT_TRUE(client->CreateSession(SmallSession(session)).ok());
  std::vector<aad::v1::IngestRequest> batches;
  for (int b = 0; b < 3; ++b) {
    batches.push_back(Batch(session, absl::StrCat("b", b),
                            std::vector<float>(rows.begin() + b * 200 * kFeatures,
                                               rows.begin() + (b + 1) * 200 * kFeatures)));
  }
  ASSERT_TRUE(client->IngestMessages(session, batches).ok());
  auto trained = client->Train(session);
  ASSERT_TRUE(trained.ok()) << trained.status();
  auto top = client->GetQueryCandidates(session, 5);
  ASSERT_TRUE(top.ok()) << top.status();
  std::vector<std::pair<int64_t, bool>> labels;
  for (int i = 0; i < top->row_ids_size(); ++i) labels.push_back({top->row_ids(i), i % 2 == 0});
  ASSERT_TRUE(client->SubmitLabels(session, labels, /*wait_for_model=*/true).ok());
  ASSERT_TRUE(client->SubmitLabels(session, {{labels[0].first, false}, {3, true}}, true).ok());
}

// Re-sends batch b1 of a BuildTrainedSession session, as a client retrying
// it would: the server must answer it as a duplicate with its old row ids
// (200..399) and store nothing (still 600 rows).
inline void ExpectRetriedBatchIsADuplicate(aad::AadClient* client, const std::string& session,
                                           const std::vector<float>& rows) {
  auto retry = client->IngestMessages(
      session, {Batch(session, "b1",
                      std::vector<float>(rows.begin() + 200 * kFeatures,
                                         rows.begin() + 400 * kFeatures))});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->batches(0).duplicate());
  EXPECT_EQ(retry->batches(0).first_row_id(), 200);
  EXPECT_EQ(retry->total_rows(), 600);
}

inline std::unique_ptr<aad::AadClient> Connect(int port, int attempts = 4) {
  aad::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.timeout = std::chrono::seconds(60);
  options.max_attempts = attempts;
  return std::make_unique<aad::AadClient>(options);
}

// Starts aadd on `data_dir` and a free port, with one training thread
// unless `flags` say otherwise (later flags win); fails the test on error.
inline std::unique_ptr<AaddProcess> StartAadd(const std::string& data_dir,
                                              const std::vector<std::string>& flags = {}) {
  std::vector<std::string> args = {"--port=0", absl::StrCat("--data_dir=", data_dir),
                                   "--training_threads=1"};
  args.insert(args.end(), flags.begin(), flags.end());
  auto process = std::make_unique<AaddProcess>();
  const absl::Status started = process->Start(AADD_BINARY, args);
  EXPECT_TRUE(started.ok()) << started;
  return started.ok() ? std::move(process) : nullptr;
}

// SIGTERM and a clean exit (status 0). The client goes first, so that no
// call of it is cut (an idle connection no longer delays the exit; the
// drain window is off unless the flags name --drain_seconds).
inline void StopAadd(AaddProcess* process, std::unique_ptr<aad::AadClient>* client) {
  client->reset();
  process->Signal(SIGTERM);
  const int status = process->WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "aadd ended with wait status " << status << "; log:\n"
      << process->log();
}

}  // namespace aad::testing

#endif  // AADD_TESTS_INTEGRATION_DURABILITY_UTIL_H_

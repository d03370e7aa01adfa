// client_bench: the C++ client library (AadClient) against a running aadd:
// Ingest throughput (rows/s, batches of --batch_rows, each run into a new
// session), the latency of single-row Score calls on a trained model, and
// with --label_rounds the latency of a feedback round as a client sees it:
// SubmitLabels of one row with wait_for_model, from the call until the
// reply (labels stored, the model holding them trained and published).
// bench/python_client_bench.py runs it beside the Python client on the same
// server and prints both (bench/README.md, "Python client"). One JSON object
// on stdout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/aad_client.h"

ABSL_FLAG(std::string, server, "localhost:50051", "host:port of the aadd to measure against");
ABSL_FLAG(int64_t, rows, 1000000, "rows of each ingest");
ABSL_FLAG(int, dims, 16, "features per row");
ABSL_FLAG(int, reps, 3, "ingest runs, each into a new session");
ABSL_FLAG(int64_t, batch_rows, 4096, "rows per Ingest message");
ABSL_FLAG(int, score_calls, 5000, "single-row Score calls timed (after 200 warm-up calls)");
ABSL_FLAG(int, label_rounds, 0,
          "feedback rounds timed on the trained session: the top candidate labelled (every "
          "third an anomaly), SubmitLabels waiting for its model; 0: none");

namespace {

using Clock = std::chrono::steady_clock;

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "client_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t rows = absl::GetFlag(FLAGS_rows);
  const int dims = absl::GetFlag(FLAGS_dims);
  std::vector<float> values(static_cast<size_t>(rows) * dims);
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  for (float& v : values) v = normal(gen);

  aad::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_server);
  options.ingest_batch_rows = absl::GetFlag(FLAGS_batch_rows);
  aad::AadClient client(options);
  aad::v1::CreateSessionRequest create;
  create.mutable_config()->set_seed(1);
  create.mutable_config()->set_pretrain_epochs(1);

  std::vector<double> ingest_rows_per_s;
  std::vector<std::string> sessions;
  for (int rep = 0; rep < absl::GetFlag(FLAGS_reps); ++rep) {
    auto info = client.CreateSession(create);
    if (!info.ok()) return Fail("create", info.status());
    sessions.push_back(info->session_id());
    const auto t0 = Clock::now();
    auto reply = client.Ingest(info->session_id(), values, dims);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!reply.ok()) return Fail("ingest", reply.status());
    ingest_rows_per_s.push_back(rows / seconds);
  }

  const std::string& id = sessions.back();
  if (auto version = client.Train(id); !version.ok()) return Fail("train", version.status());
  std::vector<double> ms;
  const int calls = absl::GetFlag(FLAGS_score_calls);
  for (int c = -200; c < calls; ++c) {
    const int64_t row = (c + 200) % rows;
    const auto t0 = Clock::now();
    auto r = client.ScoreRows(id, absl::MakeConstSpan(values.data() + row * dims, dims), dims);
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!r.ok()) return Fail("score", r.status());
    if (c >= 0) ms.push_back(elapsed);
  }
  std::vector<double> round_ms;
  for (int r = 0; r < absl::GetFlag(FLAGS_label_rounds); ++r) {
    auto top = client.GetQueryCandidates(id, 1);
    if (!top.ok()) return Fail("candidates", top.status());
    if (top->row_ids().empty()) break;
    const auto t0 = Clock::now();
    auto labelled = client.SubmitLabels(id, {{top->row_ids(0), r % 3 == 0}},
                                        /*wait_for_model=*/true);
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!labelled.ok()) return Fail("labels", labelled.status());
    round_ms.push_back(elapsed);
  }
  for (const std::string& s : sessions) {
    if (absl::Status st = client.DeleteSession(s); !st.ok()) return Fail("delete", st);
  }
  std::string rounds;
  if (!round_ms.empty()) {
    rounds = absl::StrFormat(",\"label_rounds\":%d,\"label_round_p50_ms\":%.2f,"
                             "\"label_round_p95_ms\":%.2f",
                             static_cast<int>(round_ms.size()), Quantile(round_ms, 0.5),
                             Quantile(round_ms, 0.95));
  }
  std::printf(
      "{\"client\":\"C++\",\"rows\":%lld,\"dims\":%d,\"ingest_rows_per_s\":[%s],"
      "\"score_calls\":%d,\"score_p50_ms\":%.4f,\"score_p99_ms\":%.4f%s}\n",
      static_cast<long long>(rows), dims,
      absl::StrJoin(ingest_rows_per_s, ",",
                    [](std::string* out, double v) { absl::StrAppend(out, static_cast<int64_t>(v)); })
          .c_str(),
      calls, Quantile(ms, 0.5), Quantile(ms, 0.99), rounds.c_str());
  return 0;
}

// takeover-bench: how long the sessions of a dead replica are out of service
// on a shared PostgreSQL store (issue 15; bench/README.md, "Several
// replicas"). Two aadd processes, A and B, on the --postgres store, with
// --lease_seconds. A session of --rows x --features synthetic rows is
// ingested into A through the C++ client and trained, with ten labels; A is
// SIGKILLed; B is then asked (ScoreRows of --probe_rows pool rows, every
// --poll_ms) until it serves the session. Printed:
//   kill -> served   from the SIGKILL to the first answered call on B;
//   lapse -> served  the same less --lease_seconds: A's lease lapsed at
//                    most --lease_seconds after the kill (its last renewal
//                    came before it), so this bounds the takeover from below;
//   serving call     the latency of that call alone: B takes the lease,
//                    loads the session from PostgreSQL and rebuilds it;
//   B's log line     "took over (epoch N, previous holder ...) in X ms: ...",
//                    the server's own break-down (load, rebuild).
// The scores B gives are checked bit-identical to A's before the kill.
//
// The database must exist and be empty; bench/takeover_bench.sh makes a
// PostgreSQL 15 cluster for it in a temporary directory.
//   takeover-bench --postgres=postgresql://USER@HOST:PORT/DB [--rows=1048576]
//                  [--features=32] [--lease_seconds=10] [--dir=DIR]
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "bench/aadd_child.h"
#include "client/aad_client.h"
#include "core/data/synthetic.h"

ABSL_FLAG(std::string, postgres, "", "libpq URI of an empty database (required)");
ABSL_FLAG(int64_t, rows, 1 << 20, "rows of the session taken over");
ABSL_FLAG(int, features, 32, "features per row");
ABSL_FLAG(int, lease_seconds, 10, "aadd --lease_seconds of both replicas");
ABSL_FLAG(int, training_threads, 2, "aadd --training_threads of both replicas");
ABSL_FLAG(int, probe_rows, 1000, "pool rows scored by each call to B");
ABSL_FLAG(int, poll_ms, 10, "pause between calls to B while it answers UNAVAILABLE");
ABSL_FLAG(std::string, dir, "",
          "where the replicas' logs go (default: a new temporary directory, removed after)");
ABSL_FLAG(std::string, aadd, AADD_BINARY, "the aadd binary");

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "takeover-bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

std::unique_ptr<aad::AadClient> ClientOf(int port, int attempts) {
  aad::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.timeout = std::chrono::seconds(600);
  options.max_attempts = attempts;
  return std::make_unique<aad::AadClient>(options);
}

absl::Status StartReplica(const std::string& name, const std::string& dir,
                          aad::bench::AaddChild* child) {
  return child->Start(absl::GetFlag(FLAGS_aadd),
                      {absl::StrCat("--store=", absl::GetFlag(FLAGS_postgres)),
                       absl::StrCat("--replica_id=", name),
                       absl::StrCat("--lease_seconds=", absl::GetFlag(FLAGS_lease_seconds)),
                       absl::StrCat("--training_threads=", absl::GetFlag(FLAGS_training_threads)),
                       "--drain_seconds=0"},
                      absl::StrCat(dir, "/", name, ".log"));
}

// The last line of `log` containing `text`; "" when none does.
std::string LastLineWith(const std::string& log, const std::string& text) {
  const size_t at = log.rfind(text);
  if (at == std::string::npos) return "";
  const size_t begin = log.rfind('\n', at) == std::string::npos ? 0 : log.rfind('\n', at) + 1;
  const size_t end = log.find('\n', at);
  return log.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

bool SameBits(const aad::v1::ScoreResponse& a, const aad::v1::ScoreResponse& b) {
  return a.p_size() == b.p_size() && a.model_version() == b.model_version() &&
         std::memcmp(a.p().data(), b.p().data(), sizeof(float) * a.p_size()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_postgres).empty()) {
    std::fprintf(stderr, "takeover-bench: --postgres=postgresql://... is required "
                         "(bench/takeover_bench.sh starts a PostgreSQL for it)\n");
    return 2;
  }
  std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    dir = (std::filesystem::temp_directory_path() / "aadd-takeover-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) return std::perror("mkdtemp"), 1;
  }
  const int lease = absl::GetFlag(FLAGS_lease_seconds);
  aad::SyntheticOptions so;
  so.rows = absl::GetFlag(FLAGS_rows);
  so.dims = absl::GetFlag(FLAGS_features);
  auto data = aad::MakeLowDensityAnomalies(so);
  if (!data.ok()) return Fail("data", data.status());

  aad::bench::AaddChild a, b;
  if (auto s = StartReplica("A", dir, &a); !s.ok()) return Fail("replica A", s);
  if (auto s = StartReplica("B", dir, &b); !s.ok()) return Fail("replica B", s);
  auto to_a = ClientOf(a.port(), 4);

  // The session on A (a short pre-training, as transfer-bench: its length
  // does not change what is loaded and rebuilt), ten labels.
  const std::string id = "taken-over";
  aad::v1::CreateSessionRequest create;
  create.set_session_id(id);
  create.mutable_config()->set_pretrain_epochs(1);
  create.mutable_config()->set_max_pretrain_rows(65536);
  create.mutable_config()->set_seed(1);
  if (auto info = to_a->CreateSession(create); !info.ok()) return Fail("create", info.status());
  const auto ingest_start = Clock::now();
  const auto values = absl::MakeConstSpan(data->features.data(), data->features.size());
  if (auto r = to_a->Ingest(id, values, data->dims()); !r.ok()) return Fail("ingest", r.status());
  const double ingest_s = Seconds(ingest_start, Clock::now());
  const auto train_start = Clock::now();
  if (auto r = to_a->Train(id); !r.ok()) return Fail("train", r.status());
  const double train_s = Seconds(train_start, Clock::now());
  auto top = to_a->GetQueryCandidates(id, 10);
  if (!top.ok()) return Fail("candidates", top.status());
  std::vector<std::pair<int64_t, bool>> labels;
  for (int64_t row : top->row_ids()) labels.push_back({row, data->labels[row] == 1});
  if (auto r = to_a->SubmitLabels(id, labels, true); !r.ok()) return Fail("labels", r.status());
  std::vector<int64_t> probe(std::min<int64_t>(absl::GetFlag(FLAGS_probe_rows), data->rows()));
  for (size_t i = 0; i < probe.size(); ++i) probe[i] = static_cast<int64_t>(i);
  auto before = to_a->ScorePoolRows(id, probe);
  if (!before.ok()) return Fail("score on A", before.status());
  auto info = to_a->GetSession(id);
  if (!info.ok()) return Fail("session on A", info.status());
  to_a.reset();
  std::printf("session: %lld rows x %lld features, %lld labels, model version %lld\n",
              static_cast<long long>(info->rows()), static_cast<long long>(info->feature_count()),
              static_cast<long long>(info->labels()),
              static_cast<long long>(info->model_version()));
  std::printf("on A: ingest %.2f s (%.0f k rows/s), train %.2f s\n", ingest_s,
              data->rows() / ingest_s / 1e3, train_s);
  std::fflush(stdout);

  // The crash, then B until it serves.
  auto to_b = ClientOf(b.port(), 1);
  const auto killed_at = Clock::now();
  a.Kill();
  int refused = 0;
  absl::StatusOr<aad::v1::ScoreResponse> served = absl::UnknownError("not asked");
  Clock::time_point call_start, call_end;
  const auto deadline = killed_at + std::chrono::seconds(lease + 600);
  for (;;) {
    call_start = Clock::now();
    served = to_b->ScorePoolRows(id, probe);
    call_end = Clock::now();
    if (served.ok()) break;
    if (served.status().code() != absl::StatusCode::kUnavailable || call_end > deadline) {
      return Fail(absl::StrCat("B after ", refused, " UNAVAILABLE answers (an aadd without "
                               "leases answers NOT_FOUND here)"),
                  served.status());
    }
    ++refused;
    std::this_thread::sleep_for(std::chrono::milliseconds(absl::GetFlag(FLAGS_poll_ms)));
  }
  if (!SameBits(*before, *served)) {
    return Fail("check", absl::InternalError("B scores the session differently from A"));
  }
  const double served_s = Seconds(killed_at, call_end);
  const std::string took_over = LastLineWith(b.Log(), absl::StrCat("[session ", id, "] took over"));

  std::printf("lease: %d s; B answered UNAVAILABLE %d times (every %d ms) before serving\n", lease,
              refused, absl::GetFlag(FLAGS_poll_ms));
  std::printf("kill -> served on B: %.3f s\n", served_s);
  std::printf("lapse (kill + lease) -> served: %.3f s\n", served_s - lease);
  std::printf("serving call (lease taken, load from PostgreSQL, rebuild, %zu rows scored): %.3f s\n",
              probe.size(), Seconds(call_start, call_end));
  std::printf("B's log: %s\n", took_over.empty() ? "(no 'took over' line)" : took_over.c_str());
  std::printf("scores of %zu pool rows on B bit-identical to A's before the kill\n", probe.size());
  to_b.reset();
  b.Stop();
  if (absl::GetFlag(FLAGS_dir).empty()) std::filesystem::remove_all(dir);
  return 0;
}

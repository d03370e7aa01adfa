// soak_bench: aadd under a steady load of whole sessions for --minutes
// (bench/README.md, "Soak"; issue 17). Starts the aadd binary (a SQLite
// store in a temporary directory, or --store=memory), so that the resident
// memory it samples every --rss_interval_s seconds (VmRSS of
// /proc/PID/status) is the server's alone, and runs over loopback:
//
//   --clients load clients, each with its own session and AadClient, each
//     cycling: Ingest (until the pool holds --rows_per_session rows; the
//     first --small_rows rows of each cycle in batches of 1-6 rows, the
//     rest in batches of --batch_rows), Train (the first cycle after rows
//     arrive, then every --train_every cycles), GetQueryCandidates (k =
//     --k), SubmitLabels of those candidates by the synthetic ground truth
//     (every 4th round waits for the model), Score of pool rows and of
//     inline rows, GetSession (whose row count must be the client's). Once
//     the session holds --max_labels labelled rows, each round revises k
//     earlier verdicts instead (the same verdicts again: a feedback round
//     all the same), so pools and labelled rows stop growing and every
//     method runs to the end; with --recycle the session is deleted then and
//     a new one created instead;
//   one latency client scoring single inline rows of its own trained
//     session every --score_interval_ms, recording each call's latency.
//
// It prints each RSS sample as it is taken and at the end: errors (must be
// 0; the exit status is 1 otherwise), expected refusals (a Train answered
// FAILED_PRECONDITION because a run of the session is in progress, which
// the protocol allows: the client trains at a later cycle), single-row Score
// p50/p99/max under load, calls per second by method and the RSS samples.
// Bounded: --minutes, at most --clients + 1 live sessions of at most
// --rows_per_session rows and --max_labels labelled rows, every call with a
// deadline. (The store's label history grows by k records a round: on disk
// with SQLite.)
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "bench/aadd_child.h"
#include "client/aad_client.h"
#include "core/data/synthetic.h"

ABSL_FLAG(std::string, aadd, AADD_BINARY, "the aadd binary to run");
ABSL_FLAG(std::vector<std::string>, aadd_flags, {"--drain_seconds=0"},
          "more flags for aadd, comma-separated (an older aadd without --drain_seconds: \"\")");
ABSL_FLAG(std::string, store, "sqlite", "sqlite (a --data_dir in --dir) or memory (--in_memory)");
ABSL_FLAG(std::string, dir, "", "data directory and aadd.log (default: a new temporary one)");
ABSL_FLAG(bool, keep_dir, false, "keep --dir (the store and the server's log) at the end");
ABSL_FLAG(int, clients, 32, "load clients, each with its own session");
ABSL_FLAG(double, minutes, 10, "length of the load");
ABSL_FLAG(int64_t, rows_per_session, 20000, "pool size at which a client stops ingesting");
ABSL_FLAG(int, dims, 16, "features per row");
ABSL_FLAG(int64_t, ingest_rows, 200, "rows ingested per cycle while the pool is not full");
ABSL_FLAG(int64_t, small_rows, 100, "of those, rows sent in batches of 1-6 rows");
ABSL_FLAG(int64_t, batch_rows, 100, "rows per batch of the rest");
ABSL_FLAG(int, train_every, 25, "cycles between full Train runs of a session");
ABSL_FLAG(int, k, 5, "candidates asked for, and labelled, per round");
ABSL_FLAG(int64_t, max_labels, 500,
          "labelled rows per session; then it is recycled (--recycle) or its labels are revised");
ABSL_FLAG(bool, recycle, false, "delete a session at --max_labels and start a new one");
ABSL_FLAG(int, think_ms, 0, "pause of each load client between cycles (0: back to back)");
ABSL_FLAG(int, score_rows, 10, "pool rows and inline rows scored per cycle");
ABSL_FLAG(int, score_interval_ms, 2, "pause between the latency client's single-row scores");
ABSL_FLAG(int, rss_interval_s, 10, "seconds between samples of the server's VmRSS");
ABSL_FLAG(int, training_threads, 2, "aadd --training_threads");
ABSL_FLAG(int, pretrain_epochs, 1, "session config: pre-training epochs");
ABSL_FLAG(int, hidden_units, 8, "session config: hidden units");
ABSL_FLAG(int, latent_units, 4, "session config: latent units");
ABSL_FLAG(int64_t, max_pretrain_rows, 4096, "session config: rows pre-trained on");
ABSL_FLAG(int, forest_trees, 50, "session config: Isolation Forest trees");
ABSL_FLAG(int, finetune_steps, 10, "session config: fine-tuning steps per label round");
ABSL_FLAG(int, timeout_s, 120, "deadline of every call (Train too)");

namespace {

using Clock = std::chrono::steady_clock;

enum Method { kCreate, kIngest, kTrain, kCandidates, kLabel, kScorePool, kScoreInline,
              kGetSession, kDelete, kLatencyScore, kMethods };
constexpr std::array<const char*, kMethods> kMethodNames = {
    "CreateSession", "Ingest", "Train", "GetQueryCandidates", "SubmitLabels",
    "Score (pool rows)", "Score (inline rows)", "GetSession", "DeleteSession",
    "Score (1 row, latency client)"};

struct Counters {
  std::array<std::atomic<int64_t>, kMethods> ok{};
  std::array<std::atomic<int64_t>, kMethods> refused{};
  std::array<std::atomic<int64_t>, kMethods> errors{};
  std::atomic<int64_t> rows_ingested{0};
  std::atomic<int64_t> labels_sent{0};
  std::atomic<int64_t> relabels_sent{0};  // of labels_sent: verdicts given again
  std::atomic<int64_t> sessions_recycled{0};
  std::atomic<int64_t> live_rows{0};  // rows in the live sessions
  std::mutex mu;
  std::vector<std::string> first_errors;  // guarded by mu (the first 20)
};

Counters counters;

void RecordError(Method m, const std::string& what) {
  counters.errors[m].fetch_add(1);
  std::lock_guard<std::mutex> lock(counters.mu);
  if (counters.first_errors.size() < 20) {
    counters.first_errors.push_back(absl::StrCat(kMethodNames[m], ": ", what));
    std::fprintf(stderr, "soak: error: %s: %s\n", kMethodNames[m], what.c_str());
  }
}

// OK: counted. An error: recorded, false.
bool Check(Method m, const absl::Status& status) {
  if (status.ok()) {
    counters.ok[m].fetch_add(1);
    return true;
  }
  RecordError(m, status.ToString());
  return false;
}

aad::v1::CreateSessionRequest SessionRequest(int dims, uint64_t seed) {
  aad::v1::CreateSessionRequest create;
  create.set_feature_count(dims);
  aad::v1::SessionConfig* c = create.mutable_config();
  c->set_seed(seed);
  c->set_pretrain_epochs(absl::GetFlag(FLAGS_pretrain_epochs));
  c->set_hidden_units(absl::GetFlag(FLAGS_hidden_units));
  c->set_latent_units(absl::GetFlag(FLAGS_latent_units));
  c->set_max_pretrain_rows(absl::GetFlag(FLAGS_max_pretrain_rows));
  c->set_forest_trees(absl::GetFlag(FLAGS_forest_trees));
  c->set_finetune_steps(absl::GetFlag(FLAGS_finetune_steps));
  return create;
}

// One load client: its own connection, one live session at a time.
class LoadClient {
 public:
  LoadClient(int index, const std::string& target, Clock::time_point deadline)
      : index_(index), deadline_(deadline), gen_(1000 + index) {
    aad::ClientOptions options;
    options.target = target;
    options.timeout = std::chrono::seconds(absl::GetFlag(FLAGS_timeout_s));
    options.train_timeout = options.timeout;
    client_ = std::make_unique<aad::AadClient>(options);
    aad::SyntheticOptions so;
    so.rows = absl::GetFlag(FLAGS_rows_per_session);
    so.dims = absl::GetFlag(FLAGS_dims);
    so.seed = static_cast<uint64_t>(index + 1);
    auto data = aad::MakeClusteredAnomalies(so);
    if (!data.ok()) std::abort();
    data_ = *std::move(data);
  }

  void Run() {
    while (Clock::now() < deadline_) {
      if (session_.empty() && !NewSession()) return;
      Cycle();
      if (const int think = absl::GetFlag(FLAGS_think_ms); think > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(think));
      }
    }
  }

  // Rows of the live session (for the live-row count at the end).
  int64_t rows() const { return rows_; }

 private:
  bool NewSession() {
    auto info = client_->CreateSession(SessionRequest(data_.dims(), ++generation_ * 100 + index_));
    if (!Check(kCreate, info.status())) return false;
    session_ = info->session_id();
    rows_ = 0;
    labels_ = 0;
    labelled_.clear();
    cycle_ = 0;
    trained_ = false;
    return true;
  }

  void Cycle() {
    ++cycle_;
    const int64_t full = data_.rows();
    const int dims = static_cast<int>(data_.dims());
    if (rows_ < full) Ingest(std::min(full, rows_ + absl::GetFlag(FLAGS_ingest_rows)));
    if (!trained_ || cycle_ % absl::GetFlag(FLAGS_train_every) == 0) Train();
    if (trained_) {
      const int k = absl::GetFlag(FLAGS_k);
      auto candidates = client_->GetQueryCandidates(session_, k);
      std::vector<std::pair<int64_t, bool>> labels;
      if (Check(kCandidates, candidates.status())) {
        for (int64_t id : candidates->row_ids()) {
          if (id < 0 || id >= rows_) {
            RecordError(kCandidates, absl::StrCat("candidate row id ", id, " outside the ",
                                                  rows_, " rows ingested"));
            return;
          }
          if (labels_ < absl::GetFlag(FLAGS_max_labels)) {
            labels.emplace_back(id, data_.labels[static_cast<size_t>(id)] != 0);
          }
        }
      }
      bool relabel = false;
      if (labels.empty() && !labelled_.empty()) {
        // At --max_labels (not recycling): the expert revises earlier
        // verdicts, the same ones again. Each is a feedback round like a
        // new label; the session's labelled rows stay bounded.
        relabel = true;
        std::uniform_int_distribution<size_t> pick(0, labelled_.size() - 1);
        for (int i = 0; i < k; ++i) {
          const int64_t id = labelled_[pick(gen_)];
          labels.emplace_back(id, data_.labels[static_cast<size_t>(id)] != 0);
        }
      }
      if (!labels.empty()) {
        const bool wait = ++label_rounds_ % 4 == 0;
        auto reply = client_->SubmitLabels(session_, labels, wait);
        if (Check(kLabel, reply.status())) {
          counters.labels_sent.fetch_add(static_cast<int64_t>(labels.size()));
          if (relabel) counters.relabels_sent.fetch_add(static_cast<int64_t>(labels.size()));
          if (!relabel) {
            for (const auto& l : labels) labelled_.push_back(l.first);
          }
          labels_ = reply->labels();
        }
      }
      const int n = absl::GetFlag(FLAGS_score_rows);
      std::vector<int64_t> ids;
      std::uniform_int_distribution<int64_t> row(0, rows_ - 1);
      for (int i = 0; i < n; ++i) ids.push_back(row(gen_));
      auto pool = client_->ScorePoolRows(session_, ids);
      if (Check(kScorePool, pool.status()) && pool->p_size() != n) {
        RecordError(kScorePool, absl::StrCat(pool->p_size(), " scores for ", n, " rows"));
      }
      const int64_t first = row(gen_) % std::max<int64_t>(1, rows_ - n);
      auto inline_rows = client_->ScoreRows(
          session_, absl::MakeConstSpan(data_.features.data() + first * dims, n * dims), dims);
      if (Check(kScoreInline, inline_rows.status()) && inline_rows->p_size() != n) {
        RecordError(kScoreInline, absl::StrCat(inline_rows->p_size(), " scores for ", n, " rows"));
      }
    }
    auto info = client_->GetSession(session_);
    if (Check(kGetSession, info.status()) && info->rows() != rows_) {
      RecordError(kGetSession, absl::StrCat("session ", session_, " holds ", info->rows(),
                                            " rows, the client ingested ", rows_));
    }
    if (absl::GetFlag(FLAGS_recycle) && labels_ >= absl::GetFlag(FLAGS_max_labels)) {
      if (Check(kDelete, client_->DeleteSession(session_))) {
        counters.live_rows.fetch_sub(rows_);
        counters.sessions_recycled.fetch_add(1);
        rows_ = 0;
      }
      session_.clear();
    }
  }

  // Sends rows [rows_, to) on one stream.
  void Ingest(int64_t to) {
    const int dims = static_cast<int>(data_.dims());
    std::vector<aad::v1::IngestRequest> messages;
    std::uniform_int_distribution<int64_t> small(1, 6);
    const int64_t small_end = std::min(to, rows_ + absl::GetFlag(FLAGS_small_rows));
    for (int64_t first = rows_; first < to;) {
      const int64_t len = std::min(
          to - first, first < small_end ? std::min(small(gen_), small_end - first)
                                        : std::max<int64_t>(1, absl::GetFlag(FLAGS_batch_rows)));
      aad::v1::IngestRequest m;
      m.set_session_id(session_);
      m.set_batch_id(absl::StrFormat("%s-%d", session_.substr(0, 16), first));
      m.set_feature_count(dims);
      m.mutable_values()->Assign(data_.features.data() + first * dims,
                                 data_.features.data() + (first + len) * dims);
      messages.push_back(std::move(m));
      first += len;
    }
    auto reply = client_->IngestMessages(session_, messages);
    if (!Check(kIngest, reply.status())) return;
    if (reply->total_rows() != to) {
      RecordError(kIngest, absl::StrCat("session ", session_, " holds ", reply->total_rows(),
                                        " rows after an ingest up to ", to));
    }
    counters.rows_ingested.fetch_add(to - rows_);
    counters.live_rows.fetch_add(to - rows_);
    rows_ = to;
  }

  void Train() {
    auto version = client_->Train(session_);
    if (version.ok()) {
      counters.ok[kTrain].fetch_add(1);
      trained_ = true;
      return;
    }
    // One run per session at a time: a run still going (a label update's
    // refit does not count) refuses the next; train again at a later cycle.
    if (version.status().code() == absl::StatusCode::kFailedPrecondition &&
        absl::StrContains(version.status().message(), "already training")) {
      counters.refused[kTrain].fetch_add(1);
      return;
    }
    RecordError(kTrain, version.status().ToString());
  }

  const int index_;
  const Clock::time_point deadline_;
  std::mt19937_64 gen_;
  std::unique_ptr<aad::AadClient> client_;
  aad::Dataset data_;
  std::string session_;
  int64_t generation_ = 0;
  int64_t rows_ = 0;
  int64_t labels_ = 0;
  std::vector<int64_t> labelled_;  // rows labelled in this session
  int64_t cycle_ = 0;
  int64_t label_rounds_ = 0;
  bool trained_ = false;
};

double Quantile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * (sorted.size() - 1) + 0.5))];
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "soak: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string store = absl::GetFlag(FLAGS_store);
  if (store != "sqlite" && store != "memory") {
    std::fprintf(stderr, "soak: --store is sqlite or memory, got '%s'\n", store.c_str());
    return 2;
  }
  std::filesystem::path dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    char tmpl[] = "/tmp/aadd-soak-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Fail("mkdtemp", absl::InternalError(tmpl));
    dir = tmpl;
  }
  std::filesystem::create_directories(dir);
  std::vector<std::string> args = {
      absl::StrCat("--training_threads=", absl::GetFlag(FLAGS_training_threads)),
      absl::StrCat("--max_sessions=", absl::GetFlag(FLAGS_clients) + 10)};
  args.push_back(store == "memory" ? std::string("--in_memory")
                                   : absl::StrCat("--data_dir=", (dir / "data").string()));
  for (const std::string& f : absl::GetFlag(FLAGS_aadd_flags)) {
    if (!f.empty()) args.push_back(f);
  }
  aad::bench::AaddChild server;
  if (absl::Status st = server.Start(absl::GetFlag(FLAGS_aadd), args, (dir / "aadd.log").string());
      !st.ok()) {
    return Fail("start aadd", st);
  }
  const std::string target = absl::StrCat("127.0.0.1:", server.port());
  const int dims = absl::GetFlag(FLAGS_dims);
  std::printf("soak: aadd pid %d on %s, %s store in %s; %d clients for %.1f min\n", server.pid(),
              target.c_str(), store.c_str(), dir.c_str(), absl::GetFlag(FLAGS_clients),
              absl::GetFlag(FLAGS_minutes));
  std::printf("soak: rss at start %.1f MiB\n", server.ResidentBytes() / 1048576.0);

  // The latency client's session, trained before the load starts.
  aad::ClientOptions lo;
  lo.target = target;
  lo.timeout = std::chrono::seconds(absl::GetFlag(FLAGS_timeout_s));
  aad::AadClient probe(lo);
  aad::SyntheticOptions so;
  so.rows = 5000;
  so.dims = dims;
  so.seed = 999;
  auto probe_data = aad::MakeClusteredAnomalies(so);
  if (!probe_data.ok()) return Fail("data", probe_data.status());
  auto probe_info = probe.CreateSession(SessionRequest(dims, 999));
  if (!probe_info.ok()) return Fail("create", probe_info.status());
  const std::string probe_id = probe_info->session_id();
  {
    absl::Span<const float> all(probe_data->features.data(), probe_data->features.size());
    if (auto r = probe.Ingest(probe_id, all, dims); !r.ok()) return Fail("ingest", r.status());
    if (auto v = probe.Train(probe_id); !v.ok()) return Fail("train", v.status());
  }

  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::milliseconds(static_cast<int64_t>(absl::GetFlag(FLAGS_minutes) * 60e3));
  std::vector<std::unique_ptr<LoadClient>> clients;
  for (int i = 0; i < absl::GetFlag(FLAGS_clients); ++i) {
    clients.push_back(std::make_unique<LoadClient>(i, target, deadline));
  }
  std::vector<std::thread> threads;
  for (auto& c : clients) threads.emplace_back([&c] { c->Run(); });

  std::vector<double> latency_ms;
  std::thread latency([&] {
    const int interval = absl::GetFlag(FLAGS_score_interval_ms);
    for (int64_t i = 0; Clock::now() < deadline; ++i) {
      const int64_t row = i % probe_data->rows();
      const auto t0 = Clock::now();
      auto r = probe.ScoreRows(
          probe_id, absl::MakeConstSpan(probe_data->features.data() + row * dims, dims), dims);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (Check(kLatencyScore, r.status())) latency_ms.push_back(ms);
      if (interval > 0) std::this_thread::sleep_for(std::chrono::milliseconds(interval));
    }
  });

  struct Sample {
    double t_s;
    int64_t rss, live_rows, rows, labels, calls;
  };
  std::vector<Sample> samples;
  auto sample = [&] {
    int64_t calls = 0;
    for (int m = 0; m < kMethods; ++m) calls += counters.ok[m].load();
    Sample s{std::chrono::duration<double>(Clock::now() - start).count(), server.ResidentBytes(),
             counters.live_rows.load(), counters.rows_ingested.load(),
             counters.labels_sent.load(), calls};
    samples.push_back(s);
    std::printf("soak: t=%5.0f s  rss %7.1f MiB  live rows %8lld  ingested %9lld  labels %7lld  "
                "calls %9lld\n",
                s.t_s, s.rss / 1048576.0, static_cast<long long>(s.live_rows),
                static_cast<long long>(s.rows), static_cast<long long>(s.labels),
                static_cast<long long>(s.calls));
    std::fflush(stdout);
  };
  sample();
  const auto interval = std::chrono::seconds(absl::GetFlag(FLAGS_rss_interval_s));
  for (auto next = start + interval; next < deadline; next += interval) {
    std::this_thread::sleep_until(next);
    sample();
  }
  for (std::thread& t : threads) t.join();
  latency.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sample();

  // Shutdown: SIGTERM, timed.
  const auto stop0 = Clock::now();
  const int status = server.Stop();
  const double stop_s = std::chrono::duration<double>(Clock::now() - stop0).count();

  int64_t errors = 0, refused = 0;
  std::printf("\nsoak: %.1f s of load, %d clients (+1 latency client), %s store, %d dims, "
              "sessions of %lld rows and %lld labels, %lld sessions recycled\n",
              seconds, absl::GetFlag(FLAGS_clients), store.c_str(), dims,
              static_cast<long long>(absl::GetFlag(FLAGS_rows_per_session)),
              static_cast<long long>(absl::GetFlag(FLAGS_max_labels)),
              static_cast<long long>(counters.sessions_recycled.load()));
  std::printf("| method | calls | calls/s | expected refusals | errors |\n|---|---|---|---|---|\n");
  for (int m = 0; m < kMethods; ++m) {
    errors += counters.errors[m].load();
    refused += counters.refused[m].load();
    std::printf("| %s | %lld | %.1f | %lld | %lld |\n", kMethodNames[m],
                static_cast<long long>(counters.ok[m].load()), counters.ok[m].load() / seconds,
                static_cast<long long>(counters.refused[m].load()),
                static_cast<long long>(counters.errors[m].load()));
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  std::printf("\nsoak: single-row Score under load: %zu calls, p50 %.3f ms, p99 %.3f ms, "
              "max %.3f ms\n",
              latency_ms.size(), Quantile(latency_ms, 0.5), Quantile(latency_ms, 0.99),
              latency_ms.empty() ? 0.0 : latency_ms.back());
  std::printf("soak: rows ingested %lld (%.0f/s), labels sent %lld (%lld of them revisions)\n",
              static_cast<long long>(counters.rows_ingested.load()),
              counters.rows_ingested.load() / seconds,
              static_cast<long long>(counters.labels_sent.load()),
              static_cast<long long>(counters.relabels_sent.load()));
  std::printf("soak: rss every %d s (MiB):", absl::GetFlag(FLAGS_rss_interval_s));
  for (const Sample& s : samples) std::printf(" %.0f", s.rss / 1048576.0);
  std::printf("\nsoak: aadd exited %s %d %.2f s after SIGTERM\n",
              WIFEXITED(status) ? "with status" : "by signal",
              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), stop_s);
  std::printf("soak: errors %lld, expected refusals %lld\n", static_cast<long long>(errors),
              static_cast<long long>(refused));
  for (const std::string& e : counters.first_errors) std::printf("soak:   %s\n", e.c_str());
  if (!absl::GetFlag(FLAGS_keep_dir) && absl::GetFlag(FLAGS_dir).empty()) {
    std::filesystem::remove_all(dir);
  }
  return errors == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

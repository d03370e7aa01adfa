// score_bench: scoring throughput and latency over loopback gRPC (the real
// server in-process, a client on a loopback channel) against the core
// scoring the same model on the same rows in-process. The server and the
// in-process learner train with the same configuration and seed, so the
// models are identical (checked: the scores must match). --metrics_cost
// compares a server with metrics on against one with them off instead.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "core/active/active_learner.h"
#include "core/active/pool_scores.h"
#include "core/data/synthetic.h"
#include "server/log.h"
#include "server/server.h"
#include "server/tls/tls_files.h"

ABSL_FLAG(int64_t, rows, 20000, "pool rows (synthetic, low-density anomalies)");
ABSL_FLAG(int, dims, 16, "features per row");
ABSL_FLAG(int64_t, rows_per_size, 200000, "rows scored per batch size and path");
ABSL_FLAG(int, pretrain_epochs, 5, "pre-training epochs of the model scored");
// TLS cost (issue 14, bench/README.md "TLS cost"): with --tls_cert, a
// plaintext and a TLS server side by side instead of the table above.
ABSL_FLAG(std::string, tls_cert, "", "TLS comparison: the server's certificate (PEM)");
ABSL_FLAG(std::string, tls_key, "", "TLS comparison: its private key");
ABSL_FLAG(std::string, tls_ca, "", "TLS comparison: the CA the client trusts");
ABSL_FLAG(int, tls_rounds, 7, "TLS comparison: interleaved rounds (order alternates)");
ABSL_FLAG(int64_t, tls_single_calls, 3000, "TLS comparison: single-row calls a round and path");
ABSL_FLAG(int64_t, tls_batch_calls, 25, "TLS comparison: 4096-row calls a round and path");
// Issue 14: the cost of the metrics (the gRPC interceptor) on Score.
ABSL_FLAG(bool, metrics_cost, false,
          "instead of the table above: two servers, metrics on and off, the same model; "
          "single-row latency and batch-4096 rows/s, interleaved repetitions, and the ratios");
ABSL_FLAG(int, repetitions, 5, "--metrics_cost: interleaved repetitions (order alternates)");

namespace {

struct Stats {
  double rows_per_second = 0, p50_ms = 0, p99_ms = 0;
};

Stats Summarise(std::vector<double> ms, int64_t rows, double seconds) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * (ms.size() - 1) + 0.5))]; };
  return {rows / seconds, at(0.5), at(0.99)};
}

template <typename F>
Stats Run(int64_t batch, int64_t total_rows, const aad::Dataset& data, F score) {
  using Clock = std::chrono::steady_clock;
  const int64_t calls = std::max<int64_t>(1, total_rows / batch);
  std::vector<double> ms;
  ms.reserve(calls);
  const int64_t n = data.rows();
  // Warm-up call (connections, buffers).
  score(data.features.data(), std::min(batch, n));
  const auto start = Clock::now();
  for (int64_t c = 0; c < calls; ++c) {
    const int64_t first = (c * batch) % std::max<int64_t>(1, n - batch);
    const auto t0 = Clock::now();
    score(data.features.data() + first * data.dims(), batch);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return Summarise(std::move(ms), calls * batch, seconds);
}

// --- TLS and metrics cost (issue 14) -----------------------------------------

// A server (plaintext when `tls` is unset; metrics on or off) with one
// session trained on `data` with seed 1: the same model on every such
// server.
struct Served {
  std::unique_ptr<aad::AaddServer> server;
  std::unique_ptr<aad::AadClient> client;
  std::string session_id;
};

absl::StatusOr<Served> Serve(const aad::Dataset& data, std::optional<aad::TlsFiles> tls,
                             const std::string& ca, bool metrics = true) {
  Served served;
  aad::ServerOptions options;
  options.address = "127.0.0.1:0";
  const bool with_tls = tls.has_value();
  options.tls = std::move(tls);
  options.metrics = metrics;
  auto server = aad::AaddServer::Start(options);
  if (!server.ok()) return server.status();
  served.server = *std::move(server);
  aad::ClientOptions co;
  co.target = absl::StrCat("127.0.0.1:", served.server->port());
  if (with_tls) {
    co.tls_ca_file = ca;
    co.tls_server_name = "localhost";
  }
  auto client = aad::AadClient::Create(co);
  if (!client.ok()) return client.status();
  served.client = *std::move(client);
  aad::v1::CreateSessionRequest create;
  create.mutable_config()->set_pretrain_epochs(absl::GetFlag(FLAGS_pretrain_epochs));
  create.mutable_config()->set_seed(1);
  auto info = served.client->CreateSession(create);
  if (!info.ok()) return info.status();
  served.session_id = info->session_id();
  const auto values = absl::MakeConstSpan(data.features.data(), data.features.size());
  if (absl::Status s = served.client->Ingest(served.session_id, values, data.dims()).status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s = served.client->Train(served.session_id).status(); !s.ok()) return s;
  return served;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Plaintext and TLS servers in this process, scored in turn: each round runs
// single-row calls and then 4096-row calls on each path, the order of the
// paths alternating between rounds, so that the machine's noise falls on
// both alike. Prints each round and the medians of the TLS/plaintext ratios.
int CompareTls(const aad::Dataset& data) {
  auto tls = aad::LoadTlsFiles({absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key), ""});
  if (!tls.ok()) return std::fprintf(stderr, "%s\n", tls.status().ToString().c_str()), 1;
  auto plain = Serve(data, std::nullopt, "");
  if (!plain.ok()) return std::fprintf(stderr, "%s\n", plain.status().ToString().c_str()), 1;
  auto secure = Serve(data, *std::move(tls), absl::GetFlag(FLAGS_tls_ca));
  if (!secure.ok()) return std::fprintf(stderr, "%s\n", secure.status().ToString().c_str()), 1;
  Served* paths[2] = {&*plain, &*secure};
  const char* names[2] = {"plaintext", "TLS"};
  const int dims = data.dims();
  const int64_t single_calls = absl::GetFlag(FLAGS_tls_single_calls);
  const int64_t batch_calls = absl::GetFlag(FLAGS_tls_batch_calls);
  // [path][round]
  std::vector<double> p50[2], p99[2], rows_per_second[2];
  std::printf("| round | path | single-row p50 ms | p99 ms | batch-4096 rows/s |\n"
              "|---:|---|---:|---:|---:|\n");
  for (int round = 0; round < absl::GetFlag(FLAGS_tls_rounds); ++round) {
    for (int i = 0; i < 2; ++i) {
      const int path = (round % 2 == 0) ? i : 1 - i;
      Served& s = *paths[path];
      const auto score = [&](const float* rows, int64_t n) {
        auto r = s.client->ScoreRows(s.session_id, absl::MakeConstSpan(rows, n * dims), dims);
        if (!r.ok()) std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      };
      const Stats single = Run(1, single_calls, data, score);
      const Stats batch = Run(4096, batch_calls * 4096, data, score);
      p50[path].push_back(single.p50_ms);
      p99[path].push_back(single.p99_ms);
      rows_per_second[path].push_back(batch.rows_per_second);
      std::printf("| %d | %s | %.3f | %.3f | %.0f |\n", round + 1, names[path], single.p50_ms,
                  single.p99_ms, batch.rows_per_second);
      std::fflush(stdout);
    }
  }
  std::vector<double> r50, r99, rrows;
  for (size_t r = 0; r < p50[0].size(); ++r) {
    r50.push_back(p50[1][r] / p50[0][r]);
    r99.push_back(p99[1][r] / p99[0][r]);
    rrows.push_back(rows_per_second[1][r] / rows_per_second[0][r]);
  }
  std::printf("\n| median over rounds | single-row p50 ms | p99 ms | batch-4096 rows/s |\n"
              "|---|---:|---:|---:|\n");
  for (int path = 0; path < 2; ++path) {
    std::printf("| %s | %.3f | %.3f | %.0f |\n", names[path], Median(p50[path]),
                Median(p99[path]), Median(rows_per_second[path]));
  }
  std::printf("| TLS / plaintext (median of the rounds' ratios) | %.2f | %.2f | %.2f |\n",
              Median(r50), Median(r99), Median(rrows));
  for (Served* s : paths) {
    s->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  return 0;
}

// Metrics on against off, side by side: each repetition runs both servers
// on each size, in alternating order, so that the machine's drift falls on
// both alike; the ratios (on / off) are per repetition, then their median.
int MetricsCost(const aad::Dataset& data) {
  auto on = Serve(data, std::nullopt, "", /*metrics=*/true);
  auto off = Serve(data, std::nullopt, "", /*metrics=*/false);
  if (!on.ok() || !off.ok()) {
    return std::fprintf(stderr, "%s\n", (on.ok() ? off.status() : on.status()).ToString().c_str()), 1;
  }
  const int dims = data.dims();
  const int64_t total = absl::GetFlag(FLAGS_rows_per_size);
  auto run = [&](Served& s, int64_t batch) {
    // Single rows: as many calls as for 64-row batches (a latency figure).
    const int64_t rows = batch == 1 ? std::max<int64_t>(1, total / 64) : total;
    return Run(batch, rows, data, [&](const float* r, int64_t n) {
      auto reply = s.client->ScoreRows(s.session_id, absl::MakeConstSpan(r, n * dims), dims);
      if (!reply.ok()) std::fprintf(stderr, "%s\n", reply.status().ToString().c_str());
    });
  };
  std::printf("| rep | metrics | 1-row p50 ms | 1-row p99 ms | 4096-row rows/s |\n"
              "|---:|---|---:|---:|---:|\n");
  std::vector<double> p50_ratio, p99_ratio, rate_ratio;
  const int reps = std::max(1, absl::GetFlag(FLAGS_repetitions));
  for (int rep = 0; rep < reps; ++rep) {
    Stats single[2], batch[2];  // [0] on, [1] off
    for (int k = 0; k < 2; ++k) {
      const int which = (rep + k) % 2;  // on first in even repetitions
      single[which] = run(which == 0 ? *on : *off, 1);
      batch[which] = run(which == 0 ? *on : *off, 4096);
    }
    for (int which = 0; which < 2; ++which) {
      std::printf("| %d | %s | %.3f | %.3f | %.0f |\n", rep + 1, which == 0 ? "on" : "off",
                  single[which].p50_ms, single[which].p99_ms, batch[which].rows_per_second);
    }
    std::fflush(stdout);
    p50_ratio.push_back(single[0].p50_ms / single[1].p50_ms);
    p99_ratio.push_back(single[0].p99_ms / single[1].p99_ms);
    rate_ratio.push_back(batch[0].rows_per_second / batch[1].rows_per_second);
  }
  std::printf("\nmedian of %d ratios, on / off: 1-row p50 %.3f, 1-row p99 %.3f, 4096-row rows/s %.3f\n",
              reps, Median(p50_ratio), Median(p99_ratio), Median(rate_ratio));
  on->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  off->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  aad::SetLoggingEnabled(false);
  aad::SyntheticOptions so;
  so.rows = absl::GetFlag(FLAGS_rows);
  so.dims = absl::GetFlag(FLAGS_dims);
  auto data = aad::MakeLowDensityAnomalies(so);
  if (!data.ok()) return std::fprintf(stderr, "%s\n", data.status().ToString().c_str()), 1;
  if (!absl::GetFlag(FLAGS_tls_cert).empty()) return CompareTls(*data);
  if (absl::GetFlag(FLAGS_metrics_cost)) return MetricsCost(*data);

  aad::ServerOptions options;
  options.address = "127.0.0.1:0";
  auto server = aad::AaddServer::Start(options);
  if (!server.ok()) return std::fprintf(stderr, "%s\n", server.status().ToString().c_str()), 1;
  aad::ClientOptions co;
  co.target = absl::StrCat("127.0.0.1:", (*server)->port());
  aad::AadClient client(co);
  aad::v1::CreateSessionRequest create;
  create.mutable_config()->set_pretrain_epochs(absl::GetFlag(FLAGS_pretrain_epochs));
  create.mutable_config()->set_seed(1);
  auto info = client.CreateSession(create);
  if (!info.ok()) return std::fprintf(stderr, "%s\n", info.status().ToString().c_str()), 1;
  const std::string id = info->session_id();
  const auto values = absl::MakeConstSpan(data->features.data(), data->features.size());
  if (!client.Ingest(id, values, data->dims()).ok() || !client.Train(id).ok()) {
    return std::fprintf(stderr, "ingest/train failed\n"), 1;
  }

  aad::ActiveConfig config;
  config.pretrain_epochs = absl::GetFlag(FLAGS_pretrain_epochs);
  config.seed = 1;
  auto learner = aad::ActiveLearner::Create(config);
  if (!learner.ok() || !(*learner)->Train(data->features, {}).ok()) {
    return std::fprintf(stderr, "in-process training failed\n"), 1;
  }
  const aad::ActiveModel& model = *(*learner)->model();

  // Same model on both paths: compare one batch of scores.
  std::vector<float> p, logit, s;
  auto check = client.ScoreRows(id, values.subspan(0, 64 * data->dims()), data->dims());
  if (!check.ok() || !aad::ScoreRows(model, values.subspan(0, 64 * data->dims()), data->dims(), &p, &logit, &s).ok() ||
      !std::equal(p.begin(), p.end(), check->p().begin())) {
    return std::fprintf(stderr, "the server's model differs from the in-process one\n"), 1;
  }

  std::printf("| batch | path | rows/s | p50 ms | p99 ms |\n|---:|---|---:|---:|---:|\n");
  const int64_t total = absl::GetFlag(FLAGS_rows_per_size);
  for (int64_t batch : {1, 64, 4096}) {
    const int dims = data->dims();
    Stats local = Run(batch, total, *data, [&](const float* rows, int64_t n) {
      (void)aad::ScoreRows(model, absl::MakeConstSpan(rows, n * dims), dims, &p, &logit, &s);
    });
    Stats wire = Run(batch, total, *data, [&](const float* rows, int64_t n) {
      auto r = client.ScoreRows(id, absl::MakeConstSpan(rows, n * dims), dims);
      if (!r.ok()) std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    });
    std::printf("| %lld | in-process | %.0f | %.3f | %.3f |\n", static_cast<long long>(batch),
                local.rows_per_second, local.p50_ms, local.p99_ms);
    std::printf("| %lld | gRPC loopback | %.0f | %.3f | %.3f |\n", static_cast<long long>(batch),
                wire.rows_per_second, wire.p50_ms, wire.p99_ms);
    std::printf("| %lld | gRPC / in-process | %.0f%% | | |\n", static_cast<long long>(batch),
                100.0 * wire.rows_per_second / local.rows_per_second);
    std::fflush(stdout);
  }
  (*server)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}

// ingest_memory_bench: what an ingested row costs the aadd process in
// resident memory, by batch size (bench/README.md, "Soak"). Starts the aadd
// binary (--in_memory, or a SQLite store in a temporary directory), creates
// one session, reads the server's VmRSS from /proc/PID/status, ingests
// --rows rows of --dims floats in batches of --batch_rows rows (streams of
// --stream_batches batches each, each batch with its own id, as AadClient
// sends them), waits for the server to settle and reads VmRSS again. Prints
// one JSON object: the growth per row and per batch, and the bytes of the
// rows themselves for comparison; with --train the growth per row once the
// session is trained, and (SQLite, --restart) the resident memory per row of
// a fresh aadd that restored the session from the store.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "absl/strings/str_format.h"
#include "bench/aadd_child.h"

ABSL_FLAG(std::string, aadd, AADD_BINARY, "the aadd binary to measure");
ABSL_FLAG(std::vector<std::string>, aadd_flags, {"--drain_seconds=0"},
          "more flags for aadd, comma-separated (an older aadd without --drain_seconds: \"\")");
ABSL_FLAG(std::string, store, "sqlite", "sqlite (a temporary --data_dir) or memory (--in_memory)");
ABSL_FLAG(int64_t, rows, 200000, "rows ingested");
ABSL_FLAG(int, dims, 8, "features per row (8: 32-byte rows)");
ABSL_FLAG(int64_t, batch_rows, 1, "rows per Ingest message (batch)");
ABSL_FLAG(int64_t, stream_batches, 1000, "batches per Ingest stream");
ABSL_FLAG(bool, train, false,
          "then train the session (1 pre-training epoch, default model) and measure again, "
          "then label the top candidate (waiting for its model) and measure again");
ABSL_FLAG(bool, restart, true,
          "sqlite: also restart aadd on the store and measure the restored session's memory");

namespace {

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "ingest_memory_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t rows = absl::GetFlag(FLAGS_rows);
  const int dims = absl::GetFlag(FLAGS_dims);
  const int64_t per = std::max<int64_t>(1, absl::GetFlag(FLAGS_batch_rows));
  const int64_t per_stream = std::max<int64_t>(1, absl::GetFlag(FLAGS_stream_batches));
  const std::string store = absl::GetFlag(FLAGS_store);
  if (store != "sqlite" && store != "memory") {
    std::fprintf(stderr, "ingest_memory_bench: --store is sqlite or memory, got '%s'\n",
                 store.c_str());
    return 2;
  }

  char tmpl[] = "/tmp/aadd-ingest-memory-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Fail("mkdtemp", absl::InternalError(tmpl));
  const std::filesystem::path dir = tmpl;
  std::vector<std::string> args;
  if (store == "memory") {
    args.push_back("--in_memory");
  } else {
    args.push_back(absl::StrCat("--data_dir=", (dir / "data").string()));
  }
  for (const std::string& f : absl::GetFlag(FLAGS_aadd_flags)) {
    if (!f.empty()) args.push_back(f);
  }
  aad::bench::AaddChild server;
  if (absl::Status st = server.Start(absl::GetFlag(FLAGS_aadd), args, (dir / "aadd.log").string());
      !st.ok()) {
    return Fail("start aadd", st);
  }

  const int64_t at_start = server.ResidentBytes();
  aad::ClientOptions options;
  options.target = absl::StrCat("localhost:", server.port());
  // A stream of 200,000 one-row batches into SQLite is one fsync'd
  // transaction a batch: minutes on a busy disk.
  options.timeout = std::chrono::minutes(30);
  aad::AadClient client(options);
  aad::v1::CreateSessionRequest create;
  create.set_feature_count(dims);
  auto info = client.CreateSession(create);
  if (!info.ok()) return Fail("create", info.status());
  const std::string id = info->session_id();

  std::vector<float> values(static_cast<size_t>(rows) * dims);
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  for (float& v : values) v = normal(gen);

  // A first small batch (so the session's width and the store's tables are
  // set up) before the baseline.
  std::vector<aad::v1::IngestRequest> warm(1);
  warm[0].set_session_id(id);
  warm[0].set_batch_id("warm-up");
  warm[0].set_feature_count(dims);
  warm[0].mutable_values()->Assign(values.begin(), values.begin() + dims);
  if (auto r = client.IngestMessages(id, warm); !r.ok()) return Fail("ingest", r.status());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t before = server.ResidentBytes();

  const auto t0 = std::chrono::steady_clock::now();
  int64_t batches = 0;
  std::vector<aad::v1::IngestRequest> messages;
  for (int64_t first = 0; first < rows;) {
    messages.clear();
    for (int64_t b = 0; b < per_stream && first < rows; ++b, ++batches) {
      const int64_t len = std::min(per, rows - first);
      aad::v1::IngestRequest m;
      m.set_session_id(id);
      m.set_batch_id(absl::StrFormat("%016x-%d", uint64_t{0x5eedc0ffee123456}, batches));
      m.set_feature_count(dims);
      m.mutable_values()->Assign(values.begin() + first * dims,
                                 values.begin() + (first + len) * dims);
      messages.push_back(std::move(m));
      first += len;
    }
    if (auto r = client.IngestMessages(id, messages); !r.ok()) return Fail("ingest", r.status());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int64_t after = server.ResidentBytes();
  auto check = client.GetSession(id);
  if (!check.ok()) return Fail("get session", check.status());
  if (check->rows() != rows + 1) {
    return Fail("rows", absl::InternalError(absl::StrCat("session holds ", check->rows(),
                                                         " rows, expected ", rows + 1)));
  }
  const double growth = static_cast<double>(after - before);
  std::string trained;
  if (absl::GetFlag(FLAGS_train)) {
    if (auto v = client.Train(id, {}, {}, 1); !v.ok()) return Fail("train", v.status());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const int64_t after_train = server.ResidentBytes();
    auto top = client.GetQueryCandidates(id, 1);
    if (!top.ok()) return Fail("candidates", top.status());
    if (top->row_ids_size() != 1) {
      return Fail("candidates", absl::InternalError("no candidate to label"));
    }
    if (auto l = client.SubmitLabels(id, {{top->row_ids(0), true}}, /*wait_for_model=*/true);
        !l.ok()) {
      return Fail("label", l.status());
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    // The measure (16, target 1): RSS growth over ingest, training
    // and one label round; and the peak over all of it (VmHWM), against the
    // resident memory before the rows came.
    trained = absl::StrFormat(
        ",\"trained_rss_bytes_per_row\":%.1f,\"labelled_rss_bytes_per_row\":%.1f,"
        "\"peak_rss_bytes_per_row\":%.1f",
        static_cast<double>(after_train - before) / rows,
        static_cast<double>(server.ResidentBytes() - before) / rows,
        static_cast<double>(server.PeakResidentBytes() - before) / rows);
  }
  server.Stop();
  // A restart on the store: the session read back (LoadSession) and rebuilt,
  // against the empty server's resident memory at its start.
  std::string restored = "";
  if (store == "sqlite" && absl::GetFlag(FLAGS_restart)) {
    aad::bench::AaddChild again;
    if (absl::Status st =
            again.Start(absl::GetFlag(FLAGS_aadd), args, (dir / "aadd-restart.log").string());
        !st.ok()) {
      return Fail("restart aadd", st);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const double restart_growth = static_cast<double>(again.ResidentBytes() - at_start);
    restored = absl::StrFormat(",\"restart_rss_bytes_per_row\":%.1f", restart_growth / rows);
    again.Stop();
  }
  std::printf(
      "{\"store\":\"%s\",\"rows\":%lld,\"dims\":%d,\"row_bytes\":%d,\"batch_rows\":%lld,"
      "\"batches\":%lld,\"rss_before_mib\":%.1f,\"rss_after_mib\":%.1f,"
      "\"rss_bytes_per_row\":%.1f,\"rss_bytes_per_batch\":%.1f,\"rows_per_s\":%.0f%s%s}\n",
      store.c_str(), static_cast<long long>(rows), dims, dims * 4, static_cast<long long>(per),
      static_cast<long long>(batches), before / 1048576.0, after / 1048576.0, growth / rows,
      growth / batches, rows / seconds, trained.c_str(), restored.c_str());
  std::filesystem::remove_all(dir);
  return 0;
}

// Durable store benchmark (bench/README.md, "Durable store"): ingest
// throughput into the SQLite store against the in-memory store (32 features,
// batches of 4096 rows, one committed transaction per batch as the service
// does per acknowledged batch), label commits per second, and the time to
// restore a session of --rows rows (open + LoadSession), plus export/import.
// With --postgres=URI, the same ingest, label commits and restore on the
// PostgreSQL store too, in the same run (an empty database of its own).
//
//   store-bench [--rows=1048576] [--features=32] [--batch=4096] [--dir=/tmp/...]
//               [--postgres=postgresql://USER@HOST:PORT/DB]
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "server/storage/memory_session_store.h"
#include "format/session_archive.h"
#include "server/storage/postgres_session_store.h"
#include "server/storage/sqlite_session_store.h"

ABSL_FLAG(int64_t, rows, 1 << 20, "rows to ingest and restore");
ABSL_FLAG(int64_t, features, 32, "features per row");
ABSL_FLAG(int64_t, batch, 4096, "rows per batch");
ABSL_FLAG(int64_t, labels, 200, "single-label commits to time");
ABSL_FLAG(std::string, dir, "", "scratch directory (default: a new one under $TMPDIR or /tmp)");
ABSL_FLAG(std::string, postgres, "",
          "also time the PostgreSQL store on this libpq URI (an empty database: the bench "
          "creates session 'bench' there and deletes it at the end)");

namespace aad {
namespace {

using Clock = std::chrono::steady_clock;

// User + system CPU seconds of this process: the machine this ran on was
// shared, so wall time alone overstates the cost.
double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "store-bench: %s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

std::vector<BatchRecord> MakeBatches(int64_t rows, int64_t features, int64_t batch_rows) {
  std::vector<BatchRecord> out;
  uint32_t x = 12345;
  for (int64_t first = 0; first < rows; first += batch_rows) {
    BatchRecord b;
    b.batch_id = absl::StrCat("batch-", out.size());
    b.first_row_id = first;
    b.row_count = std::min(batch_rows, rows - first);
    b.feature_count = features;
    b.values.resize(static_cast<size_t>(b.row_count * features));
    // Noise, not zeros: nothing below SQLite compresses, but be honest.
    for (float& v : b.values) {
      x = x * 1664525u + 1013904223u;
      v = static_cast<float>(x >> 8) / 16777216.0f;
    }
    out.push_back(std::move(b));
  }
  return out;
}

// Ingests every batch into `store`; returns seconds.
double Ingest(SessionStore* store, const std::vector<BatchRecord>& batches) {
  Check(store->CreateSession("bench", SessionOptions{}, 0, ""), "create session");
  const auto start = Clock::now();
  for (const BatchRecord& b : batches) Check(store->AppendBatch("bench", b).status(), "append");
  return Seconds(start);
}

double LabelCommits(SessionStore* store, int64_t n, int64_t rows) {
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; ++i) {
    Check(store->PutLabels("bench", std::vector<LabelRecord>{{(i * 7919) % rows, i % 5 == 0, i}}),
          "labels");
  }
  return Seconds(start);
}

int Main() {
  const int64_t rows = absl::GetFlag(FLAGS_rows);
  const int64_t features = absl::GetFlag(FLAGS_features);
  const int64_t batch_rows = absl::GetFlag(FLAGS_batch);
  const int64_t label_count = absl::GetFlag(FLAGS_labels);
  std::string dir = absl::GetFlag(FLAGS_dir);
  bool remove_dir = false;
  if (dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/store_bench_XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
    remove_dir = true;
  }
  const std::vector<BatchRecord> batches = MakeBatches(rows, features, batch_rows);
  const double mib = static_cast<double>(rows * features * 4) / (1 << 20);
  std::printf("store-bench: %lld rows x %lld features in %zu batches of %lld (%.0f MiB), dir %s\n",
              static_cast<long long>(rows), static_cast<long long>(features), batches.size(),
              static_cast<long long>(batch_rows), mib, dir.c_str());

  MemorySessionStore memory;
  const double memory_cpu = CpuSeconds();
  const double memory_s = Ingest(&memory, batches);
  const double memory_cpu_s = CpuSeconds() - memory_cpu;
  const double memory_labels_s = LabelCommits(&memory, label_count, rows);

  double sqlite_s, sqlite_labels_s, sqlite_cpu_s;
  {
    auto store = SqliteSessionStore::Open(dir);
    Check(store.status(), "open");
    const double cpu = CpuSeconds();
    sqlite_s = Ingest(store->get(), batches);
    sqlite_cpu_s = CpuSeconds() - cpu;
    sqlite_labels_s = LabelCommits(store->get(), label_count, rows);
  }
  std::printf("%-34s %14s %10s %12s %14s\n", "ingest", "rows/s", "MiB/s", "ms/batch",
              "CPU ms/batch");
  std::printf("%-34s %14.0f %10.0f %12.3f %14.3f\n", "memory store", rows / memory_s,
              mib / memory_s, 1e3 * memory_s / batches.size(),
              1e3 * memory_cpu_s / batches.size());
  std::printf("%-34s %14.0f %10.0f %12.3f %14.3f\n", "sqlite store (WAL, synchronous=FULL)",
              rows / sqlite_s, mib / sqlite_s, 1e3 * sqlite_s / batches.size(),
              1e3 * sqlite_cpu_s / batches.size());
  std::printf("%-34s %14s %10s %12s\n", "label commits (1 label each)", "commits/s", "", "ms/commit");
  std::printf("%-34s %14.0f %10s %12.3f\n", "memory store", label_count / memory_labels_s, "",
              1e3 * memory_labels_s / label_count);
  std::printf("%-34s %14.0f %10s %12.3f\n", "sqlite store", label_count / sqlite_labels_s, "",
              1e3 * sqlite_labels_s / label_count);

  // Restore: what a restart does per session (the store was closed above,
  // so the WAL is checkpointed; the file is in the page cache).
  SessionRecord record;
  {
    const auto start = Clock::now();
    auto store = SqliteSessionStore::Open(dir);
    Check(store.status(), "reopen");
    const double open_s = Seconds(start);
    const auto load_start = Clock::now();
    const double load_cpu = CpuSeconds();
    auto loaded = (*store)->LoadSession("bench");
    Check(loaded.status(), "load");
    const double load_s = Seconds(load_start);
    const double load_cpu_s = CpuSeconds() - load_cpu;
    record = std::move(*loaded);
    std::printf("restore %lld rows: open %.1f ms, LoadSession %.1f ms wall, %.1f ms CPU "
                "(%.0f MiB/s wall)\n",
                static_cast<long long>(record.row_count()), 1e3 * open_s, 1e3 * load_s,
                1e3 * load_cpu_s, mib / load_s);
  }
  {
    SqliteStoreOptions verify;
    verify.verify_on_open = true;
    const auto start = Clock::now();
    auto store = SqliteSessionStore::Open(dir, verify);
    Check(store.status(), "reopen with quick_check");
    std::printf("open with verify_on_open (PRAGMA quick_check): %.1f ms\n", 1e3 * Seconds(start));
  }
  {
    const std::string path = dir + "/export.aadd";
    auto start = Clock::now();
    Check(WriteSessionArchive(record, path), "export");
    const double write_s = Seconds(start);
    start = Clock::now();
    auto read = ReadSessionArchive(path);
    Check(read.status(), "import");
    std::printf("archive: export %.1f ms, read+validate %.1f ms (%.0f MiB file)\n", 1e3 * write_s,
                1e3 * Seconds(start),
                static_cast<double>(std::filesystem::file_size(path)) / (1 << 20));
  }
  std::printf("database file: %.0f MiB\n",
              static_cast<double>(std::filesystem::file_size(
                  absl::StrCat(dir, "/", SqliteSessionStore::kFileName))) /
                  (1 << 20));
  if (remove_dir) std::filesystem::remove_all(dir);
  const std::string postgres = absl::GetFlag(FLAGS_postgres);
  if (!postgres.empty()) {
    auto store = PostgresSessionStore::Open(postgres);
    Check(store.status(), "open PostgreSQL");
    const double cpu = CpuSeconds();
    const double pg_s = Ingest(store->get(), batches);
    const double pg_cpu_s = CpuSeconds() - cpu;
    const double pg_labels_s = LabelCommits(store->get(), label_count, rows);
    const auto load_start = Clock::now();
    auto loaded = (*store)->LoadSession("bench");
    Check(loaded.status(), "load from PostgreSQL");
    const double load_s = Seconds(load_start);
    Check((*store)->DeleteSession("bench"), "delete from PostgreSQL");
    std::printf("%-34s %14s %10s %12s %14s\n", "ingest, side by side", "rows/s", "MiB/s",
                "ms/batch", "CPU ms/batch");
    std::printf("%-34s %14.0f %10.0f %12.3f %14.3f\n", "sqlite store (WAL, synchronous=FULL)",
                rows / sqlite_s, mib / sqlite_s, 1e3 * sqlite_s / batches.size(),
                1e3 * sqlite_cpu_s / batches.size());
    std::printf("%-34s %14.0f %10.0f %12.3f %14.3f\n", "postgresql store", rows / pg_s,
                mib / pg_s, 1e3 * pg_s / batches.size(), 1e3 * pg_cpu_s / batches.size());
    std::printf("%-34s %14s %10s %12s\n", "label commits, side by side", "commits/s", "",
                "ms/commit");
    std::printf("%-34s %14.0f %10s %12.3f\n", "sqlite store", label_count / sqlite_labels_s, "",
                1e3 * sqlite_labels_s / label_count);
    std::printf("%-34s %14.0f %10s %12.3f\n", "postgresql store", label_count / pg_labels_s, "",
                1e3 * pg_labels_s / label_count);
    std::printf("restore %lld rows from PostgreSQL: LoadSession %.1f ms (%.0f MiB/s)\n",
                static_cast<long long>(loaded->row_count()), 1e3 * load_s, mib / load_s);
  }
  return 0;
}

}  // namespace
}  // namespace aad

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return aad::Main();
}

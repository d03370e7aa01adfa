// csv-bench: the parse part of the CSV ingest path (bench/README.md,
// "Feedback round and ingest at 1M rows"). Writes a CSV of --rows x --dims
// normal floats (printed as "%.7g", a header of names f0, f1, ...) to --out,
// then times aad::ReadCsvFile on it --reps times: reading the file and
// parsing it into float32 rows, what `aadctl ingest FILE.csv` did before its
// first message until issue 16; then as many timed reads with
// CsvChunkReader in chunks of 4096 rows, what aadctl ingest's parse thread
// now does while it sends. The same file can then be ingested with aadctl,
// timed, for the path end to end. One JSON object on stdout.
//
//   csv-bench --out /tmp/rows.csv [--rows 1000000 --dims 32 --reps 3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/data/csv_chunk_reader.h"
#include "core/data/csv_reader.h"

ABSL_FLAG(std::string, out, "", "path of the CSV to write and parse (required)");
ABSL_FLAG(int64_t, rows, 1000000, "rows of the CSV");
ABSL_FLAG(int, dims, 32, "feature columns of the CSV");
ABSL_FLAG(int, reps, 3, "timed parses of the file");

namespace {

using Clock = std::chrono::steady_clock;

// Returns the file's size in bytes, or -1 when it cannot be written.
int64_t WriteCsv(const std::string& path, int64_t rows, int dims) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return -1;
  for (int c = 0; c < dims; ++c) std::fprintf(f, c == 0 ? "f%d" : ",f%d", c);
  std::fputc('\n', f);
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < dims; ++c) std::fprintf(f, c == 0 ? "%.7g" : ",%.7g", normal(gen));
    std::fputc('\n', f);
  }
  const int64_t bytes = std::ftell(f);
  return std::fclose(f) == 0 ? bytes : -1;
}

// Reads the file with CsvChunkReader; the rows read, or -1 on an error.
int64_t ReadChunks(const std::string& path) {
  auto reader = aad::CsvChunkReader::Open(path, aad::CsvOptions{});
  if (!reader.ok()) return -1;
  aad::CsvChunk chunk;
  int64_t rows = 0;
  do {
    if (!(*reader)->Next(4096, &chunk).ok()) return -1;
    rows += chunk.rows;
  } while (chunk.rows > 0);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string path = absl::GetFlag(FLAGS_out);
  const int64_t rows = absl::GetFlag(FLAGS_rows);
  const int dims = absl::GetFlag(FLAGS_dims);
  if (path.empty() || rows <= 0 || dims <= 0) {
    std::fprintf(stderr, "csv-bench: give --out PATH, --rows > 0 and --dims > 0\n");
    return 2;
  }
  const int64_t bytes = WriteCsv(path, rows, dims);
  if (bytes < 0) {
    std::fprintf(stderr, "csv-bench: cannot write %s\n", path.c_str());
    return 1;
  }
  std::vector<std::string> rates;
  for (int rep = 0; rep < absl::GetFlag(FLAGS_reps); ++rep) {
    const auto t0 = Clock::now();
    auto data = aad::ReadCsvFile(path, aad::CsvOptions{});
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!data.ok()) {
      std::fprintf(stderr, "csv-bench: %s\n", data.status().ToString().c_str());
      return 1;
    }
    if (data->rows() != rows || data->dims() != dims) {
      std::fprintf(stderr, "csv-bench: read %lld x %lld, wrote %lld x %d\n",
                   static_cast<long long>(data->rows()), static_cast<long long>(data->dims()),
                   static_cast<long long>(rows), dims);
      return 1;
    }
    rates.push_back(absl::StrFormat("%.0f", rows / secs));
  }
  // What aadctl ingest's parse thread does: chunks of 4096 rows into one
  // reused buffer (no matrix of the whole file).
  std::vector<std::string> chunked;
  for (int rep = 0; rep < absl::GetFlag(FLAGS_reps); ++rep) {
    const auto t0 = Clock::now();
    const int64_t got = ReadChunks(path);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (got != rows) {
      std::fprintf(stderr, "csv-bench: read %lld rows in chunks, wrote %lld\n",
                   static_cast<long long>(got), static_cast<long long>(rows));
      return 1;
    }
    chunked.push_back(absl::StrFormat("%.0f", rows / secs));
  }
  std::printf(
      "{\"rows\":%lld,\"dims\":%d,\"file_bytes\":%lld,\"parse_rows_per_s\":[%s],"
      "\"chunked_parse_rows_per_s\":[%s]}\n",
      static_cast<long long>(rows), dims, static_cast<long long>(bytes),
      absl::StrJoin(rates, ",").c_str(), absl::StrJoin(chunked, ",").c_str());
  return 0;
}

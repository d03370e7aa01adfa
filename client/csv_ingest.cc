#include "client/csv_ingest.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/csv_prefetcher.h"
#include "core/data/csv_chunk_reader.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

// Fills `message` with the chunk's rows as batch `n`; the feature names go
// in the first batch only (the server takes them there).
void FillBatch(const CsvChunk& chunk, int64_t dims, const std::string& batch_prefix, int64_t n,
               aad::v1::IngestRequest* message) {
  message->set_batch_id(absl::StrCat(batch_prefix, "-", n));
  if (n > 0) message->clear_feature_names();
  google::protobuf::RepeatedField<float>* values = message->mutable_values();
  const int64_t count = chunk.rows * dims;
  // Resize keeps the capacity of the batch before: no allocation per batch.
  values->Resize(static_cast<int>(count), 0.0f);
  std::memcpy(values->mutable_data(), chunk.values.data(), count * sizeof(float));
}

// One pass over the file on one Ingest stream.
absl::Status StreamOnce(AadClient* client, const std::string& session_id,
                        const std::string& path, const CsvOptions& csv,
                        const std::string& batch_prefix, CsvIngestResult* result) {
  *result = CsvIngestResult{};
  ASSIGN_OR_RETURN(std::unique_ptr<CsvChunkReader> reader, CsvChunkReader::Open(path, csv));
  const int64_t dims = reader->dims();
  std::vector<std::string> names = reader->feature_names();
  result->dims = dims;
  // A header of numbers only is the first row of a file without a header,
  // read as one: its cells are no names.
  result->header_is_numbers = HeaderLooksLikeData(names);
  if (result->header_is_numbers) names.clear();

  const int64_t batch_rows = std::max<int64_t>(1, client->options().ingest_batch_rows);
  CsvPrefetcher chunks(std::move(reader), batch_rows);
  CsvPrefetcher::Slot* slot = chunks.Take();
  // Nothing to send: say so without opening a stream.
  if (!slot->status.ok() && slot->chunk.rows == 0) return slot->status;
  if (slot->chunk.rows == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no rows after the header: nothing to ingest"));
  }

  aad::v1::IngestRequest message;
  message.set_session_id(session_id);
  message.set_feature_count(static_cast<int32_t>(dims));
  message.mutable_feature_names()->Assign(names.begin(), names.end());
  absl::Status parse_status;
  int64_t n = 0;
  bool last = false;
  absl::StatusOr<aad::v1::IngestResponse> reply =
      client->IngestStream(session_id, [&]() -> const aad::v1::IngestRequest* {
        if (last) return nullptr;
        if (slot == nullptr) slot = chunks.Take();
        parse_status = slot->status;
        last = !slot->status.ok() || slot->chunk.rows == 0;
        const bool send = slot->chunk.rows > 0;
        if (send) FillBatch(slot->chunk, dims, batch_prefix, n++, &message);
        chunks.Release(slot);
        slot = nullptr;
        return send ? &message : nullptr;
      });
  if (!reply.ok()) return reply.status();
  result->reply = *std::move(reply);
  for (const aad::v1::IngestedBatch& b : result->reply.batches()) result->rows += b.row_count();
  return parse_status;
}

}  // namespace

bool HeaderLooksLikeData(const std::vector<std::string>& names) {
  return !names.empty() && std::all_of(names.begin(), names.end(), [](const std::string& n) {
    double value;
    return absl::SimpleAtod(n, &value);
  });
}

absl::Status IngestCsvFile(AadClient* client, const std::string& session_id,
                           const std::string& path, const CsvOptions& csv,
                           CsvIngestResult* result) {
  absl::BitGen gen;
  const std::string batch_prefix = absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
  std::chrono::milliseconds backoff = client->options().initial_backoff;
  for (int attempt = 1;; ++attempt) {
    const absl::Status status = StreamOnce(client, session_id, path, csv, batch_prefix, result);
    if (status.code() != absl::StatusCode::kUnavailable ||
        attempt >= client->options().max_attempts) {
      return status;
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

}  // namespace aad

#include "format/session_archive.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/byte_stream.h"
#include "core/util/status_macros.h"
#include "format/atomic_file.h"
#include "format/crc32.h"
#include "format/session_options_codec.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the archive assumes little-endian");

namespace aad {
namespace {

constexpr absl::string_view kMagic = "AADDSESS";
// magic + version + payload length, and the trailing CRC.
constexpr size_t kHeaderBytes = 8 + 4 + 8;
constexpr size_t kTrailerBytes = 4;

absl::string_view AsBytes(const std::vector<float>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)};
}

// A label's verdict in the payload (see the header).
constexpr uint32_t kVerdictNominal = 0;
constexpr uint32_t kVerdictAnomaly = 1;
constexpr uint32_t kVerdictWithdrawn = 2;

}  // namespace

std::string EncodeSessionArchive(const SessionRecord& record) {
  aad::ByteWriter payload;
  payload.WriteString(record.id);
  payload.WriteU64(static_cast<uint64_t>(record.created_micros));
  payload.WriteString(EncodeSessionOptions(record.options));
  payload.WriteU64(record.batches.size());
  for (const BatchRecord& batch : record.batches) {
    payload.WriteString(batch.batch_id);
    payload.WriteU64(static_cast<uint64_t>(batch.first_row_id));
    payload.WriteU64(static_cast<uint64_t>(batch.row_count));
    payload.WriteU64(static_cast<uint64_t>(batch.feature_count));
    payload.WriteString(AsBytes(batch.values));
  }
  payload.WriteU64(record.label_history.size());
  bool withdrawals = false;
  for (const LabelRecord& label : record.label_history) {
    payload.WriteU64(static_cast<uint64_t>(label.row_id));
    payload.WriteU32(label.withdrawn ? kVerdictWithdrawn
                     : label.anomaly ? kVerdictAnomaly
                                     : kVerdictNominal);
    payload.WriteU64(static_cast<uint64_t>(label.time_micros));
    withdrawals = withdrawals || label.withdrawn;
  }
  payload.WriteU32(record.model.has_value() ? 1 : 0);
  if (record.model.has_value()) {
    payload.WriteU64(static_cast<uint64_t>(record.model->version));
    payload.WriteU64(static_cast<uint64_t>(record.model->labels_revision));
    payload.WriteU64(static_cast<uint64_t>(record.model->created_micros));
    payload.WriteString(record.model->bytes);
  }
  const std::string body = payload.Release();

  aad::ByteWriter header;
  header.WriteU32(withdrawals ? kSessionArchiveVersion : kSessionArchiveVersionNoWithdrawals);
  header.WriteU64(body.size());
  aad::ByteWriter trailer;
  trailer.WriteU32(Crc32(body));
  std::string out;
  out.reserve(kHeaderBytes + body.size() + kTrailerBytes);
  absl::StrAppend(&out, kMagic, header.bytes(), body, trailer.bytes());
  return out;
}

absl::StatusOr<SessionRecord> DecodeSessionArchive(absl::string_view bytes,
                                                   absl::string_view source) {
  auto loss = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(source, ": not a valid session archive: ", why));
  };
  if (bytes.size() < kHeaderBytes + kTrailerBytes || bytes.substr(0, kMagic.size()) != kMagic) {
    return loss(absl::StrCat("missing the '", kMagic, "' header (", bytes.size(), " bytes)"));
  }
  aad::ByteReader header(bytes.substr(kMagic.size(), kHeaderBytes - kMagic.size()));
  ASSIGN_OR_RETURN(uint32_t version, header.ReadU32("format version"));
  ASSIGN_OR_RETURN(uint64_t length, header.ReadU64("payload length"));
  if (version > kSessionArchiveVersion || version == 0) {
    if (version == 0) return loss("format version 0");
    return absl::FailedPreconditionError(
        absl::StrCat(source, ": session archive format version ", version,
                     " is newer than this build reads (", kSessionArchiveVersion, ")"));
  }
  if (length != bytes.size() - kHeaderBytes - kTrailerBytes) {
    return loss(absl::StrCat("the header gives ", length, " payload bytes, the file holds ",
                             bytes.size() - kHeaderBytes - kTrailerBytes, " (truncated?)"));
  }
  const absl::string_view body = bytes.substr(kHeaderBytes, length);
  aad::ByteReader trailer(bytes.substr(kHeaderBytes + length));
  ASSIGN_OR_RETURN(uint32_t crc, trailer.ReadU32("checksum"));
  if (crc != Crc32(body)) {
    return loss(absl::StrCat("checksum mismatch (stored ", crc, ", computed ", Crc32(body), ")"));
  }

  // The checksum matched, so a parse error here means a writer bug; still
  // report it as DATA_LOSS naming the source.
  auto parse = [&]() -> absl::StatusOr<SessionRecord> {
    aad::ByteReader in(body);
    SessionRecord r;
    ASSIGN_OR_RETURN(r.id, in.ReadString("session id"));
    ASSIGN_OR_RETURN(uint64_t created, in.ReadU64("created"));
    r.created_micros = static_cast<int64_t>(created);
    ASSIGN_OR_RETURN(std::string options, in.ReadString("options"));
    ASSIGN_OR_RETURN(r.options, DecodeSessionOptions(options, source));
    ASSIGN_OR_RETURN(uint64_t batches, in.ReadU64("batch count"));
    // Each batch takes at least 40 bytes: bounds the reservation.
    if (batches > in.remaining() / 40) {
      return absl::DataLossError(absl::StrCat("claims ", batches, " batches"));
    }
    r.batches.reserve(batches);
    for (uint64_t i = 0; i < batches; ++i) {
      BatchRecord b;
      ASSIGN_OR_RETURN(b.batch_id, in.ReadString("batch id"));
      ASSIGN_OR_RETURN(uint64_t first, in.ReadU64("first row id"));
      ASSIGN_OR_RETURN(uint64_t rows, in.ReadU64("row count"));
      ASSIGN_OR_RETURN(uint64_t features, in.ReadU64("feature count"));
      ASSIGN_OR_RETURN(std::string values, in.ReadString("batch values"));
      b.first_row_id = static_cast<int64_t>(first);
      b.row_count = static_cast<int64_t>(rows);
      b.feature_count = static_cast<int64_t>(features);
      if (values.size() % sizeof(float) != 0) {
        return absl::DataLossError(absl::StrCat("batch '", b.batch_id, "' holds ",
                                                values.size(), " bytes, not whole floats"));
      }
      b.values.resize(values.size() / sizeof(float));
      if (!values.empty()) std::memcpy(b.values.data(), values.data(), values.size());
      r.batches.push_back(std::move(b));
    }
    ASSIGN_OR_RETURN(uint64_t labels, in.ReadU64("label count"));
    if (labels > in.remaining() / 20) {
      return absl::DataLossError(absl::StrCat("claims ", labels, " labels"));
    }
    r.label_history.reserve(labels);
    for (uint64_t i = 0; i < labels; ++i) {
      ASSIGN_OR_RETURN(uint64_t row, in.ReadU64("label row"));
      ASSIGN_OR_RETURN(uint32_t verdict, in.ReadU32("label verdict"));
      ASSIGN_OR_RETURN(uint64_t time, in.ReadU64("label time"));
      const uint32_t last_verdict =
          version >= kSessionArchiveVersion ? kVerdictWithdrawn : kVerdictAnomaly;
      if (verdict > last_verdict) {
        return absl::DataLossError(absl::StrCat("label verdict ", verdict, " in format version ",
                                                version, " (at most ", last_verdict, ")"));
      }
      r.label_history.push_back(LabelRecord{static_cast<int64_t>(row),
                                            verdict == kVerdictAnomaly,
                                            static_cast<int64_t>(time),
                                            verdict == kVerdictWithdrawn});
    }
    r.labels = CurrentLabels(r.label_history);
    ASSIGN_OR_RETURN(uint32_t has_model, in.ReadU32("model flag"));
    if (has_model > 1) return absl::DataLossError(absl::StrCat("model flag ", has_model));
    if (has_model == 1) {
      ModelRecord m;
      ASSIGN_OR_RETURN(uint64_t v, in.ReadU64("model version"));
      ASSIGN_OR_RETURN(uint64_t rev, in.ReadU64("model labels revision"));
      ASSIGN_OR_RETURN(uint64_t created_at, in.ReadU64("model created"));
      ASSIGN_OR_RETURN(m.bytes, in.ReadString("model bytes"));
      m.version = static_cast<int64_t>(v);
      m.labels_revision = static_cast<int64_t>(rev);
      m.created_micros = static_cast<int64_t>(created_at);
      r.model = std::move(m);
    }
    if (!in.AtEnd()) {
      return absl::DataLossError(absl::StrCat(in.remaining(), " unread bytes at the end"));
    }
    return r;
  };
  absl::StatusOr<SessionRecord> record = parse();
  if (!record.ok()) {
    if (record.status().code() == absl::StatusCode::kDataLoss) {
      return loss(record.status().message());
    }
    return record.status();
  }
  RETURN_IF_ERROR(ValidateSessionRecord(*record, source));
  return record;
}

absl::Status WriteSessionArchive(const SessionRecord& record, const std::string& path) {
  return WriteFileAtomically(path, EncodeSessionArchive(record));
}

absl::StatusOr<SessionRecord> ReadSessionArchive(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  return DecodeSessionArchive(bytes, path);
}

}  // namespace aad

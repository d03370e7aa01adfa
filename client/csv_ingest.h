// Ingest of a CSV file that streams: chunks of rows are parsed on one thread
// while the chunk before goes over the Ingest stream, so the file is never
// held whole and parse and send overlap (aadctl ingest).
#ifndef AADD_CLIENT_CSV_INGEST_H_
#define AADD_CLIENT_CSV_INGEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "aad/v1/aad.pb.h"
#include "absl/status/status.h"
#include "client/aad_client.h"
#include "core/data/csv_reader.h"

namespace aad {

struct CsvIngestResult {
  // The server's reply: the batches it stored. Empty when the stream failed.
  aad::v1::IngestResponse reply;
  // Rows and features stored by this call (the reply's batches).
  int64_t rows = 0;
  int64_t dims = 0;
  // The header held numbers only: it was read as a header all the same (as
  // ReadCsvFile does), but not sent as feature names.
  bool header_is_numbers = false;
};

// Whether every cell of a CSV header reads as a number.
bool HeaderLooksLikeData(const std::vector<std::string>& names);

// Streams the rows of the CSV at `path` into the session in batches of the
// client's ingest_batch_rows, with the header's names in the first message
// (csv.label_column is not sent). A stream that fails with UNAVAILABLE is
// sent again from the file's start, as AadClient::Ingest does: the batch
// ids make the server store each batch once. Errors: the file's, before
// anything is sent (csv_reader.h), or INVALID_ARGUMENT when it has no rows;
// a bad row later in the file, after the batches before it are sent: they
// are stored (in *result) and the error names the line, column and value;
// the server's error, when it ends the stream.
absl::Status IngestCsvFile(AadClient* client, const std::string& session_id,
                           const std::string& path, const CsvOptions& csv,
                           CsvIngestResult* result);

}  // namespace aad

#endif  // AADD_CLIENT_CSV_INGEST_H_

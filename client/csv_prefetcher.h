// Parses a CSV file's chunks on a thread of its own, a few ahead of the
// caller, so that sending chunk k overlaps parsing chunk k+1 (aadctl ingest,
// client/csv_ingest.h).
#ifndef AADD_CLIENT_CSV_PREFETCHER_H_
#define AADD_CLIENT_CSV_PREFETCHER_H_

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "core/data/csv_chunk_reader.h"
#include "core/util/mutex.h"

namespace aad {

class CsvPrefetcher {
 public:
  // A chunk and the status of the read that filled it: an error's chunk
  // holds the rows before the bad one and is the last.
  struct Slot {
    CsvChunk chunk;
    absl::Status status;
  };

  // Starts reading chunks of `chunk_rows` rows from `reader`.
  CsvPrefetcher(std::unique_ptr<CsvChunkReader> reader, int64_t chunk_rows);
  // Stops the thread (after the chunk it is parsing, if any).
  ~CsvPrefetcher();
  CsvPrefetcher(const CsvPrefetcher&) = delete;
  CsvPrefetcher& operator=(const CsvPrefetcher&) = delete;

  // The next chunk, in file order, waiting for it to be parsed; the caller
  // owns it until Release. After the last one (no rows, or an error) Take
  // must not be called again.
  Slot* Take();
  // Hands a chunk taken back, for the thread to refill.
  void Release(Slot* slot);

 private:
  // Chunks in flight: one with the caller, two parsed ahead.
  static constexpr int kDepth = 3;

  void Run();

  const std::unique_ptr<CsvChunkReader> reader_;  // used by the thread only
  const int64_t chunk_rows_;
  // Each slot belongs to one side at a time, passed over by the queues:
  // the thread fills a free one, the caller reads a full one.
  std::array<Slot, kDepth> slots_;
  Mutex mu_;
  CondVar changed_;  // signalled when a queue grows or stop_ is set
  std::deque<Slot*> free_ ABSL_GUARDED_BY(mu_);
  std::deque<Slot*> full_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace aad

#endif  // AADD_CLIENT_CSV_PREFETCHER_H_

#include "client/csv_prefetcher.h"

#include <utility>

namespace aad {

CsvPrefetcher::CsvPrefetcher(std::unique_ptr<CsvChunkReader> reader, int64_t chunk_rows)
    : reader_(std::move(reader)), chunk_rows_(chunk_rows) {
  {
    MutexLock lock(&mu_);
    for (Slot& slot : slots_) free_.push_back(&slot);
  }
  thread_ = std::thread([this] { Run(); });
}

CsvPrefetcher::~CsvPrefetcher() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  changed_.SignalAll();
  thread_.join();
}

void CsvPrefetcher::Run() {
  for (;;) {
    Slot* slot;
    {
      MutexLock lock(&mu_);
      while (!stop_ && free_.empty()) changed_.Wait(&mu_);
      if (stop_) return;
      slot = free_.front();
      free_.pop_front();
    }
    slot->status = reader_->Next(chunk_rows_, &slot->chunk);
    const bool last = !slot->status.ok() || slot->chunk.rows == 0;
    {
      MutexLock lock(&mu_);
      full_.push_back(slot);
    }
    changed_.SignalAll();
    if (last) return;
  }
}

CsvPrefetcher::Slot* CsvPrefetcher::Take() {
  MutexLock lock(&mu_);
  while (full_.empty()) changed_.Wait(&mu_);
  Slot* slot = full_.front();
  full_.pop_front();
  return slot;
}

void CsvPrefetcher::Release(Slot* slot) {
  {
    MutexLock lock(&mu_);
    free_.push_back(slot);
  }
  changed_.SignalAll();
}

}  // namespace aad

// BatchIndex: a session's client batch ids and where each batch landed
// (first row id, row count), for the deduplication of retried batches. One
// entry per stored batch, so with small batches (1-6 rows) its size per
// entry is the session's memory per row: a flat_hash_map<std::string, Span>
// cost ~96 bytes an entry for AadClient's 20-odd-byte ids (a 48-byte slot
// at the table's load factor plus the id's own heap block). Here an entry is
// one record packed into arena blocks (varint id size, the id's bytes,
// varint first row id, varint row count: ~28 bytes for such an id) and an
// 8-byte pointer slot in a hash set keyed by the record's id: ~40 bytes.
// Not thread-safe; the owner guards it.
#ifndef AADD_SERVER_STORAGE_BATCH_INDEX_H_
#define AADD_SERVER_STORAGE_BATCH_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace aad {

class BatchIndex {
 public:
  struct Span {
    int64_t first_row_id = 0;
    int64_t row_count = 0;
    bool operator==(const Span& o) const {
      return first_row_id == o.first_row_id && row_count == o.row_count;
    }
  };

  BatchIndex() = default;
  // Movable (records never move: the set's pointers stay valid), not
  // copyable.
  BatchIndex(BatchIndex&&) = default;
  BatchIndex& operator=(BatchIndex&&) = default;
  BatchIndex(const BatchIndex&) = delete;
  BatchIndex& operator=(const BatchIndex&) = delete;

  // The span stored under `id`, if any.
  std::optional<Span> Find(absl::string_view id) const;
  // Stores `span` under `id`, replacing the span stored under it before.
  void Insert(absl::string_view id, Span span);
  // Ids stored.
  size_t size() const { return index_.size(); }
  // Every id with its span, in the order the ids were first inserted (a
  // replaced span is reported at the place of its replacement).
  void ForEach(absl::FunctionRef<void(absl::string_view id, Span span)> f) const;
  // Heap bytes held by the records and the hash set (an estimate of the
  // set's: its slot and control bytes).
  size_t MemoryBytes() const;

 private:
  // A record's address; the id, span and hash are decoded from it.
  struct Record {
    const char* p;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(absl::string_view id) const { return absl::Hash<absl::string_view>{}(id); }
    size_t operator()(Record r) const { return (*this)(IdOf(r)); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(Record a, Record b) const { return IdOf(a) == IdOf(b); }
    bool operator()(Record a, absl::string_view b) const { return IdOf(a) == b; }
    bool operator()(absl::string_view a, Record b) const { return a == IdOf(b); }
  };

  static absl::string_view IdOf(Record r);
  static Span SpanOf(Record r);
  // Room for `bytes` contiguous bytes in the arena.
  char* Allocate(size_t bytes);

  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> block_sizes_;  // used bytes of each block, in order
  size_t room_ = 0;                  // free bytes at the end of the last block
  size_t arena_bytes_ = 0;           // bytes allocated for blocks
  absl::flat_hash_set<Record, Hash, Eq> index_;
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_BATCH_INDEX_H_

#include "server/storage/batch_index.h"

#include <algorithm>
#include <cstring>

namespace aad {
namespace {

// Blocks start small (a session of a few batches holds a few hundred
// bytes) and double up to this; a record longer than that gets a block of
// its own size.
constexpr size_t kFirstBlockBytes = 256;
constexpr size_t kMaxBlockBytes = 64 << 10;

char* PutVarint(uint64_t v, char* out) {
  while (v >= 0x80) {
    *out++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

// Records are written by Insert only, so the bytes are always well formed.
const char* GetVarint(const char* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0;; shift += 7) {
    const uint64_t byte = static_cast<unsigned char>(*in++);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  *v = result;
  return in;
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

absl::string_view BatchIndex::IdOf(Record r) {
  uint64_t size = 0;
  const char* id = GetVarint(r.p, &size);
  return absl::string_view(id, static_cast<size_t>(size));
}

BatchIndex::Span BatchIndex::SpanOf(Record r) {
  const absl::string_view id = IdOf(r);
  uint64_t first = 0, count = 0;
  GetVarint(GetVarint(id.data() + id.size(), &first), &count);
  return Span{static_cast<int64_t>(first), static_cast<int64_t>(count)};
}

char* BatchIndex::Allocate(size_t bytes) {
  if (bytes > room_) {
    const size_t last = blocks_.empty() ? 0 : block_sizes_.back() + room_;
    const size_t size = std::max(bytes, std::min(kMaxBlockBytes, std::max(kFirstBlockBytes,
                                                                            last * 2)));
    blocks_.push_back(std::make_unique<char[]>(size));
    block_sizes_.push_back(0);
    room_ = size;
    arena_bytes_ += size;
  }
  char* out = blocks_.back().get() + block_sizes_.back();
  block_sizes_.back() += bytes;
  room_ -= bytes;
  return out;
}

std::optional<BatchIndex::Span> BatchIndex::Find(absl::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return SpanOf(*it);
}

void BatchIndex::Insert(absl::string_view id, Span span) {
  const uint64_t first = static_cast<uint64_t>(span.first_row_id);
  const uint64_t count = static_cast<uint64_t>(span.row_count);
  const size_t bytes = VarintSize(id.size()) + id.size() + VarintSize(first) + VarintSize(count);
  char* p = Allocate(bytes);
  char* out = PutVarint(id.size(), p);
  if (!id.empty()) std::memcpy(out, id.data(), id.size());
  PutVarint(count, PutVarint(first, out + id.size()));
  auto it = index_.find(id);
  if (it != index_.end()) index_.erase(it);  // the old record stays, unreferenced
  index_.insert(Record{p});
}

void BatchIndex::ForEach(absl::FunctionRef<void(absl::string_view, Span)> f) const {
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const char* p = blocks_[b].get();
    const char* end = p + block_sizes_[b];
    while (p < end) {
      const Record r{p};
      const absl::string_view id = IdOf(r);
      uint64_t first = 0, count = 0;
      const char* next = GetVarint(GetVarint(id.data() + id.size(), &first), &count);
      auto it = index_.find(id);
      if (it != index_.end() && it->p == p) {
        f(id, Span{static_cast<int64_t>(first), static_cast<int64_t>(count)});
      }
      p = next;
    }
  }
}

size_t BatchIndex::MemoryBytes() const {
  return arena_bytes_ + index_.capacity() * (sizeof(Record) + 1) +
         blocks_.capacity() * sizeof(blocks_[0]) + block_sizes_.capacity() * sizeof(size_t);
}

}  // namespace aad

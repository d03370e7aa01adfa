#include "server/request_parsing.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace aad {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

// Nesting followed when looking for the field (protobuf's own limit is 100).
constexpr int kMaxDepth = 32;
// Bytes of a bad string quoted in the message.
constexpr size_t kQuotedBytes = 32;

struct BadString {
  std::string path;   // from the top message: "feature_names[1]"
  std::string value;  // the field's bytes
};

// The first string field in `bytes` (a `type`) that is not UTF-8, by the
// check protobuf's parser makes; none when the bytes are malformed first.
std::optional<BadString> FindBadString(absl::string_view bytes, const Descriptor& type,
                                       const std::string& prefix, int depth) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return std::nullopt;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  absl::flat_hash_map<int, int> seen;  // occurrences of each repeated field so far
  for (uint32_t tag; (tag = in.ReadTag()) != 0;) {
    const FieldDescriptor* field = type.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool nested = field != nullptr &&
                        (field->type() == FieldDescriptor::TYPE_STRING ||
                         field->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!nested ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
      continue;
    }
    uint32_t length = 0;
    std::string value;
    if (!in.ReadVarint32(&length) || !in.ReadString(&value, static_cast<int>(length))) {
      return std::nullopt;
    }
    std::string path = absl::StrCat(prefix, field->name());
    if (field->is_repeated()) absl::StrAppend(&path, "[", seen[field->number()]++, "]");
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (!google::protobuf::internal::IsStructurallyValidUTF8(value.data(),
                                                               static_cast<int>(value.size()))) {
        return BadString{std::move(path), std::move(value)};
      }
    } else if (depth < kMaxDepth) {
      auto bad = FindBadString(value, *field->message_type(), absl::StrCat(path, "."), depth + 1);
      if (bad.has_value()) return bad;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string DescribeUnparsable(absl::string_view bytes, const Descriptor& type) {
  std::optional<BadString> bad = FindBadString(bytes, type, "", 0);
  if (!bad.has_value()) {
    return absl::StrCat("the request's ", bytes.size(), " bytes are not a valid ",
                        type.full_name(), " (protobuf cannot parse them)");
  }
  const absl::string_view quoted = absl::string_view(bad->value).substr(0, kQuotedBytes);
  return absl::StrCat(type.full_name(), ".", bad->path,
                      " is not valid UTF-8, which a protobuf string must be: '",
                      absl::CHexEscape(quoted), bad->value.size() > quoted.size() ? "'..." : "'",
                      " (", bad->value.size(), " bytes)");
}

absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* message,
                          absl::string_view what) {
  // As gRPC's handlers parse (GenericDeserialize), on a copy: the reader
  // needs a mutable buffer, and the copy only references the same slices.
  grpc::ByteBuffer copy(bytes);
  {
    grpc::ProtoBufferReader reader(&copy);
    if (reader.status().ok() && message->ParseFromZeroCopyStream(&reader)) {
      return absl::OkStatus();
    }
  }
  std::string flat;
  std::vector<grpc::Slice> slices;
  if (bytes.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      flat.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  const std::string why = DescribeUnparsable(flat, *message->GetDescriptor());
  return absl::InvalidArgumentError(what.empty() ? why : absl::StrCat(what, ": ", why));
}

}  // namespace aad

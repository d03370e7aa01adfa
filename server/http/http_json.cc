#include "server/http/http_json.h"

#include <cstdint>
#include <iterator>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>

#include "absl/strings/escaping.h"
#include "core/util/status_macros.h"
#include "absl/strings/str_cat.h"

namespace aad {
namespace {

namespace pb = google::protobuf;

// protobuf 3.21's util::Status is its own class; the message is what the
// client needs (it names the field).
std::string MessageOf(const pb::util::Status& status) { return std::string(status.message()); }

// RFC 3629 UTF-8: protobuf's JSON printer drops a string that is not (an
// error message quoting a client's bytes would lose them silently).
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;  // continuation bytes
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1, code = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2, code = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3, code = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      code = (code << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((n == 2 && code < 0x800) || (n == 3 && code < 0x10000) || code > 0x10ffff ||
        (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

const pb::FieldDescriptor* FieldNamed(const pb::Descriptor& type, const std::string& name) {
  const pb::FieldDescriptor* field = type.FindFieldByName(name);
  if (field == nullptr) field = type.FindFieldByCamelcaseName(name);
  return field;
}

// `s` as a JSON object with its keys in sorted order: MessageToJsonString
// would print a Struct's map in hash order, so that {"code":..,"message":..}
// came out either way round. Serialised deterministically (maps by key),
// then converted. Fails only on a string that is not UTF-8 (what a client
// sent, or a message quoting it).
absl::Status StructToJson(const pb::Struct& s, std::string* json) {
  static pb::util::TypeResolver* const resolver = pb::util::NewTypeResolverForDescriptorPool(
      "type.googleapis.com", pb::DescriptorPool::generated_pool());
  std::string binary;
  {
    pb::io::StringOutputStream raw(&binary);
    pb::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    s.SerializeToCodedStream(&out);
  }
  json->clear();
  const pb::util::Status printed = pb::util::BinaryToJsonString(
      resolver, absl::StrCat("type.googleapis.com/", pb::Struct::descriptor()->full_name()),
      binary, json);
  if (printed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(MessageOf(printed));
}

}  // namespace

absl::Status ParseJsonBody(absl::string_view body, pb::Message* message) {
  message->Clear();
  if (body.empty()) return absl::OkStatus();
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field is an error, not a silent default
  const pb::util::Status parsed =
      pb::util::JsonStringToMessage(pb::StringPiece(body.data(), body.size()), message, options);
  if (parsed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid JSON body for ",
                                                 message->GetDescriptor()->full_name(), ": ",
                                                 MessageOf(parsed)));
}

absl::Status ParseQueryParameters(const std::multimap<std::string, std::string>& parameters,
                                  pb::Message* message) {
  message->Clear();
  if (parameters.empty()) return absl::OkStatus();
  const pb::Descriptor& type = *message->GetDescriptor();
  pb::Struct object;
  for (auto it = parameters.begin(); it != parameters.end();) {
    const std::string& name = it->first;
    const auto end = parameters.upper_bound(name);
    for (auto v = it; v != end; ++v) {
      if (!IsUtf8(name) || !IsUtf8(v->second)) {
        return absl::InvalidArgumentError(absl::StrCat("query parameter '", absl::CHexEscape(name),
                                                       "' is not valid UTF-8"));
      }
    }
    const pb::FieldDescriptor* field = FieldNamed(type, name);
    const bool list = (field != nullptr && field->is_repeated()) || std::next(it) != end;
    pb::Value& value = (*object.mutable_fields())[name];
    for (; it != end; ++it) {
      if (list) {
        value.mutable_list_value()->add_values()->set_string_value(it->second);
      } else {
        value.set_string_value(it->second);
      }
    }
  }
  std::string json;
  RETURN_IF_ERROR(StructToJson(object, &json));
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const pb::util::Status parsed = pb::util::JsonStringToMessage(json, message, options);
  if (parsed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid query parameter for ", type.full_name(),
                                                 ": ", MessageOf(parsed)));
}

absl::Status MessageToJson(const pb::Message& message, std::string* json) {
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  json->clear();
  const pb::util::Status printed = pb::util::MessageToJsonString(message, json, options);
  if (printed.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("cannot print ", message.GetDescriptor()->full_name(),
                                          " as JSON: ", MessageOf(printed)));
}

std::string ErrorToJson(const absl::Status& status) {
  pb::Struct error;
  (*error.mutable_fields())["code"].set_string_value(absl::StatusCodeToString(status.code()));
  // A message quoting bytes that are not UTF-8 (an unknown id from the
  // path) is sent C-escaped, which is ASCII.
  (*error.mutable_fields())["message"].set_string_value(
      IsUtf8(status.message()) ? std::string(status.message()) : absl::CHexEscape(status.message()));
  std::string json;
  (void)StructToJson(error, &json);  // UTF-8 strings only: cannot fail
  return json;
}

}  // namespace aad

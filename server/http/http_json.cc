#include "server/http/http_json.h"

#include <cstdint>
#include <iterator>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/util/json_string.h"

namespace aad {
namespace {

namespace pb = google::protobuf;

// protobuf 3.21's util::Status is its own class; the message is what the
// client needs (it names the field).
std::string MessageOf(const pb::util::Status& status) { return std::string(status.message()); }

// RFC 3629 UTF-8. JsonQuote copies bytes as they are, and protobuf's parser
// refuses what is not UTF-8 without naming the parameter.
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
  // An object of strings and lists of strings, each quoted by JsonQuote:
  // what each value means (number, enum, bool) is protobuf's to read.
  std::string object = "{";
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
    if (object.size() > 1) object.push_back(',');
    absl::StrAppend(&object, JsonQuote(name), ":", list ? "[" : "");
    for (auto v = it; v != end; ++v) {
      absl::StrAppend(&object, v == it ? "" : ",", JsonQuote(v->second));
    }
    if (list) object.push_back(']');
    it = end;
  }
  object.push_back('}');
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const pb::util::Status parsed = pb::util::JsonStringToMessage(object, message, options);
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
  // A message quoting bytes that are not UTF-8 (an unknown id from the
  // path) is sent C-escaped, which is ASCII: the body stays valid JSON.
  const absl::string_view message = status.message();
  return absl::StrCat("{\"code\":", JsonQuote(absl::StatusCodeToString(status.code())),
                      ",\"message\":",
                      JsonQuote(IsUtf8(message) ? std::string(message) : absl::CHexEscape(message)),
                      "}");
}

}  // namespace aad

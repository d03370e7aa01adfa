#include "client/enum_names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace aad {
namespace {

constexpr absl::string_view kUnspecified = "UNSPECIFIED";

std::string Prefix(const google::protobuf::EnumDescriptor* type) {
  const google::protobuf::EnumValueDescriptor* zero = type->FindValueByNumber(0);
  if (zero == nullptr || !absl::EndsWith(zero->name(), kUnspecified)) return "";
  return zero->name().substr(0, zero->name().size() - kUnspecified.size());
}

std::string Short(const google::protobuf::EnumValueDescriptor* v, const std::string& prefix) {
  absl::string_view name = v->name();
  if (absl::StartsWith(name, prefix)) name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(name);
}

}  // namespace

std::string EnumShortName(const google::protobuf::EnumDescriptor* type, int value) {
  const google::protobuf::EnumValueDescriptor* v = type->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat("unknown(", value, ")");
  return Short(v, Prefix(type));
}

absl::StatusOr<int> ParseEnumShortName(const google::protobuf::EnumDescriptor* type,
                                       absl::string_view name, absl::string_view what) {
  const std::string prefix = Prefix(type);
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = type->value(i);
    if (v->number() == 0) continue;
    const std::string s = Short(v, prefix);
    if (s == name) return v->number();
    names.push_back(s);
  }
  return absl::InvalidArgumentError(absl::StrCat(what, " must be one of ",
                                                 absl::StrJoin(names, ", "), "; got '", name,
                                                 "'"));
}

}  // namespace aad

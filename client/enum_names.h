// Short names of the wire API's enums for people and scripts, taken from the
// proto's own value names: QUERY_STRATEGY_DIVERSE is "diverse",
// TRAINING_STATE_IDLE "idle". One rule instead of a table per enum, so a
// value added to aad.proto is named everywhere at once.
#ifndef AADD_CLIENT_ENUM_NAMES_H_
#define AADD_CLIENT_ENUM_NAMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace aad {

// The lower-case value name after the enum's prefix (the name of its
// *_UNSPECIFIED value less "UNSPECIFIED"); "unknown(N)" for a value the
// enum does not define.
std::string EnumShortName(const google::protobuf::EnumDescriptor* type, int value);

// The value whose short name is `name`. INVALID_ARGUMENT naming `what`, the
// value and the names there are (UNSPECIFIED is not one of them).
absl::StatusOr<int> ParseEnumShortName(const google::protobuf::EnumDescriptor* type,
                                       absl::string_view name, absl::string_view what);

}  // namespace aad

#endif  // AADD_CLIENT_ENUM_NAMES_H_

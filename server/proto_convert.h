// Conversions between the wire types (aad.v1) and the session's plain C++
// types, at the service's edge. Defaults of unset fields come from
// aad::ActiveConfig, so one place defines them.
#ifndef AADD_SERVER_PROTO_CONVERT_H_
#define AADD_SERVER_PROTO_CONVERT_H_

#include <vector>

#include "aad/v1/aad.pb.h"
#include "absl/status/statusor.h"
#include "core/active/query_strategy.h"
#include "server/label_book.h"
#include "server/session.h"

namespace aad {

// Unset fields take defaults; INVALID_ARGUMENT for unknown enum values.
// Range checks are ActiveConfig::Validate()'s (SessionManager::Create).
absl::StatusOr<SessionOptions> FromProto(const aad::v1::CreateSessionRequest& request);

// QUERY_STRATEGY_UNSPECIFIED gives OK with *has_value = false.
absl::StatusOr<aad::StrategyKind> FromProto(aad::v1::QueryStrategy strategy, bool* has_value);

// A SubmitLabels request's labels, in order; a withdrawal's `anomaly` is
// dropped (the proto says it is ignored). Validation is the session's.
std::vector<LabelChange> FromProto(
    const google::protobuf::RepeatedPtrField<aad::v1::Label>& labels);

aad::v1::QueryStrategy ToProto(aad::StrategyKind kind);
void ToProto(const SessionInfo& status, aad::v1::SessionInfo* info);
// `names` are the session's feature names (empty: unnamed features).
void ToProto(const aad::Explanation& explanation, const std::vector<std::string>& names,
             aad::v1::Explanation* out);

}  // namespace aad

#endif  // AADD_SERVER_PROTO_CONVERT_H_

// How aadctl prints replies: a table for people, one JSON object a line with
// --json for scripts (strings through aad::JsonQuote, so any message stays
// valid JSON).
#ifndef AADD_CLIENT_AADCTL_OUTPUT_H_
#define AADD_CLIENT_AADCTL_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "aad/v1/aad.pb.h"

namespace aad {

// "aadctl: CODE: message" on stderr; returns the exit status 1.
int PrintError(const absl::Status& status);

// The text of one session (status, sessions, import --json): a line.
std::string FormatSession(const aad::v1::SessionInfo& s, bool json);
std::string FormatCandidates(const aad::v1::GetQueryCandidatesResponse& c, bool json);
// Scores of inline rows, in input order, from the model `version`.
std::string FormatScores(const std::vector<float>& p, const std::vector<float>& s,
                         int64_t version, bool json);

}  // namespace aad

#endif  // AADD_CLIENT_AADCTL_OUTPUT_H_

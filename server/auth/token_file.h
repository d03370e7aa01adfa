// The bearer-token file of --auth_tokens: one "TOKEN TENANT" a line, blank
// lines and '#' comments allowed. Read into SHA-256 digests at once, so
// that no token stays in the process's memory in plaintext (a core dump or
// a log line cannot show one), and checked whole before any of it is used:
// a bad line is an error naming the file and line number, never the token.
#ifndef AADD_SERVER_AUTH_TOKEN_FILE_H_
#define AADD_SERVER_AUTH_TOKEN_FILE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace aad {

using TokenDigest = std::array<uint8_t, 32>;

// Tokens shorter than this are refused: a guessable secret is none.
inline constexpr size_t kMinTokenLength = 16;

struct TokenEntry {
  TokenDigest digest;  // SHA-256 of the token
  std::string tenant;
};

// SHA-256 of `token`.
TokenDigest DigestToken(absl::string_view token);

// OK for a tenant name: 1-64 characters of letters, digits, '_' and '-'
// (what session ids allow: a tenant appears in logs and responses as it is);
// INVALID_ARGUMENT naming the value otherwise. The anonymous tenant ""
// (no --auth_tokens) is no name a file may give.
absl::Status ValidateTenantName(absl::string_view tenant);

// Parses the file's text. `path` names the file in errors
// (INVALID_ARGUMENT "PATH line N: ..."): a line that is not two fields, a
// token shorter than kMinTokenLength or holding bytes outside printable
// ASCII, a bad tenant name, a token given twice; no token at all is an
// error too (every call would be refused).
absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view text,
                                                       absl::string_view path);

// Reads and parses the file at `path`. FAILED_PRECONDITION naming the file
// and its mode when others may read it (mode & 0004); NOT_FOUND /
// PERMISSION_DENIED / UNAVAILABLE naming it when it cannot be read.
absl::StatusOr<std::vector<TokenEntry>> ReadTokenFile(const std::string& path);

}  // namespace aad

#endif  // AADD_SERVER_AUTH_TOKEN_FILE_H_

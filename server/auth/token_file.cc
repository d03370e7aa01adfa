#include "server/auth/token_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace aad {
namespace {

bool IsTokenByte(char c) { return c > ' ' && c < 0x7f; }

struct DigestHash {
  size_t operator()(const TokenDigest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof(h));
    return h;
  }
};

absl::Status LineError(absl::string_view path, int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, " line ", line, ": ", what));
}

absl::Status ErrnoError(int err, const std::string& what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

}  // namespace

TokenDigest DigestToken(absl::string_view token) {
  TokenDigest digest;
  unsigned int size = 0;
  EVP_Digest(token.data(), token.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

absl::Status ValidateTenantName(absl::string_view tenant) {
  const bool ok = !tenant.empty() && tenant.size() <= 64 &&
                  std::all_of(tenant.begin(), tenant.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                           c == '-';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("tenant '", absl::CHexEscape(tenant),
                   "' is not 1-64 characters of letters, digits, '_' and '-'"));
}

absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view text,
                                                       absl::string_view path) {
  std::vector<TokenEntry> entries;
  // The line each digest came from, to name both lines of a duplicate.
  absl::flat_hash_map<TokenDigest, int, DigestHash> first_line;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(trimmed, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    // Never the line itself in a message: it holds a token.
    if (fields.size() != 2) {
      return LineError(path, line_number,
                       absl::StrCat("expected 'TOKEN TENANT' (two fields), got ", fields.size(),
                                    " fields"));
    }
    const absl::string_view token = fields[0];
    if (!std::all_of(token.begin(), token.end(), IsTokenByte)) {
      return LineError(path, line_number,
                       "the token holds a byte outside printable ASCII (it is sent as a header)");
    }
    if (token.size() < kMinTokenLength) {
      return LineError(path, line_number,
                       absl::StrCat("the token has ", token.size(),
                                    " characters; a token needs at least ", kMinTokenLength));
    }
    if (absl::Status valid = ValidateTenantName(fields[1]); !valid.ok()) {
      return LineError(path, line_number, valid.message());
    }
    TokenEntry entry{DigestToken(token), std::string(fields[1])};
    auto [it, inserted] = first_line.emplace(entry.digest, line_number);
    if (!inserted) {
      return LineError(path, line_number,
                       absl::StrCat("the token of line ", it->second, " again"));
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " holds no token: every call would be refused"));
  }
  return entries;
}

absl::StatusOr<std::vector<TokenEntry>> ReadTokenFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot read the token file ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the token file ", path, " is not a regular file"));
  }
  if ((st.st_mode & S_IROTH) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the token file %s is world-readable (mode %04o); make it private: chmod o-rwx %s",
        path, st.st_mode & 07777, path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError(errno, absl::StrCat("cannot read the token file ", path));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return ErrnoError(errno, absl::StrCat("cannot read the token file ", path));
  absl::StatusOr<std::vector<TokenEntry>> entries = ParseTokenFile(text, path);
  // Only the digests stay in memory.
  OPENSSL_cleanse(text.data(), text.size());
  return entries;
}

}  // namespace aad

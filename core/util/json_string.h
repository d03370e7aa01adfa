// One JSON string literal writer for every hand-built JSON line of the
// project (aad-eval's and aadctl's reports): quotes, backslashes and every
// control character are escaped, so a message holding a newline still
// prints one valid JSON value.
#ifndef AADD_CORE_UTIL_JSON_STRING_H_
#define AADD_CORE_UTIL_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace aad {

// `s` as a JSON string literal, quotes included (RFC 8259: ", \ and
// U+0000..U+001F escaped; other bytes, UTF-8 included, copied).
std::string JsonQuote(absl::string_view s);

}  // namespace aad

#endif  // AADD_CORE_UTIL_JSON_STRING_H_

#include "format/feature_names.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace aad {
namespace {

// Offset of the first byte of `s` that is not part of a well-formed UTF-8
// sequence (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), or -1 when all of it is.
int64_t InvalidUtf8Offset(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return static_cast<int64_t>(i);  // a continuation byte, C0, C1 or F5..FF
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return static_cast<int64_t>(i);
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return static_cast<int64_t>(i);
    }
    i += len;
  }
  return -1;
}

}  // namespace

std::string QuoteFeatureName(absl::string_view name) {
  constexpr size_t kShown = 64;
  if (name.size() <= kShown) return absl::StrCat("'", absl::CHexEscape(name), "'");
  return absl::StrCat("'", absl::CHexEscape(name.substr(0, kShown)), "...'");
}

absl::Status ValidateFeatureNames(absl::Span<const std::string> names, int64_t feature_count) {
  if (static_cast<int64_t>(names.size()) != feature_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        names.size(), " feature names for ", feature_count,
        " features: give one name per column, or none"));
  }
  // Name -> its first position, to name both ends of a repeat.
  absl::flat_hash_map<absl::string_view, size_t> seen;
  seen.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature name ", i, " '' is empty: every column needs a name"));
    }
    if (name.size() > kMaxFeatureNameBytes) {
      return absl::InvalidArgumentError(absl::StrCat("feature name ", i, " ",
                                                     QuoteFeatureName(name), " is ", name.size(),
                                                     " bytes, over the limit of ",
                                                     kMaxFeatureNameBytes));
    }
    if (const int64_t bad = InvalidUtf8Offset(name); bad >= 0) {
      return absl::InvalidArgumentError(absl::StrCat("feature name ", i, " ",
                                                     QuoteFeatureName(name),
                                                     " is not valid UTF-8 (at byte ", bad, ")"));
    }
    auto [it, inserted] = seen.try_emplace(name, i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("feature name ", i, " ",
                                                     QuoteFeatureName(name),
                                                     " repeats feature name ", it->second,
                                                     ": names must be unique"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFeatureNamesUpdate(absl::Span<const std::string> current,
                                     int64_t feature_count,
                                     absl::Span<const std::string> names) {
  if (current.empty()) {
    return ValidateFeatureNames(
        names, feature_count != 0 ? feature_count : static_cast<int64_t>(names.size()));
  }
  const int64_t i = FirstDifferentFeatureName(names, current);
  if (i < 0) return absl::OkStatus();
  const auto at = [i](absl::Span<const std::string> list) {
    return i < static_cast<int64_t>(list.size()) ? QuoteFeatureName(list[i])
                                                 : std::string("missing");
  };
  return absl::FailedPreconditionError(absl::StrCat(
      "feature names are set once: feature name ", i, " is ", at(names), " now but ",
      at(current), " as stored"));
}

int64_t FirstDifferentFeatureName(absl::Span<const std::string> a,
                                  absl::Span<const std::string> b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  }
  return a.size() == b.size() ? -1 : static_cast<int64_t>(common);
}

}  // namespace aad

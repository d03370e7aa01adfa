#include "tests/metrics/exposition.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace aad::testing {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == ':';
}

// Reads `{a="x",b="y"}` from the front of *rest (escapes \\ \" \n).
bool ReadLabels(absl::string_view* rest, MetricLabels* labels) {
  if (!absl::ConsumePrefix(rest, "{")) return true;
  while (!absl::ConsumePrefix(rest, "}")) {
    size_t eq = rest->find("=\"");
    if (eq == absl::string_view::npos) return false;
    std::string key(rest->substr(0, eq));
    rest->remove_prefix(eq + 2);
    std::string value;
    for (;;) {
      if (rest->empty()) return false;
      const char c = rest->front();
      rest->remove_prefix(1);
      if (c == '"') break;
      if (c == '\\' && !rest->empty()) {
        const char e = rest->front();
        rest->remove_prefix(1);
        value.push_back(e == 'n' ? '\n' : e);
      } else {
        value.push_back(c);
      }
    }
    (*labels)[key] = value;
    absl::ConsumePrefix(rest, ",");
  }
  return true;
}

}  // namespace

absl::StatusOr<Exposition> Exposition::Parse(absl::string_view text) {
  Exposition out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    Sample sample;
    size_t n = 0;
    while (n < line.size() && IsNameChar(line[n])) ++n;
    sample.name = std::string(line.substr(0, n));
    absl::string_view rest = line.substr(n);
    const bool labels_ok = ReadLabels(&rest, &sample.labels);
    rest = absl::StripLeadingAsciiWhitespace(rest);
    double value = 0;
    const bool value_ok = rest == "+Inf"   ? (value = HUGE_VAL, true)
                          : rest == "-Inf" ? (value = -HUGE_VAL, true)
                                           : absl::SimpleAtod(rest, &value);
    if (sample.name.empty() || !labels_ok || !value_ok) {
      return absl::InvalidArgumentError(absl::StrCat("not a sample line: '", line, "'"));
    }
    sample.value = value;
    out.samples_.push_back(std::move(sample));
  }
  return out;
}

std::optional<double> Exposition::Value(const std::string& name,
                                        const MetricLabels& labels) const {
  for (const Sample& s : samples_) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::vector<Sample> Exposition::All(const std::string& name) const {
  std::vector<Sample> out;
  for (const Sample& s : samples_) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

}  // namespace aad::testing

// libFuzzer target: the CSV reader on untrusted bytes. Either a dataset
// whose shape is consistent, or an error naming the problem.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "core/data/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool require_labels : {false, true}) {
    aad::CsvOptions options;
    options.label_column = "label";
    options.require_labels = require_labels;
    auto parsed = aad::ParseCsv(text, "fuzz input", options);
    if (!parsed.ok()) {
      if (parsed.status().message().empty()) __builtin_trap();  // errors say what is wrong
      continue;
    }
    const aad::Dataset& d = *parsed;
    if (d.features.rows() != d.rows() || (d.has_labels() && d.labels.size() != static_cast<size_t>(d.rows()))) {
      __builtin_trap();
    }
    if (!d.features.allFinite()) __builtin_trap();  // NaN and Inf are refused
  }
  return 0;
}

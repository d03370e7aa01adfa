#include "cli/command_line.h"

#include <algorithm>

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace aad {

void ShowFlagsOfFileInHelp(absl::string_view source_file) {
  absl::FlagsUsageConfig usage;
  std::string suffix(source_file);
  usage.contains_help_flags = [suffix](absl::string_view file) {
    return absl::EndsWith(file, suffix);
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
}

std::vector<char*> NormaliseFlagNames(int argc, char** argv, std::vector<std::string>* storage) {
  storage->clear();
  storage->reserve(argc);
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      std::replace(arg.begin() + 2, arg.begin() + end, '-', '_');
    } else if (arg == "-k" || arg.rfind("-k=", 0) == 0) {
      arg = "-" + arg;
    }
    storage->push_back(std::move(arg));
  }
  std::vector<char*> out;
  for (std::string& s : *storage) out.push_back(s.data());
  return out;
}

}  // namespace aad

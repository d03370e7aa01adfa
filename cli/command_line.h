// Command-line plumbing shared by the project's binaries (aadd, aadctl,
// aad-eval), on absl flags.
#ifndef AADD_CLI_COMMAND_LINE_H_
#define AADD_CLI_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace aad {

// Makes --help list the flags defined in `source_file` (a path suffix such
// as "/aadctl.cc"): Abseil's default looks for a file named after the
// binary, which ours are not.
void ShowFlagsOfFileInHelp(absl::string_view source_file);

// absl flags spell names with underscores; users type --label-column. Returns
// argv with dashes in flag names turned into underscores (values untouched)
// and the short flag -k spelled --k. `storage` owns the strings and must
// outlive the result.
std::vector<char*> NormaliseFlagNames(int argc, char** argv, std::vector<std::string>* storage);

}  // namespace aad

#endif  // AADD_CLI_COMMAND_LINE_H_

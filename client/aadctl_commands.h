// aadctl's subcommands. Each takes the connected client and the positional
// arguments after its name, reads its flags (aadctl_flags.h), prints its
// result on stdout and returns the process exit status (errors: the
// server's code and message on stderr, status 1).
#ifndef AADD_CLIENT_AADCTL_COMMANDS_H_
#define AADD_CLIENT_AADCTL_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/aad_client.h"

namespace aad {

using CommandArgs = std::vector<std::string>;
using CommandFn = int (*)(AadClient* client, const CommandArgs& args);

struct Command {
  const char* name;
  CommandFn run;
};

// Every subcommand, in the order --help lists them.
const std::vector<Command>& Commands();

// The subcommand called `name`, or null.
const Command* FindCommand(absl::string_view name);

}  // namespace aad

#endif  // AADD_CLIENT_AADCTL_COMMANDS_H_

// aadctl: the command-line client of aadd. Scriptable: `create` prints the
// new session's id alone; errors print the server's message and exit 1.
// The subcommands are in aadctl_commands.cc, their flags in aadctl_flags.cc.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "cli/command_line.h"
#include "client/aad_client.h"
#include "client/aadctl_commands.h"
#include "client/aadctl_flags.h"

int main(int argc, char** argv) {
  aad::ShowFlagsOfFileInHelp("/aadctl_flags.cc");
  absl::SetProgramUsageMessage(
      "Command-line client of aadd.\n"
      "  aadctl create [--session ID] [--detector autoencoder|deep_svdd] [--strategy S] [--seed S]\n"
      "                                            prints the id (--session: chosen, else the server's)\n"
      "  aadctl ingest FILE.csv --session ID [--label-column label]\n"
      "  aadctl train --session ID\n"
      "  aadctl candidates -k N --session ID [--strategy S] [--json]\n"
      "  aadctl label ROW_ID=anomaly|nominal|withdraw ... --session ID [--wait]\n"
      "  aadctl score FILE.csv --session ID [--json]\n"
      "  aadctl status --session ID [--json]\n"
      "  aadctl sessions | delete --session ID | health\n"
      "  aadctl export SESSION FILE        the session (rows, labels, model) as one file\n"
      "  aadctl import FILE [--session NEW_ID]   recreates it, here or on another server\n"
      "  aadctl simulate --data FILE.csv [--label-column label] [--anomaly-value anomaly]\n"
      "                  --budget B [--strategy S] [--seed S] [--runs R] [--json]\n"
      "  aadctl simulate --synthetic clustered|low_density --rows N --dims D --budget B ...\n"
      "Every subcommand takes --server host:port (default localhost:50051), --token T\n"
      "(default $AADD_TOKEN) for a server with --auth_tokens, and for TLS\n"
      "--tls_ca CA.pem [--tls_cert client.pem --tls_key client.key] [--tls_server_name N].");
  std::vector<std::string> storage;
  std::vector<char*> args = aad::NormaliseFlagNames(argc, argv, &storage);
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() < 2) {
    std::cerr << "aadctl: give a subcommand (aadctl --help lists them)\n";
    return 2;
  }
  const std::string command = positional[1];
  std::vector<std::string> rest(positional.begin() + 2, positional.end());
  const aad::Command* run = aad::FindCommand(command);
  if (run == nullptr) {
    std::cerr << "aadctl: unknown subcommand '" << command << "' (aadctl --help lists them)\n";
    return 2;
  }
  aad::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_server);
  options.timeout = std::chrono::seconds(absl::GetFlag(FLAGS_timeout_s));
  options.ingest_batch_rows = absl::GetFlag(FLAGS_batch_rows);
  options.token = absl::GetFlag(FLAGS_token);
  if (const char* env = std::getenv("AADD_TOKEN"); options.token.empty() && env != nullptr) {
    options.token = env;
  }
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.use_tls = !options.tls_server_name.empty();
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    std::cerr << "aadctl: --tls_cert and --tls_key go together (got --tls_cert='"
              << options.tls_cert_file << "' --tls_key='" << options.tls_key_file << "')\n";
    return 2;
  }
  auto client = aad::AadClient::Create(options);
  if (!client.ok()) {
    std::cerr << "aadctl: TLS (--tls_ca, --tls_cert, --tls_key): " << client.status().message()
              << "\n";
    return 1;
  }
  return run->run(client->get(), rest);
}

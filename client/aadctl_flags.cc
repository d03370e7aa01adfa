// aadctl's flags: one place, so that --help lists them all
// (ShowFlagsOfFileInHelp("/aadctl_flags.cc")).
#include "client/aadctl_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, server, "localhost:50051", "host:port of the aadd server");
ABSL_FLAG(std::string, session, "",
          "session id (every session subcommand; import: the id to give the imported session)");
ABSL_FLAG(bool, json, false,
          "machine-readable output (candidates, score, status, import, simulate)");
ABSL_FLAG(int, k, 10, "candidates: how many rows to propose");
ABSL_FLAG(int, explain_top, 5,
          "candidates: features named in each candidate's explanation (0: no explanations)");
ABSL_FLAG(std::string, strategy, "",
          "query strategy top|uncertain|diverse|random (create: the session default; "
          "candidates: this call; simulate: default top)");
ABSL_FLAG(std::string, detector, "autoencoder", "create/simulate: autoencoder | deep_svdd");
ABSL_FLAG(int, pretrain_epochs, -1, "create/simulate: unsupervised pre-training epochs (-1 = server default)");
ABSL_FLAG(bool, freeze_detector, true, "create/simulate: keep the pre-trained detector fixed");
ABSL_FLAG(bool, leaf_inputs, true,
          "create/simulate: the UAI layer reads the forest's leaves (labels move their region)");
ABSL_FLAG(float, leaf_input_scale, 0,
          "create/simulate: how cheaply labels move a region's scores (0 = server default)");
ABSL_FLAG(uint64_t, seed, 1, "create: the session seed; simulate: seed of the first run (run r uses seed + r)");
ABSL_FLAG(std::string, label_column, "label",
          "ingest/score/simulate: ground-truth column of the CSV (not ingested as a feature)");
ABSL_FLAG(std::string, anomaly_value, "anomaly", "simulate: ground-truth value that means anomaly");
ABSL_FLAG(std::string, data, "", "simulate: CSV file with a header row and a ground-truth column");
ABSL_FLAG(std::string, synthetic, "", "simulate: instead of --data, clustered | low_density");
ABSL_FLAG(int64_t, rows, 2000, "simulate: rows of synthetic data");
ABSL_FLAG(int, dims, 8, "simulate: features of synthetic data");
ABSL_FLAG(int64_t, budget, 300, "simulate: rows shown to the simulated expert");
ABSL_FLAG(int64_t, batch, 1, "simulate: rows shown per feedback round");
ABSL_FLAG(int, runs, 1, "simulate: independent runs (different seeds)");
ABSL_FLAG(int64_t, batch_rows, 4096, "ingest: rows per Ingest message");
ABSL_FLAG(bool, wait, false, "label: wait until the model includes the labels");
ABSL_FLAG(int, timeout_s, 600, "deadline of each call in seconds (train: none)");

// TLS (issue 14): aadd --tls_cert turns it on; --tls_client_ca asks for
// --tls_cert/--tls_key here.
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA file that signed the server's certificate: connects with TLS");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM client certificate, for a server that requires one (mutual TLS); with --tls_key");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_server_name, "",
          "name to check the server's certificate against, instead of --server's host");
// Tokens and tenants (issue 14).
ABSL_FLAG(std::string, token, "",
          "bearer token for a server with --auth_tokens, sent as 'authorization: Bearer'; "
          "default: the AADD_TOKEN environment variable (which, unlike a flag, ps does not show)");

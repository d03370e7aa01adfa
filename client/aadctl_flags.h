// aadctl's flags, defined in aadctl_flags.cc and read by its subcommands.
#ifndef AADD_CLIENT_AADCTL_FLAGS_H_
#define AADD_CLIENT_AADCTL_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(std::string, session);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(int, k);
ABSL_DECLARE_FLAG(int, explain_top);
ABSL_DECLARE_FLAG(std::string, strategy);
ABSL_DECLARE_FLAG(std::string, detector);
ABSL_DECLARE_FLAG(int, pretrain_epochs);
ABSL_DECLARE_FLAG(bool, freeze_detector);
ABSL_DECLARE_FLAG(bool, leaf_inputs);
ABSL_DECLARE_FLAG(float, leaf_input_scale);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(std::string, label_column);
ABSL_DECLARE_FLAG(std::string, anomaly_value);
ABSL_DECLARE_FLAG(std::string, data);
ABSL_DECLARE_FLAG(std::string, synthetic);
ABSL_DECLARE_FLAG(int64_t, rows);
ABSL_DECLARE_FLAG(int, dims);
ABSL_DECLARE_FLAG(int64_t, budget);
ABSL_DECLARE_FLAG(int64_t, batch);
ABSL_DECLARE_FLAG(int, runs);
ABSL_DECLARE_FLAG(int64_t, batch_rows);
ABSL_DECLARE_FLAG(bool, wait);
ABSL_DECLARE_FLAG(int, timeout_s);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_server_name);
ABSL_DECLARE_FLAG(std::string, token);

#endif  // AADD_CLIENT_AADCTL_FLAGS_H_

// The process's Prometheus metrics: one registry and its families, served
// as text by GET /metrics on the HTTP port (exposition format 0.0.4).
//
//   grpc_server_started_total{grpc_service,grpc_method,grpc_type}
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}   histogram
//       the names and labels of go-grpc-prometheus, so that its dashboards
//       work; counted by GrpcMetricsInterceptor for every call
//   aadd_sessions, aadd_pool_rows, aadd_training_queue_depth           gauges
//   aadd_labels_total, aadd_anomalies_found_total                      counters
//   aadd_training_seconds{kind="full"|"label_update"}, aadd_feedback_round_seconds,
//   aadd_store_commit_seconds                                          histograms
//   aadd_http_requests_total{path_template,code}, aadd_http_request_seconds{path_template}
//
// Label sets are bounded: gRPC methods come from the services registered
// before serving (AddGrpcMethod), anything else is "unknown"; HTTP paths
// are the router's templates or "unmatched"; nothing is per session.
// Prometheus-cpp (Debian's prometheus-cpp-dev) for the registry and the
// text format only: the exposition rides on the existing HTTP gateway
// rather than its civetweb server on a second port.
#ifndef AADD_SERVER_METRICS_METRICS_H_
#define AADD_SERVER_METRICS_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "server/metrics/grpc_code_names.h"
#include "server/metrics/session_metrics.h"

namespace aad {

using GrpcCallType = grpc::experimental::ServerRpcInfo::Type;

// The series of one gRPC method (or of the "unknown" one of a call type).
// Thread-safe.
class GrpcMethodMetrics {
 public:
  GrpcMethodMetrics(prometheus::Family<prometheus::Counter>* handled,
                    prometheus::Counter* started, prometheus::Histogram* seconds,
                    prometheus::Labels labels);

  void Started() { started_->Increment(); }
  void Handled(grpc::StatusCode code, double seconds);

 private:
  prometheus::Family<prometheus::Counter>* const handled_family_;
  prometheus::Counter* const started_;
  prometheus::Histogram* const seconds_;
  const prometheus::Labels labels_;  // service, method, type
  // One series per code, made on first use (Family::Add is idempotent, so
  // two threads racing to make it store the same pointer): a method shows
  // only the codes it answered, as go-grpc-prometheus does.
  std::array<std::atomic<prometheus::Counter*>, kGrpcCodeCount> handled_{};
};

class Metrics final : public SessionMetrics {
 public:
  Metrics();
  ~Metrics() override;

  // Registers a method, before the server serves (not thread-safe with
  // the calls below). `service` is the full name ("aad.v1.AadService").
  void AddGrpcMethod(absl::string_view service, absl::string_view method,
                     GrpcCallType type);
  // Every method of `service` (AddGrpcMethod), typed by its streaming.
  void AddGrpcService(const google::protobuf::ServiceDescriptor& service);
  // The series of the method at `path` ("/aad.v1.AadService/Score"), or the
  // "unknown" one of `type`. Thread-safe.
  GrpcMethodMetrics* ForGrpcMethod(absl::string_view path,
                                   GrpcCallType type);

  // One HTTP request answered: `path_template` is the router's pattern of
  // its path ("/v1/sessions/{id}/candidates") or "unmatched". Thread-safe.
  void CountHttpRequest(absl::string_view path_template, int status, double seconds);

  // Every series in the text exposition format 0.0.4. Thread-safe.
  std::string Scrape() const;

  // SessionMetrics.
  void SessionAdded(int64_t rows) override;
  void SessionRemoved(int64_t rows) override;
  void RowsAdded(int64_t rows) override;
  void LabelsStored(int64_t verdicts, int64_t anomalies_found) override;
  void TrainingRun(bool full, double seconds) override;
  void FeedbackRound(double seconds) override;
  void TrainingQueueDepth(int64_t jobs) override;
  void StoreCommit(double seconds) override;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  // Families, owned by the registry.
  prometheus::Family<prometheus::Counter>* grpc_started_;
  prometheus::Family<prometheus::Counter>* grpc_handled_;
  prometheus::Family<prometheus::Histogram>* grpc_seconds_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Histogram>* http_seconds_;
  // Series, owned by their families.
  prometheus::Gauge* sessions_;
  prometheus::Gauge* pool_rows_;
  prometheus::Gauge* queue_depth_;
  prometheus::Counter* labels_;
  prometheus::Counter* anomalies_found_;
  prometheus::Histogram* training_full_;
  prometheus::Histogram* training_update_;
  prometheus::Histogram* feedback_round_;
  prometheus::Histogram* store_commit_;

  // Constant once serving (AddGrpcMethod runs before).
  absl::flat_hash_map<std::string, std::unique_ptr<GrpcMethodMetrics>> methods_;
  std::array<std::unique_ptr<GrpcMethodMetrics>, 4> unknown_;  // by GrpcCallType

  GrpcMethodMetrics* MakeMethod(absl::string_view service, absl::string_view method,
                                GrpcCallType type);
};

// grpc_type's value: "unary", "client_stream", "server_stream", "bidi_stream".
absl::string_view GrpcTypeName(GrpcCallType type);

}  // namespace aad

#endif  // AADD_SERVER_METRICS_METRICS_H_

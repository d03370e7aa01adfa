#include "server/metrics/metrics.h"

#include <utility>
#include <vector>

#include <prometheus/text_serializer.h>

#include "absl/strings/str_cat.h"

namespace aad {
namespace {

// go-grpc-prometheus's default buckets (prometheus.DefBuckets).
const prometheus::Histogram::BucketBoundaries& RequestBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return *buckets;
}

// A label update takes milliseconds, a full training up to minutes.
const prometheus::Histogram::BucketBoundaries& TrainingBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return *buckets;
}

// A commit is tens of microseconds in memory, milliseconds on a disk.
const prometheus::Histogram::BucketBoundaries& CommitBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1};
  return *buckets;
}

constexpr GrpcCallType kCallTypes[] = {GrpcCallType::UNARY, GrpcCallType::CLIENT_STREAMING,
                                       GrpcCallType::SERVER_STREAMING,
                                       GrpcCallType::BIDI_STREAMING};

}  // namespace

absl::string_view GrpcTypeName(GrpcCallType type) {
  switch (type) {
    case GrpcCallType::UNARY: return "unary";
    case GrpcCallType::CLIENT_STREAMING: return "client_stream";
    case GrpcCallType::SERVER_STREAMING: return "server_stream";
    case GrpcCallType::BIDI_STREAMING: return "bidi_stream";
  }
  return "unary";
}

GrpcMethodMetrics::GrpcMethodMetrics(prometheus::Family<prometheus::Counter>* handled,
                                     prometheus::Counter* started,
                                     prometheus::Histogram* seconds, prometheus::Labels labels)
    : handled_family_(handled), started_(started), seconds_(seconds), labels_(std::move(labels)) {}

void GrpcMethodMetrics::Handled(grpc::StatusCode code, double seconds) {
  int index = static_cast<int>(code);
  if (index < 0 || index >= kGrpcCodeCount) index = static_cast<int>(grpc::StatusCode::UNKNOWN);
  prometheus::Counter* counter = handled_[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    prometheus::Labels labels = labels_;
    labels["grpc_code"] = std::string(GrpcCodeName(static_cast<grpc::StatusCode>(index)));
    counter = &handled_family_->Add(labels);
    handled_[index].store(counter, std::memory_order_release);
  }
  counter->Increment();
  seconds_->Observe(seconds);
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
  grpc_started_ = &prometheus::BuildCounter()
                       .Name("grpc_server_started_total")
                       .Help("Total number of RPCs started on the server.")
                       .Register(r);
  grpc_handled_ = &prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("Total number of RPCs completed on the server, regardless of "
                             "success or failure.")
                       .Register(r);
  grpc_seconds_ = &prometheus::BuildHistogram()
                       .Name("grpc_server_handling_seconds")
                       .Help("Histogram of response latency (seconds) of gRPC that had been "
                             "application-level handled by the server.")
                       .Register(r);
  http_requests_ = &prometheus::BuildCounter()
                        .Name("aadd_http_requests_total")
                        .Help("HTTP API requests answered, by path template and status code.")
                        .Register(r);
  http_seconds_ = &prometheus::BuildHistogram()
                       .Name("aadd_http_request_seconds")
                       .Help("HTTP API request latency (seconds), by path template.")
                       .Register(r);
  sessions_ = &prometheus::BuildGauge()
                   .Name("aadd_sessions")
                   .Help("Sessions held by the server.")
                   .Register(r)
                   .Add({});
  pool_rows_ = &prometheus::BuildGauge()
                    .Name("aadd_pool_rows")
                    .Help("Rows held over all sessions.")
                    .Register(r)
                    .Add({});
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("aadd_training_queue_depth")
                      .Help("Training jobs queued for a training thread, not yet running.")
                      .Register(r)
                      .Add({});
  labels_ = &prometheus::BuildCounter()
                 .Name("aadd_labels_total")
                 .Help("Verdicts stored (new labels and relabels; withdrawals not counted).")
                 .Register(r)
                 .Add({});
  anomalies_found_ = &prometheus::BuildCounter()
                          .Name("aadd_anomalies_found_total")
                          .Help("Verdicts stored that made a row an anomaly that was not one "
                                "just before (relabels to anomaly included; withdrawals and "
                                "relabels to nominal never subtract).")
                          .Register(r)
                          .Add({});
  auto& training = prometheus::BuildHistogram()
                       .Name("aadd_training_seconds")
                       .Help("Training runs (seconds), by kind: full training or label update.")
                       .Register(r);
  training_full_ = &training.Add({{"kind", "full"}}, TrainingBuckets());
  training_update_ = &training.Add({{"kind", "label_update"}}, TrainingBuckets());
  feedback_round_ = &prometheus::BuildHistogram()
                         .Name("aadd_feedback_round_seconds")
                         .Help("From a label submission stored to the model holding it "
                               "published (seconds).")
                         .Register(r)
                         .Add({}, TrainingBuckets());
  store_commit_ = &prometheus::BuildHistogram()
                       .Name("aadd_store_commit_seconds")
                       .Help("Durable write transactions of the session store (seconds).")
                       .Register(r)
                       .Add({}, CommitBuckets());
  for (GrpcCallType type : kCallTypes) {
    unknown_[static_cast<int>(type)].reset(MakeMethod("unknown", "unknown", type));
  }
}

Metrics::~Metrics() = default;

GrpcMethodMetrics* Metrics::MakeMethod(absl::string_view service, absl::string_view method,
                                       GrpcCallType type) {
  prometheus::Labels labels = {{"grpc_service", std::string(service)},
                               {"grpc_method", std::string(method)},
                               {"grpc_type", std::string(GrpcTypeName(type))}};
  return new GrpcMethodMetrics(grpc_handled_, &grpc_started_->Add(labels),
                               &grpc_seconds_->Add(labels, RequestBuckets()), labels);
}

void Metrics::AddGrpcMethod(absl::string_view service, absl::string_view method,
                            GrpcCallType type) {
  std::string path = absl::StrCat("/", service, "/", method);
  if (methods_.contains(path)) return;
  methods_[path].reset(MakeMethod(service, method, type));
}

void Metrics::AddGrpcService(const google::protobuf::ServiceDescriptor& service) {
  for (int i = 0; i < service.method_count(); ++i) {
    const google::protobuf::MethodDescriptor& m = *service.method(i);
    const GrpcCallType type = m.client_streaming()
                                  ? (m.server_streaming() ? GrpcCallType::BIDI_STREAMING
                                                          : GrpcCallType::CLIENT_STREAMING)
                                  : (m.server_streaming() ? GrpcCallType::SERVER_STREAMING
                                                          : GrpcCallType::UNARY);
    AddGrpcMethod(service.full_name(), m.name(), type);
  }
}

GrpcMethodMetrics* Metrics::ForGrpcMethod(absl::string_view path, GrpcCallType type) {
  const auto it = methods_.find(path);
  if (it != methods_.end()) return it->second.get();
  return unknown_[static_cast<int>(type)].get();
}

void Metrics::CountHttpRequest(absl::string_view path_template, int status, double seconds) {
  const std::string path(path_template);
  http_requests_->Add({{"path_template", path}, {"code", absl::StrCat(status)}}).Increment();
  http_seconds_->Add({{"path_template", path}}, RequestBuckets()).Observe(seconds);
}

std::string Metrics::Scrape() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void Metrics::SessionAdded(int64_t rows) {
  sessions_->Increment();
  pool_rows_->Increment(static_cast<double>(rows));
}

void Metrics::SessionRemoved(int64_t rows) {
  sessions_->Decrement();
  pool_rows_->Decrement(static_cast<double>(rows));
}

void Metrics::RowsAdded(int64_t rows) { pool_rows_->Increment(static_cast<double>(rows)); }

void Metrics::LabelsStored(int64_t verdicts, int64_t anomalies_found) {
  labels_->Increment(static_cast<double>(verdicts));
  anomalies_found_->Increment(static_cast<double>(anomalies_found));
}

void Metrics::TrainingRun(bool full, double seconds) {
  (full ? training_full_ : training_update_)->Observe(seconds);
}

void Metrics::FeedbackRound(double seconds) { feedback_round_->Observe(seconds); }

void Metrics::TrainingQueueDepth(int64_t jobs) {
  queue_depth_->Set(static_cast<double>(jobs));
}

void Metrics::StoreCommit(double seconds) { store_commit_->Observe(seconds); }

}  // namespace aad

#include "server/metrics/grpc_metrics_interceptor.h"

#include <grpcpp/server_context.h>

#include <chrono>

namespace aad {
namespace {

using grpc::experimental::InterceptionHookPoints;

class GrpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcMetricsInterceptor(grpc::experimental::ServerRpcInfo* info, GrpcMethodMetrics* method)
      : info_(info), method_(method), start_(std::chrono::steady_clock::now()) {
    method_->Started();
  }
  // A call destroyed without sending a status (gRPC cancelled it before
  // the handler finished) was still handled: as go-grpc-prometheus would
  // see its context cancelled.
  ~GrpcMetricsInterceptor() override {
    if (!handled_) Handle(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!handled_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      // A call gRPC ended already (the client cancelled, its deadline
      // passed, or gRPC refused a stream's message over
      // --max_message_bytes, after which the handler sees the stream end
      // and answers OK) never delivers the handler's status: Canceled.
      Handle(info_->server_context()->IsCancelled() ? grpc::StatusCode::CANCELLED
                                                    : methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Handle(grpc::StatusCode code) {
    handled_ = true;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    method_->Handled(code, elapsed.count());
  }

  grpc::experimental::ServerRpcInfo* const info_;
  GrpcMethodMetrics* const method_;
  const std::chrono::steady_clock::time_point start_;
  // gRPC runs one call's hooks one at a time.
  bool handled_ = false;
};

}  // namespace

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new GrpcMetricsInterceptor(info, metrics_->ForGrpcMethod(info->method(), info->type()));
}

}  // namespace aad

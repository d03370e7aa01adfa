#include "server/metrics/grpc_metrics_interceptor.h"

#include <grpcpp/server_context.h>

#include <chrono>

#include "absl/strings/string_view.h"

namespace aad {
namespace {

using grpc::experimental::InterceptionHookPoints;

class GrpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcMetricsInterceptor(grpc::experimental::ServerRpcInfo* info, GrpcMethodMetrics* method,
                         bool callback_api)
      : info_(info),
        method_(method),
        callback_api_(callback_api),
        start_(std::chrono::steady_clock::now()) {
    method_->Started();
  }
  // A call that gRPC destroys before its close was seen (no hook ran for
  // it): the status it sent, or Canceled when it sent none.
  ~GrpcMetricsInterceptor() override {
    if (!handled_) Handle(sent_ ? code_ : grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      sent_ = true;
      code_ = methods->GetSendStatus().error_code();
      elapsed_ = std::chrono::steady_clock::now() - start_;
    }
    // The call's end, when gRPC knows whether the client got the handler's
    // status: not when gRPC ended the call first (the client cancelled, its
    // deadline passed, or gRPC refused a stream's message over
    // --max_message_bytes, after which the handler sees the stream end and
    // answers what it will): Canceled, whatever the handler then sent.
    if (!handled_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_CLOSE)) {
      // Synchronous services: see the header (IsCancelled would recurse).
      const bool cancelled = callback_api_ && info_->server_context()->IsCancelled();
      Handle(cancelled || !sent_ ? grpc::StatusCode::CANCELLED : code_);
    }
    methods->Proceed();
  }

 private:
  void Handle(grpc::StatusCode code) {
    handled_ = true;
    if (!sent_) elapsed_ = std::chrono::steady_clock::now() - start_;
    method_->Handled(code, elapsed_.count());
  }

  grpc::experimental::ServerRpcInfo* const info_;
  GrpcMethodMetrics* const method_;
  const bool callback_api_;
  const std::chrono::steady_clock::time_point start_;
  // gRPC runs one call's hooks one at a time.
  bool sent_ = false;  // PRE_SEND_STATUS seen: code_ and elapsed_ hold
  grpc::StatusCode code_ = grpc::StatusCode::OK;
  std::chrono::duration<double> elapsed_{0};  // until the status went out
  bool handled_ = false;
};

}  // namespace

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new GrpcMetricsInterceptor(info, metrics_->ForGrpcMethod(info->method(), info->type()),
                                    OnCallbackApi(info->method()));
}

bool GrpcMetricsInterceptorFactory::OnCallbackApi(const char* method) const {
  const absl::string_view name(method);
  for (const std::string& service : callback_services_) {
    // "/" + service + "/"
    if (name.size() > service.size() + 2 && name[0] == '/' &&
        name.substr(1, service.size()) == service && name[service.size() + 1] == '/') {
      return true;
    }
  }
  return false;
}

}  // namespace aad

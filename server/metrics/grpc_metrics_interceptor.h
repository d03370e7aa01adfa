// The gRPC metrics of every call, counted in one place: a server
// interceptor, so that each handler, and each call refused before a
// handler's own code runs (a refusal inside a handler ends with a status
// like any other), counts the same way. A call counts as started when gRPC
// creates its interceptors and as handled at its end (POST_RECV_CLOSE),
// with the status its handler sent, or Canceled when gRPC had ended the call
// before (ServerContext::IsCancelled), since the client then never got that
// status; its handling time runs until the status went out. The count lands
// just after the client has its reply, not before.
//
// What gRPC core refuses before a call reaches the service never gets
// here: a unary request over --max_message_bytes is read with the call's
// start, fails there, and is answered RESOURCE_EXHAUSTED by gRPC alone
// (tests/metrics/metrics_test.cc checks that it stays uncounted). A stream
// message over the limit comes later, on a call counted already: gRPC
// answers RESOURCE_EXHAUSTED, the handler sees the stream end (and answers
// OK or INVALID_ARGUMENT, by a race), and the call counts as Canceled.
//
// IsCancelled is asked only of services on the callback API (aadd's own):
// on a synchronous service (reflection) it plucks the call's completion
// from its queue, which runs POST_RECV_CLOSE's interceptors again, inside
// this one: an endless recursion. A synchronous call counts with the status
// its handler sent (Canceled when none went out).
#ifndef AADD_SERVER_METRICS_GRPC_METRICS_INTERCEPTOR_H_
#define AADD_SERVER_METRICS_GRPC_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <string>
#include <utility>
#include <vector>

#include "server/metrics/metrics.h"

namespace aad {

class GrpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` must outlive the server; its methods are registered before.
  // `callback_services`: the full names of the services served with gRPC's
  // callback API (the others are taken to be synchronous).
  GrpcMetricsInterceptorFactory(Metrics* metrics, std::vector<std::string> callback_services)
      : metrics_(metrics), callback_services_(std::move(callback_services)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  // Whether the method ("/package.Service/Method") is on the callback API.
  bool OnCallbackApi(const char* method) const;

  Metrics* const metrics_;
  const std::vector<std::string> callback_services_;
};

}  // namespace aad

#endif  // AADD_SERVER_METRICS_GRPC_METRICS_INTERCEPTOR_H_

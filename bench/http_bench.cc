// http_bench: GetQueryCandidates over the HTTP/JSON gateway against the
// same call over gRPC (bench/README.md, "HTTP gateway"). One aadd server
// in-process with both ports on loopback, one trained session of --rows x
// --dims synthetic rows, then --calls sequential calls at k = --k through
// each path, one caller at a time: the gRPC stub (protobuf in, protobuf
// out) and cpp-httplib's client on one keep-alive connection (a GET with
// query parameters, the JSON reply parsed back into the same message, as a
// client would; and once more with the reply left unparsed, to show the
// client's share). Both answers are checked equal first. Run once with
// explainTop=0 and once with the server's default explanations.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "core/data/synthetic.h"
#include "server/log.h"
#include "server/server.h"
// Last: through <resolv.h> it defines the macro _res, a parameter name in
// Eigen's headers.
#include <httplib.h>

ABSL_FLAG(int64_t, rows, 10000, "pool rows (synthetic, low-density anomalies)");
ABSL_FLAG(int, dims, 16, "features per row");
ABSL_FLAG(int, k, 10, "candidates per call");
ABSL_FLAG(int, calls, 2000, "timed calls per path and setting (after 100 warm-up calls)");
ABSL_FLAG(int, pretrain_epochs, 5, "pre-training epochs of the session's model");

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  double mean_us = 0, p50_us = 0, p99_us = 0;
};

Stats Time(int calls, const std::function<bool()>& call) {
  for (int i = 0; i < 100; ++i) call();
  std::vector<double> us;
  us.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    if (!call()) return {};
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  Stats s;
  for (double u : us) s.mean_us += u / calls;
  std::sort(us.begin(), us.end());
  s.p50_us = us[us.size() / 2];
  s.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  return s;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "http_bench: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  aad::SetLoggingEnabled(false);
  aad::SyntheticOptions so;
  so.rows = absl::GetFlag(FLAGS_rows);
  so.dims = absl::GetFlag(FLAGS_dims);
  auto data = aad::MakeLowDensityAnomalies(so);
  if (!data.ok()) return Fail(data.status().ToString());

  aad::ServerOptions options;
  options.address = "127.0.0.1:0";
  options.http_port = -1;
  auto server = aad::AaddServer::Start(options);
  if (!server.ok()) return Fail(server.status().ToString());
  aad::ClientOptions co;
  co.target = absl::StrCat("127.0.0.1:", (*server)->port());
  aad::AadClient client(co);
  aad::v1::CreateSessionRequest create;
  create.mutable_config()->set_pretrain_epochs(absl::GetFlag(FLAGS_pretrain_epochs));
  create.mutable_config()->set_seed(1);
  auto info = client.CreateSession(create);
  if (!info.ok()) return Fail(info.status().ToString());
  const std::string id = info->session_id();
  const auto values = absl::MakeConstSpan(data->features.data(), data->features.size());
  if (!client.Ingest(id, values, data->dims()).ok() || !client.Train(id).ok()) {
    return Fail("ingest/train failed");
  }

  auto stub = aad::v1::ActiveAnomalyDetection::NewStub(
      grpc::CreateChannel(co.target, grpc::InsecureChannelCredentials()));
  httplib::Client http("127.0.0.1", (*server)->http_port());
  http.set_keep_alive(true);
  const int k = absl::GetFlag(FLAGS_k);
  const int calls = absl::GetFlag(FLAGS_calls);

  std::printf("%lld rows x %d features, k = %d, %d sequential calls per path\n\n",
              static_cast<long long>(so.rows), so.dims, k, calls);
  std::printf("| explanations | path | mean µs | p50 µs | p99 µs | reply bytes |\n"
              "|---|---|---:|---:|---:|---:|\n");
  for (const bool explain : {false, true}) {
    aad::v1::GetQueryCandidatesRequest request;
    request.set_session_id(id);
    request.set_k(k);
    std::string path = absl::StrCat("/v1/sessions/", id, "/candidates?k=", k);
    if (!explain) {
      request.set_explain_top(0);
      absl::StrAppend(&path, "&explainTop=0");
    }
    aad::v1::GetQueryCandidatesResponse over_grpc, over_http;
    std::string http_body;
    const auto grpc_call = [&] {
      grpc::ClientContext context;
      over_grpc.Clear();
      return stub->GetQueryCandidates(&context, request, &over_grpc).ok();
    };
    const auto http_call = [&] {
      auto r = http.Get(path.c_str());
      if (!r || r->status != 200) return false;
      http_body = std::move(r->body);
      over_http.Clear();
      return google::protobuf::util::JsonStringToMessage(http_body, &over_http).ok();
    };
    // The same GET with the reply left as text: the client's JSON parse apart.
    const auto http_unparsed_call = [&] {
      auto r = http.Get(path.c_str());
      return r && r->status == 200 && !r->body.empty();
    };
    if (!grpc_call() || !http_call()) return Fail("a first call failed");
    if (!google::protobuf::util::MessageDifferencer::Equals(over_grpc, over_http)) {
      return Fail("the HTTP answer differs from the gRPC one");
    }
    const std::string setting =
        explain ? absl::StrCat("default (", over_grpc.explanations_size(), " explanations)")
                : "explainTop=0";
    const Stats g = Time(calls, grpc_call);
    const Stats h = Time(calls, http_call);
    const Stats u = Time(calls, http_unparsed_call);
    if (g.mean_us == 0 || h.mean_us == 0 || u.mean_us == 0) return Fail("a timed call failed");
    std::printf("| %s | gRPC | %.1f | %.1f | %.1f | %zu |\n", setting.c_str(), g.mean_us,
                g.p50_us, g.p99_us, over_grpc.ByteSizeLong());
    std::printf("| %s | HTTP/JSON | %.1f | %.1f | %.1f | %zu |\n", setting.c_str(), h.mean_us,
                h.p50_us, h.p99_us, http_body.size());
    std::printf("| %s | HTTP/JSON, reply not parsed | %.1f | %.1f | %.1f | |\n", setting.c_str(),
                u.mean_us, u.p50_us, u.p99_us);
    std::printf("| %s | HTTP / gRPC | %.2fx | %.2fx | %.2fx | |\n", setting.c_str(),
                h.mean_us / g.mean_us, h.p50_us / g.p50_us, h.p99_us / g.p99_us);
    std::fflush(stdout);
  }
  (*server)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}

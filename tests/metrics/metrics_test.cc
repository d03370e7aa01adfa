// GET /metrics of the real in-process server after a scripted workload:
// every count is the workload's exactly (per gRPC method and code, the
// histograms' counts, the session gauges and label counters, the training
// runs, the store's writes, HTTP requests by route and status), read back
// by parsing the exposition text.
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "server/metrics/grpc_code_names.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/server_fixture.h"
#include "tests/metrics/exposition.h"
#include "tests/testing/temp_dir.h"
// Last: through <resolv.h> it defines the macro _res, a parameter name in
// Eigen's headers.
#include <httplib.h>

namespace aad::testing {
namespace {

constexpr char kService[] = "aad.v1.ActiveAnomalyDetection";
constexpr int kFeatures = 4;
constexpr int kMaxMessageBytes = 1 << 20;
constexpr int kMaxHttpBody = 64 << 10;

// `rows` x kFeatures values, varied enough to train on.
std::vector<float> Rows(int rows, int seed) {
  std::vector<float> values;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < kFeatures; ++j) {
      values.push_back(static_cast<float>(((i + seed) * 7 + j * 3) % 11) * 0.25f);
    }
  }
  return values;
}

aad::v1::IngestRequest Batch(const std::string& session, const std::string& id, int rows,
                             int seed) {
  aad::v1::IngestRequest m;
  m.set_session_id(session);
  m.set_batch_id(id);
  m.set_feature_count(kFeatures);
  for (float v : Rows(rows, seed)) m.add_values(v);
  return m;
}

MetricLabels Method(const std::string& method, const std::string& type,
                    const std::string& service = kService) {
  return {{"grpc_service", service}, {"grpc_method", method}, {"grpc_type", type}};
}

MetricLabels WithCode(MetricLabels labels, const std::string& code) {
  labels["grpc_code"] = code;
  return labels;
}

class MetricsTest : public ServerFixture {
 protected:
  void Configure(aad::ServerOptions* options) override {
    options->http_port = -1;
    options->max_message_bytes = kMaxMessageBytes;
    options->http_max_body_bytes = kMaxHttpBody;
  }
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_GT(server_->http_port(), 0);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->http_port());
    http_->set_read_timeout(60, 0);
  }

  // GET /metrics, parsed; fails the test on a bad reply.
  Exposition Scrape() {
    auto r = http_->Get("/metrics");
    EXPECT_TRUE(r) << "no HTTP reply";
    if (!r) return {};
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    ++scrapes_;
    auto parsed = Exposition::Parse(r->body);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? *std::move(parsed) : Exposition();
  }

  // Scrapes until `ready` holds (the test fails after 30 s).
  Exposition ScrapeUntil(const std::function<bool(const Exposition&)>& ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      Exposition m = Scrape();
      if (ready(m)) return m;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the scrape never got ready";
        return m;
      }
    }
  }

  int scrapes_ = 0;  // GET /metrics answered so far
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(MetricsTest, ScrapeHoldsTheWorkloadsExactCounts) {
  // Two sessions; A gets 3 batches on one Ingest stream and B one.
  const std::string a = NewSession(2);
  const std::string b = NewSession(2);
  ASSERT_TRUE(client_->IngestMessages(a, {Batch(a, "a1", 100, 0), Batch(a, "a2", 100, 1),
                                          Batch(a, "a3", 100, 2)}).ok());
  ASSERT_TRUE(client_->IngestMessages(b, {Batch(b, "b1", 50, 3)}).ok());
  ASSERT_TRUE(client_->Train(a).ok());
  auto candidates = client_->GetQueryCandidates(a, 3);
  ASSERT_TRUE(candidates.ok()) << candidates.status();
  ASSERT_EQ(candidates->row_ids_size(), 3);
  const int64_t r0 = candidates->row_ids(0);
  const int64_t r1 = candidates->row_ids(1);
  const int64_t r2 = candidates->row_ids(2);
  // Each waits for its model, so that every submission is its own update:
  // 3 verdicts (2 anomalies), then a relabel to anomaly (1 verdict, 1 more
  // anomaly found), then a withdrawal (no verdict, nothing subtracted).
  ASSERT_TRUE(client_->SubmitLabels(a, {{r0, true}, {r1, false}, {r2, true}}, true).ok());
  ASSERT_TRUE(client_->SubmitLabels(a, {{r1, true}}, true).ok());
  aad::v1::Label withdraw;
  withdraw.set_row_id(r0);
  withdraw.set_withdraw(true);
  ASSERT_TRUE(client_->SubmitLabelMessages(a, {withdraw}, true).ok());
  ASSERT_TRUE(client_->ScoreRows(a, Rows(1, 5), kFeatures).ok());
  // Refused ones: NOT_FOUND, INVALID_ARGUMENT in the handlers, and
  // messages over --max_message_bytes that gRPC itself refuses: a unary
  // call's, which never reaches the interceptor (uncounted), and a
  // stream's, which comes on a call counted already (Canceled).
  EXPECT_EQ(client_->GetSession("no-such-session").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->GetQueryCandidates(a, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ScoreRows(a, Rows(kMaxMessageBytes / 4 / kFeatures + 1, 0), kFeatures)
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client_->IngestMessages(a, {Batch(a, "big", kMaxMessageBytes / 4 / kFeatures + 1, 0)})
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(client_->DeleteSession(b).ok());
  // HTTP: a route served, the same route refused, a path no route takes.
  ASSERT_EQ(http_->Get(absl::StrCat("/v1/sessions/", a).c_str())->status, 200);
  ASSERT_EQ(http_->Get("/v1/sessions/no-such-session")->status, 404);
  ASSERT_EQ(http_->Get("/no/such/path")->status, 404);
  // Refused by cpp-httplib before any handler, still by its route.
  ASSERT_EQ(http_->Post(absl::StrCat("/v1/sessions/", a, ":score").c_str(),
                        std::string(kMaxHttpBody + 1, ' '), "application/json")
                ->status,
            413);

  // A call counts at its end, just after the client has its reply: wait
  // for all of them (every started call handled).
  const Exposition m = ScrapeUntil([](const Exposition& e) {
    double started = 0, handled = 0;
    for (const Sample& s : e.All("grpc_server_started_total")) started += s.value;
    for (const Sample& s : e.All("grpc_server_handled_total")) handled += s.value;
    return started == handled;
  });

  // gRPC: every handled series there is, and nothing else.
  const std::map<std::tuple<std::string, std::string, std::string>, double> handled = {
      {{"CreateSession", "unary", "OK"}, 2},
      {{"Ingest", "client_stream", "OK"}, 2},
      {{"Ingest", "client_stream", "Canceled"}, 1},
      {{"Train", "server_stream", "OK"}, 1},
      {{"GetQueryCandidates", "unary", "OK"}, 1},
      {{"GetQueryCandidates", "unary", "InvalidArgument"}, 1},
      {{"SubmitLabels", "unary", "OK"}, 3},
      {{"Score", "unary", "OK"}, 1},
      {{"GetSession", "unary", "NotFound"}, 1},
      {{"DeleteSession", "unary", "OK"}, 1},
  };
  std::map<std::tuple<std::string, std::string, std::string>, double> seen;
  for (const Sample& s : m.All("grpc_server_handled_total")) {
    EXPECT_EQ(s.labels.at("grpc_service"), kService) << s.labels.at("grpc_method");
    seen[{s.labels.at("grpc_method"), s.labels.at("grpc_type"), s.labels.at("grpc_code")}] =
        s.value;
  }
  EXPECT_EQ(seen, handled);
  // Started and the histogram's count equal handled, per method.
  std::map<std::pair<std::string, std::string>, double> per_method;
  for (const auto& [key, n] : handled) {
    per_method[{std::get<0>(key), std::get<1>(key)}] += n;
  }
  for (const auto& [method, n] : per_method) {
    const MetricLabels labels = Method(method.first, method.second);
    EXPECT_EQ(m.Value("grpc_server_started_total", labels), n) << method.first;
    EXPECT_EQ(m.Value("grpc_server_handling_seconds_count", labels), n) << method.first;
    MetricLabels inf = labels;
    inf["le"] = "+Inf";
    EXPECT_EQ(m.Value("grpc_server_handling_seconds_bucket", inf), n) << method.first;
  }
  // Methods not called are there at zero (dashboards see the series).
  EXPECT_EQ(m.Value("grpc_server_started_total", Method("ExportSession", "server_stream")), 0);
  EXPECT_EQ(m.Value("grpc_server_started_total",
                    Method("Check", "unary", "grpc.health.v1.Health")), 0);

  // Domain.
  EXPECT_EQ(m.Value("aadd_sessions"), 1);
  EXPECT_EQ(m.Value("aadd_pool_rows"), 300);
  EXPECT_EQ(m.Value("aadd_labels_total"), 4);
  EXPECT_EQ(m.Value("aadd_anomalies_found_total"), 3);
  EXPECT_EQ(m.Value("aadd_training_seconds_count", {{"kind", "full"}}), 1);
  EXPECT_EQ(m.Value("aadd_training_seconds_count", {{"kind", "label_update"}}), 3);
  EXPECT_EQ(m.Value("aadd_feedback_round_seconds_count"), 3);
  EXPECT_EQ(m.Value("aadd_training_queue_depth"), 0);
  // Store writes: 2 sessions created, 4 batches, 3 label submissions,
  // 1 deletion, and per training run (4) its start and its model.
  EXPECT_EQ(m.Value("aadd_store_commit_seconds_count"), 2 + 4 + 3 + 1 + 4 * 2);

  // HTTP, by route template and status; this scrape counts after its reply.
  EXPECT_EQ(m.Value("aadd_http_requests_total", {{"path_template", "/v1/sessions/{id}"},
                                                 {"code", "200"}}), 1);
  EXPECT_EQ(m.Value("aadd_http_requests_total", {{"path_template", "/v1/sessions/{id}"},
                                                 {"code", "404"}}), 1);
  EXPECT_EQ(m.Value("aadd_http_requests_total", {{"path_template", "unmatched"},
                                                 {"code", "404"}}), 1);
  EXPECT_EQ(m.Value("aadd_http_requests_total", {{"path_template", "/v1/sessions/{id}:score"},
                                                 {"code", "413"}}), 1);
  // Each scrape counts after its reply: this one is not in its own text.
  EXPECT_EQ(m.Value("aadd_http_requests_total", {{"path_template", "/metrics"},
                                                 {"code", "200"}}),
            scrapes_ == 1 ? std::nullopt : std::optional<double>(scrapes_ - 1));
  EXPECT_EQ(m.Value("aadd_http_request_seconds_count", {{"path_template", "/v1/sessions/{id}"}}),
            2);
  const int before = scrapes_;
  EXPECT_EQ(Scrape().Value("aadd_http_requests_total",
                           {{"path_template", "/metrics"}, {"code", "200"}}), before);
}

// Sessions that join otherwise than by CreateSession count too: an import,
// and every stored session at a restart (the counters start over).
TEST_F(MetricsTest, ImportAndRestartCountSessionsAndRows) {
  const std::string a = NewSession(2);
  ASSERT_TRUE(client_->IngestMessages(a, {Batch(a, "a1", 100, 0)}).ok());
  ASSERT_TRUE(client_->SubmitLabels(a, {{3, true}}, false).ok());
  auto archive = client_->ExportSession(a);
  ASSERT_TRUE(archive.ok()) << archive.status();
  ASSERT_TRUE(client_->ImportSession(*archive, "copy").ok());
  Exposition m = Scrape();
  EXPECT_EQ(m.Value("aadd_sessions"), 2);
  EXPECT_EQ(m.Value("aadd_pool_rows"), 200);
  EXPECT_EQ(m.Value("aadd_labels_total"), 1);  // the import stores none anew

  // A restart on the same store.
  client_.reset();
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  aad::ServerOptions options;
  options.address = "127.0.0.1:0";
  options.sessions.store = store_.get();
  Configure(&options);
  auto restarted = aad::AaddServer::Start(options);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = *std::move(restarted);
  http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->http_port());
  m = Scrape();
  EXPECT_EQ(m.Value("aadd_sessions"), 2);
  EXPECT_EQ(m.Value("aadd_pool_rows"), 200);
  EXPECT_EQ(m.Value("aadd_labels_total"), 0);
  EXPECT_EQ(m.Value("grpc_server_started_total", Method("CreateSession", "unary")), 0);
}

// A Train stream the client cancels: the handler's status never reaches
// it, so the call counts as Canceled; the run it cut short is still a run.
TEST_F(MetricsTest, CallTheClientCancelsCountsAsCanceled) {
  aad::v1::CreateSessionRequest create;
  create.mutable_config()->set_pretrain_epochs(10000);  // stopped long before
  create.mutable_config()->set_hidden_units(8);
  create.mutable_config()->set_latent_units(2);
  auto info = client_->CreateSession(create);
  ASSERT_TRUE(info.ok()) << info.status();
  const std::string id = info->session_id();
  ASSERT_TRUE(client_->IngestMessages(id, {Batch(id, "a", 500, 0)}).ok());
  grpc::ClientContext* context = nullptr;
  bool cancelled = false;
  auto r = client_->Train(
      id,
      [&](const aad::v1::TrainResponse& m) {
        if (!cancelled && m.epoch() > 0) {
          cancelled = true;
          context->TryCancel();
        }
      },
      [&](grpc::ClientContext* c) { context = c; });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  const MetricLabels train = Method("Train", "server_stream");
  const Exposition m = ScrapeUntil([&](const Exposition& e) {
    return e.Value("grpc_server_handled_total", WithCode(train, "Canceled")).has_value() &&
           e.Value("aadd_training_seconds_count", {{"kind", "full"}}) == 1;
  });
  EXPECT_EQ(m.Value("grpc_server_handled_total", WithCode(train, "Canceled")), 1);
  EXPECT_EQ(m.Value("grpc_server_handled_total", WithCode(train, "OK")), std::nullopt);
  EXPECT_EQ(m.Value("grpc_server_handling_seconds_count", train), 1);
  EXPECT_EQ(m.Value("aadd_training_seconds_count", {{"kind", "full"}}), 1);
}

// A method no service registered: counted, under "unknown" (bounded).
TEST_F(MetricsTest, UnregisteredMethodCountsAsUnknown) {
  grpc::GenericStub stub(client_->channel());
  grpc::ClientContext context;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), reply;
  grpc::Status status;
  bool done = false;
  Mutex mu;
  CondVar cv;
  stub.UnaryCall(&context, "/aad.v1.ActiveAnomalyDetection/NoSuchMethod", {}, &request, &reply,
                 [&](grpc::Status s) {
                   MutexLock lock(&mu);
                   status = std::move(s);
                   done = true;
                   cv.SignalAll();
                 });
  {
    MutexLock lock(&mu);
    while (!done) cv.Wait(&mu);
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  const MetricLabels unknown = Method("unknown", "bidi_stream", "unknown");
  const Exposition m = ScrapeUntil([&](const Exposition& e) {
    return e.Value("grpc_server_handled_total", WithCode(unknown, "Unimplemented")).has_value();
  });
  EXPECT_EQ(m.Value("grpc_server_handled_total", WithCode(unknown, "Unimplemented")), 1);
  EXPECT_EQ(m.Value("grpc_server_started_total", unknown), 1);
}

// With bearer tokens on: a call refused for want of a token counts like any
// other (Unauthenticated; HTTP 401), /metrics stays open to the scraper, and
// reflection (a synchronous service, open to probes) counts too: asking it
// IsCancelled at its close once recursed without end and crashed aadd.
class MetricsWithTokensTest : public MetricsTest {
 protected:
  void Configure(aad::ServerOptions* options) override {
    MetricsTest::Configure(options);
    const std::string path = tokens_dir_.path() + "/tokens";
    std::ofstream(path) << kToken << " acme\n";
    ASSERT_EQ(chmod(path.c_str(), 0600), 0) << path;
    options->auth_tokens_file = path;
  }

  static constexpr char kToken[] = "metrics-test-token-0123456789";
  TempDir tokens_dir_;
};

// One ServerReflectionInfo exchange (list_services "*"), over the generic
// stub's completion queue: its status.
grpc::Status ListServicesByReflection(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  const auto step = [&](intptr_t expected) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), expected);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  grpc::Slice list_all(std::string("\x3a\x01*", 3));  // field 7, "*"
  grpc::ByteBuffer request(&list_all, 1), reply;
  call->Write(request, reinterpret_cast<void*>(2));
  step(2);
  call->WritesDone(reinterpret_cast<void*>(3));
  step(3);
  call->Read(&reply, reinterpret_cast<void*>(4));
  EXPECT_TRUE(step(4)) << "no reflection reply";
  call->Read(&reply, reinterpret_cast<void*>(5));
  EXPECT_FALSE(step(5)) << "a second reflection reply";
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(6));
  step(6);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

TEST_F(MetricsWithTokensTest, RefusalsAndReflectionCount) {
  EXPECT_EQ(client_->GetSession("nobody").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client_->ListSessions().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(ListServicesByReflection(client_->channel()).ok());
  auto r = http_->Get("/v1/sessions");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);

  const MetricLabels get = Method("GetSession", "unary");
  const MetricLabels reflection =
      Method("ServerReflectionInfo", "bidi_stream", "grpc.reflection.v1alpha.ServerReflection");
  const Exposition m = ScrapeUntil([&](const Exposition& e) {
    return e.Value("grpc_server_handled_total", WithCode(reflection, "OK")).has_value();
  });
  EXPECT_EQ(m.Value("grpc_server_handled_total", WithCode(get, "Unauthenticated")), 1);
  EXPECT_EQ(m.Value("grpc_server_handled_total",
                    WithCode(Method("ListSessions", "unary"), "Unauthenticated")),
            1);
  EXPECT_EQ(m.Value("grpc_server_handled_total", WithCode(reflection, "OK")), 1);
  EXPECT_EQ(m.Value("grpc_server_started_total", reflection), 1);
  EXPECT_EQ(m.Value("aadd_http_requests_total",
                    {{"path_template", "/v1/sessions"}, {"code", "401"}}),
            1);
}

class MetricsOffTest : public ServerFixture {
 protected:
  void Configure(aad::ServerOptions* options) override {
    options->http_port = -1;
    options->metrics = false;
  }
};

TEST_F(MetricsOffTest, NoMetricsRoute) {
  httplib::Client http("127.0.0.1", server_->http_port());
  auto r = http.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

// The aadd binary: metrics on by default, counting its calls; --nometrics
// takes the route away.
TEST(MetricsProcess, AaddFlagTurnsMetricsOnAndOff) {
  for (const bool on : {true, false}) {
    AaddProcess aadd;
    std::vector<std::string> args = {"--port=0", "--http_port=-1", "--in_memory"};
    if (!on) args.push_back("--nometrics");
    ASSERT_TRUE(aadd.Start(AADD_BINARY, args).ok()) << aadd.log();
    aad::ClientOptions co;
    co.target = absl::StrCat("127.0.0.1:", aadd.port());
    aad::AadClient client(co);
    EXPECT_EQ(client.GetSession("no-such-session").status().code(), absl::StatusCode::kNotFound);
    httplib::Client http("127.0.0.1", aadd.http_port());
    auto r = http.Get("/metrics");
    ASSERT_TRUE(r) << "no HTTP reply";
    if (!on) {
      EXPECT_EQ(r->status, 404) << r->body;
      continue;
    }
    // The call counts just after its reply: scrape until it is there.
    const MetricLabels not_found = WithCode(Method("GetSession", "unary"), "NotFound");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    absl::StatusOr<Exposition> m;
    for (;;) {
      ASSERT_EQ(r->status, 200);
      m = Exposition::Parse(r->body);
      ASSERT_TRUE(m.ok()) << m.status();
      if (m->Value("grpc_server_handled_total", not_found).has_value() ||
          std::chrono::steady_clock::now() > deadline) {
        break;
      }
      r = http.Get("/metrics");
      ASSERT_TRUE(r) << "no HTTP reply";
    }
    EXPECT_EQ(m->Value("grpc_server_handled_total", not_found), 1);
    EXPECT_EQ(m->Value("aadd_sessions"), 0);
  }
}

TEST(GrpcCodeNameTest, GoNames) {
  const char* const names[] = {
      "OK",       "Canceled",      "Unknown",         "InvalidArgument",  "DeadlineExceeded",
      "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",    "Unimplemented",   "Internal",         "Unavailable",
      "DataLoss", "Unauthenticated"};
  ASSERT_EQ(std::size(names), static_cast<size_t>(kGrpcCodeCount));
  for (int code = 0; code < kGrpcCodeCount; ++code) {
    EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(code)), names[code]) << code;
  }
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "Unknown");
}

}  // namespace
}  // namespace aad::testing

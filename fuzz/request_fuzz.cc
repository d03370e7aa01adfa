// libFuzzer target: the request path without a transport. The first byte
// picks IngestRequest, ScoreRequest or SubmitLabelsRequest; the rest is
// parsed as that message the way the service parses it (ParseRequest, which
// names what protobuf refuses: INVALID_ARGUMENT with a message, always) and
// sent, as the service does, into a trained session on an in-memory store.
// Whatever arrives, the session answers with a status and stays consistent.
// The session's state is bounded, or a long run slows as it goes (17k
// exec/s fell under 2k): the pool is capped at 1000 rows (at the cap,
// appends exercise the row-limit refusal), and the whole fixture is built
// anew every kInputsPerFixture inputs, which bounds the label history that
// every submission adds to.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aad/v1/aad.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "server/log.h"
#include "server/proto_convert.h"
#include "server/request_parsing.h"
#include "server/session.h"
#include "server/storage/memory_session_store.h"
#include "tests/testing/manual_training_pool.h"

namespace {

struct Fixture {
  aad::MemorySessionStore store;
  aad::testing::ManualTrainingPool pool;
  std::shared_ptr<aad::Session> session;

  Fixture() {
    // Invalid UTF-8 in a string field is a parse failure, not news.
    google::protobuf::SetLogHandler(nullptr);
    aad::SetLoggingEnabled(false);
    aad::SessionOptions o;
    o.config.pretrain_epochs = 1;
    o.config.hidden_units = 4;
    o.config.latent_units = 2;
    o.config.forest_trees = 4;
    if (!store.CreateSession("fuzz", o, 0, "").ok()) __builtin_trap();
    session = std::make_shared<aad::Session>("fuzz", o, aad::SessionLimits{1000, 64}, &pool,
                                             &store);
    std::vector<float> rows;
    for (int i = 0; i < 120; ++i) {
      rows.push_back(static_cast<float>(i % 7));
      rows.push_back(static_cast<float>((i * 5) % 11));
      rows.push_back(i % 30 == 0 ? 9.0f : 0.5f);
    }
    if (!session->Append("seed", 3, rows).ok()) __builtin_trap();
    struct Quiet final : aad::TrainObserver {
      void OnProgress(const aad::TrainProgress&) override {}
      bool ShouldStop() override { return false; }
      void OnTrainingDone(const absl::Status&, int64_t) override {}
    };
    static Quiet quiet;
    if (!session->StartTraining(&quiet).ok()) __builtin_trap();
    pool.RunAll();
  }
};

// `body` into `message` as the service parses a request; a refusal must be
// INVALID_ARGUMENT with a message.
bool Parse(const std::string& body, google::protobuf::Message* message) {
  grpc::Slice slice(body.data(), body.size());
  const grpc::ByteBuffer bytes(&slice, 1);
  const absl::Status parsed = aad::ParseRequest(bytes, message);
  if (!parsed.ok() &&
      (parsed.code() != absl::StatusCode::kInvalidArgument || parsed.message().empty())) {
    __builtin_trap();
  }
  return parsed.ok();
}

}  // namespace

constexpr int kInputsPerFixture = 20000;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture;
  static int inputs = 0;
  if (++inputs % kInputsPerFixture == 0) {
    delete f;
    f = new Fixture;
  }
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int64_t rows_before = f->session->Info().rows;
  switch (data[0] % 3) {
    case 0: {
      aad::v1::IngestRequest r;
      if (!Parse(body, &r)) return 0;
      auto result = f->session->Append(
          r.batch_id(), r.feature_count(),
          absl::MakeConstSpan(r.values().data(), static_cast<size_t>(r.values().size())));
      if (result.ok() && !result->duplicate &&
          f->session->Info().rows != rows_before + result->row_count) {
        __builtin_trap();
      }
      break;
    }
    case 1: {
      aad::v1::ScoreRequest r;
      if (!Parse(body, &r)) return 0;
      if (r.row_ids_size() > 0) {
        auto s = f->session->ScorePoolRows(
            absl::MakeConstSpan(r.row_ids().data(), static_cast<size_t>(r.row_ids().size())));
        if (s.ok() && s->p.size() != static_cast<size_t>(r.row_ids_size())) __builtin_trap();
      } else {
        auto s = f->session->ScoreRows(
            r.feature_count(),
            absl::MakeConstSpan(r.values().data(), static_cast<size_t>(r.values().size())));
        if (s.ok() && r.feature_count() > 0 &&
            s->p.size() != static_cast<size_t>(r.values().size() / r.feature_count())) {
          __builtin_trap();
        }
      }
      break;
    }
    default: {
      aad::v1::SubmitLabelsRequest r;
      if (!Parse(body, &r)) return 0;
      f->session->SubmitLabels(aad::FromProto(r.labels()), false,
                               [](absl::StatusOr<aad::LabelResult>) {});
      f->pool.RunAll();
      break;
    }
  }
  return 0;
}

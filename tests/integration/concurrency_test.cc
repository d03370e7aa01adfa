// Many sessions driven at once: ingest from several streams, training,
// label updates and scoring that overlap. Nothing may be lost or doubled,
// and scoring keeps answering while models train.
#include <algorithm>
#include <future>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/data/synthetic.h"
#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

constexpr int kSessions = 8;
constexpr int kStreams = 3;
constexpr int kBatchesPerStream = 4;
constexpr int kBatchRows = 25;
constexpr int kDims = 4;

class ConcurrencyTest : public ServerFixture {};

// One session's whole life; returns a failure description or "".
std::string DriveSession(aad::AadClient* client, int index) {
  aad::SyntheticOptions so;
  so.rows = kStreams * kBatchesPerStream * kBatchRows;
  so.dims = kDims;
  so.seed = 100 + index;
  auto data = aad::MakeLowDensityAnomalies(so);
  if (!data.ok()) return data.status().ToString();
  aad::v1::CreateSessionRequest create;
  create.mutable_config()->set_pretrain_epochs(3);
  create.mutable_config()->set_hidden_units(8);
  create.mutable_config()->set_latent_units(2);
  auto info = client->CreateSession(create);
  if (!info.ok()) return info.status().ToString();
  const std::string id = info->session_id();

  // Several streams at once into one session, each batch sent twice (a
  // retry): every row must be stored exactly once.
  std::vector<std::future<absl::StatusOr<aad::v1::IngestResponse>>> streams;
  for (int s = 0; s < kStreams; ++s) {
    streams.push_back(std::async(std::launch::async, [&, s] {
      std::vector<aad::v1::IngestRequest> messages;
      for (int b = 0; b < kBatchesPerStream; ++b) {
        const int first = (s * kBatchesPerStream + b) * kBatchRows;
        aad::v1::IngestRequest m;
        m.set_session_id(id);
        m.set_batch_id(absl::StrCat("s", s, "b", b));
        m.set_feature_count(kDims);
        m.mutable_values()->Assign(data->features.data() + first * kDims,
                                   data->features.data() + (first + kBatchRows) * kDims);
        messages.push_back(m);
        messages.push_back(m);
      }
      return client->IngestMessages(id, messages);
    }));
  }
  std::set<int64_t> ids;
  for (auto& f : streams) {
    auto r = f.get();
    if (!r.ok()) return r.status().ToString();
    for (const auto& b : r->batches()) {
      for (int64_t i = b.first_row_id(); i < b.first_row_id() + b.row_count(); ++i) ids.insert(i);
    }
  }
  const int64_t rows = kStreams * kBatchesPerStream * kBatchRows;
  if (static_cast<int64_t>(ids.size()) != rows || *ids.begin() != 0 || *ids.rbegin() != rows - 1) {
    return absl::StrCat("session ", index, ": ", ids.size(), " distinct row ids, want ", rows);
  }
  auto v1 = client->Train(id);
  if (!v1.ok()) return v1.status().ToString();

  // Scoring runs while labels stream in (each starts or joins a background
  // update) and while a second full training runs.
  std::promise<void> labels_done;
  std::shared_future<void> labels_done_future = labels_done.get_future().share();
  auto scorer = std::async(std::launch::async, [&]() -> std::string {
    int64_t last_version = 0;
    std::vector<float> probe(data->features.data(), data->features.data() + 8 * kDims);
    for (int i = 0;; ++i) {
      auto r = client->ScoreRows(id, probe, kDims);
      if (!r.ok()) return r.status().ToString();
      if (r->model_version() < last_version) return "model version went backwards";
      last_version = r->model_version();
      if (i >= 20 && labels_done_future.wait_for(std::chrono::seconds(0)) ==
                         std::future_status::ready) {
        return "";
      }
    }
  });
  auto retrain = std::async(std::launch::async, [&] { return client->Train(id).status(); });
  std::set<int64_t> labelled;
  int64_t anomalies = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<std::pair<int64_t, bool>> verdicts;
    for (int j = 0; j < 3; ++j) {
      const int64_t row = (round * 37 + j * 11 + index) % rows;
      if (labelled.insert(row).second) {
        verdicts.emplace_back(row, data->labels[row] != 0);
        anomalies += data->labels[row];
      }
    }
    if (verdicts.empty()) continue;
    auto r = client->SubmitLabels(id, verdicts, /*wait_for_model=*/round == 9);
    if (!r.ok()) return r.status().ToString();
  }
  labels_done.set_value();
  const std::string scorer_error = scorer.get();
  if (!scorer_error.empty()) return scorer_error;
  absl::Status retrained = retrain.get();
  // A second Train may be refused while the first label update's run is
  // the session's one run; it must never fail otherwise.
  if (!retrained.ok() && retrained.code() != absl::StatusCode::kFailedPrecondition) {
    return retrained.ToString();
  }
  // The last submission waited for its model: every label is in it.
  auto final_labels = client->SubmitLabels(id, {{*labelled.begin(), data->labels[*labelled.begin()] != 0}}, true);
  if (!final_labels.ok()) return final_labels.status().ToString();
  auto s = client->GetSession(id);
  if (!s.ok()) return s.status().ToString();
  if (s->rows() != rows || s->labels() != static_cast<int64_t>(labelled.size()) ||
      s->anomalies() != anomalies) {
    return absl::StrCat("session ", index, ": rows ", s->rows(), " labels ", s->labels(),
                        " anomalies ", s->anomalies(), "; want ", rows, " ", labelled.size(),
                        " ", anomalies);
  }
  auto c = client->GetQueryCandidates(id, static_cast<int>(rows));
  if (!c.ok()) return c.status().ToString();
  for (int64_t r : c->row_ids()) {
    if (labelled.count(r)) return absl::StrCat("labelled row ", r, " proposed again");
  }
  if (c->row_ids_size() != rows - static_cast<int64_t>(labelled.size())) {
    return absl::StrCat(c->row_ids_size(), " candidates, want every unlabelled row");
  }
  return "";
}

TEST_F(ConcurrencyTest, ManySessionsAtOnceLoseAndDoubleNothing) {
  std::vector<std::future<std::string>> sessions;
  for (int i = 0; i < kSessions; ++i) {
    sessions.push_back(std::async(std::launch::async, DriveSession, client_.get(), i));
  }
  for (auto& f : sessions) EXPECT_EQ(f.get(), "");
  auto all = client_->ListSessions();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kSessions));
}

TEST_F(ConcurrencyTest, ListSessionsPagesThroughEverySession) {
  std::set<std::string> created;
  for (int i = 0; i < 7; ++i) created.insert(NewSession());
  aad::v1::ListSessionsRequest request;
  request.set_page_size(3);
  std::set<std::string> seen;
  int pages = 0;
  for (;;) {
    grpc::ClientContext context;
    aad::v1::ListSessionsResponse response;
    ASSERT_TRUE(client_->stub()->ListSessions(&context, request, &response).ok());
    ++pages;
    for (const auto& s : response.sessions()) seen.insert(s.session_id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(seen, created);
  EXPECT_EQ(pages, 3);
  ASSERT_TRUE(client_->DeleteSession(*created.begin()).ok());
  EXPECT_EQ(client_->GetSession(*created.begin()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ConcurrencyTest, HealthCheckSaysServing) {
  auto h = client_->Health();
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, "SERVING");
}

}  // namespace
}  // namespace aad::testing

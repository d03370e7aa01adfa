// Session on its own: a real in-memory (or failing) store and a training
// pool that runs jobs when the test says so, no gRPC and no threads.
#include "server/session.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/memory_session_store.h"
#include "tests/testing/failing_store.h"
#include "tests/testing/small_session.h"
#include "tests/testing/manual_training_pool.h"

namespace aad::testing {
namespace {

using ::testing::HasSubstr;

// Rows of two features: a cloud around the origin and a few far rows.
std::vector<float> Rows(int64_t rows) {
  std::vector<float> v;
  for (int64_t i = 0; i < rows; ++i) {
    const float far = i % 40 == 0 ? 8.0f : 0.0f;
    v.push_back(static_cast<float>((i * 37) % 11) / 11.0f + far);
    v.push_back(static_cast<float>((i * 53) % 13) / 13.0f - far);
  }
  return v;
}

// Records what a Train call would see.
class RecordingObserver final : public TrainObserver {
 public:
  explicit RecordingObserver(Session* session) : session_(session) {}
  void OnProgress(const aad::TrainProgress&) override { ++progress; }
  bool ShouldStop() override { return stop; }
  void OnTrainingDone(const absl::Status& s, int64_t v) override {
    status = s;
    version = v;
    state_when_done = session_->Info().state;
  }

  int progress = 0;
  bool stop = false;
  std::optional<absl::Status> status;
  int64_t version = -1;
  TrainingState state_when_done = TrainingState::kTraining;

 private:
  Session* const session_;
};

class SessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<Session> NewSession(SessionStore* store, const std::string& id = "s") {
    EXPECT_TRUE(store->CreateSession(id, SmallSessionOptions(), 0, "").ok());
    return std::make_shared<Session>(id, SmallSessionOptions(), SessionLimits{1000, 16}, &pool_, store);
  }
  // Ingests 200 rows and trains; returns the observer's outcome.
  void Train(Session* session, RecordingObserver* observer) {
    ASSERT_TRUE(session->Append("b1", 2, Rows(200)).ok());
    ASSERT_TRUE(session->StartTraining(observer).ok());
    EXPECT_EQ(session->Info().state, TrainingState::kTraining);
    pool_.RunAll();
    ASSERT_TRUE(observer->status.has_value());
  }

  ManualTrainingPool pool_;
  MemorySessionStore store_;
};

TEST_F(SessionTest, AppendValidatesAndAnswersARetriedBatchFromItsId) {
  auto s = NewSession(&store_);
  auto first = s->Append("b1", 2, Rows(10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->first_row_id, 0);
  EXPECT_FALSE(first->duplicate);
  auto again = s->Append("b1", 2, Rows(10));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->first_row_id, 0);
  EXPECT_EQ(s->Info().rows, 10);
  EXPECT_EQ(s->Append("b1", 2, Rows(4)).status().code(), absl::StatusCode::kAlreadyExists);
  absl::Status wrong = s->Append("b2", 3, std::vector<float>(9, 1.0f)).status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.message(), HasSubstr("3"));
  EXPECT_EQ(s->Append(std::string(1, Session::kReservedBatchIdPrefix) + "x", 2, Rows(1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto second = s->Append("", 2, Rows(5));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->first_row_id, 10);
  // Everything acknowledged is in the store.
  auto stored = store_.LoadSession("s");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->row_count(), 15);
}

TEST_F(SessionTest, RowLimitIsResourceExhaustedNamingTheFlag) {
  EXPECT_TRUE(store_.CreateSession("s", SmallSessionOptions(), 0, "").ok());
  Session s("s", SmallSessionOptions(), SessionLimits{20, 16}, &pool_, &store_);
  ASSERT_TRUE(s.Append("a", 2, Rows(15)).ok());
  absl::Status over = s.Append("b", 2, Rows(10)).status();
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.message(), HasSubstr("--max_rows_per_session"));
  EXPECT_EQ(s.Info().rows, 15);
}

TEST_F(SessionTest, TrainingPublishesVersionOneAndTheStateSaysIdleAtTheEnd) {
  auto s = NewSession(&store_);
  EXPECT_EQ(s->ScoreRows(2, Rows(1)).status().code(), absl::StatusCode::kFailedPrecondition);
  RecordingObserver observer(s.get());
  Train(s.get(), &observer);
  EXPECT_TRUE(observer.status->ok()) << *observer.status;
  EXPECT_EQ(observer.version, 1);
  EXPECT_GT(observer.progress, 0);
  // The Train call's final message comes with nothing queued: the trainer
  // is idle then, not "updating" (issue 17, defect 5).
  EXPECT_EQ(observer.state_when_done, TrainingState::kIdle);
  const SessionInfo info = s->Info();
  EXPECT_EQ(info.model_version, 1);
  EXPECT_EQ(info.model_rows, 200);
  EXPECT_EQ(info.state, TrainingState::kIdle);
  auto scores = s->ScoreRows(2, Rows(3));
  ASSERT_TRUE(scores.ok()) << scores.status();
  EXPECT_EQ(scores->p.size(), 3u);
  EXPECT_EQ(scores->model_version, 1);
  auto candidates = s->QueryCandidates(5, nullptr, nullptr);
  ASSERT_TRUE(candidates.ok());
  EXPECT_EQ(candidates->row_ids.size(), 5u);
  EXPECT_EQ(candidates->values.size(), 10u);
}

TEST_F(SessionTest, LabelsQueueAnUpdateAndAWaiterHearsOfTheNewModel) {
  auto s = NewSession(&store_);
  RecordingObserver observer(s.get());
  Train(s.get(), &observer);
  std::optional<absl::StatusOr<LabelResult>> answer;
  s->SubmitLabels({{0, true}, {1, false}}, /*wait_for_model=*/true,
                  [&](absl::StatusOr<LabelResult> r) { answer = std::move(r); });
  EXPECT_FALSE(answer.has_value()) << "answered before the model existed";
  EXPECT_EQ(s->Info().state, TrainingState::kUpdating);
  EXPECT_EQ(pool_.RunAll(), 1);
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status();
  EXPECT_EQ((*answer)->model_version, 2);
  EXPECT_EQ((*answer)->labels, 2);
  // A relabel replaces the verdict.
  s->SubmitLabels({{0, false}}, false, [](absl::StatusOr<LabelResult>) {});
  pool_.RunAll();
  const SessionInfo info = s->Info();
  EXPECT_EQ(info.labels, 2);
  EXPECT_EQ(info.anomalies, 0);
  EXPECT_EQ(info.model_version, 3);
  EXPECT_EQ(info.label_rounds, 2);
  EXPECT_EQ(info.state, TrainingState::kIdle);
}

TEST_F(SessionTest, LabelsForUnknownRowsStoreNothing) {
  auto s = NewSession(&store_);
  ASSERT_TRUE(s->Append("b", 2, Rows(10)).ok());
  absl::Status status;
  s->SubmitLabels({{1, true}, {10, true}}, false,
                  [&](absl::StatusOr<LabelResult> r) { status = r.status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("row id 10"));
  EXPECT_EQ(s->Info().labels, 0);
  EXPECT_TRUE(store_.LoadSession("s")->label_history.empty());
}

// All pool rows' scores, for bit-for-bit comparisons.
std::vector<float> PoolScores(const Session& session) {
  std::vector<int64_t> ids(static_cast<size_t>(session.Info().rows));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
  auto scores = session.ScorePoolRows(ids);
  EXPECT_TRUE(scores.ok()) << scores.status();
  return scores.ok() ? scores->p : std::vector<float>();
}

absl::StatusOr<LabelResult> SubmitNow(Session* session, std::vector<LabelChange> labels) {
  absl::StatusOr<LabelResult> result = absl::UnknownError("not answered");
  session->SubmitLabels(labels, false, [&](absl::StatusOr<LabelResult> r) { result = r; });
  return result;
}

TEST_F(SessionTest, AWithdrawnRowIsProposedAgainAndNoLabelsLeftIsTheUnlabelledFit) {
  auto s = NewSession(&store_);
  RecordingObserver observer(s.get());
  Train(s.get(), &observer);
  const std::vector<float> unlabelled = PoolScores(*s);
  auto first = s->QueryCandidates(3, nullptr, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t top = first->row_ids[0];

  ASSERT_TRUE(SubmitNow(s.get(), {{top, true}}).ok());
  pool_.RunAll();
  auto labelled = s->QueryCandidates(200, nullptr, nullptr);
  ASSERT_TRUE(labelled.ok());
  EXPECT_THAT(labelled->row_ids, ::testing::Not(::testing::Contains(top)));
  EXPECT_EQ(s->Info().anomalies, 1);

  auto withdrawn = SubmitNow(s.get(), {{top, false, /*withdraw=*/true}});
  ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
  EXPECT_EQ(withdrawn->labels, 0);
  EXPECT_TRUE(withdrawn->update_scheduled) << "the model must be refitted without the row";
  EXPECT_EQ(pool_.RunAll(), 1);
  const SessionInfo info = s->Info();
  EXPECT_EQ(info.labels, 0);
  EXPECT_EQ(info.anomalies, 0);
  EXPECT_EQ(info.model_version, 3);
  EXPECT_EQ(info.label_rounds, 2);
  // With no label left, the (frozen-detector) model is the fit without
  // labels again, bit for bit, and proposes the same rows, `top` first.
  EXPECT_EQ(PoolScores(*s), unlabelled);
  auto again = s->QueryCandidates(3, nullptr, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->row_ids, first->row_ids);
  // The withdrawal is in the stored history, after the verdict.
  auto stored = store_.LoadSession("s");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->label_history.size(), 2u);
  EXPECT_TRUE(stored->label_history[1].withdrawn);
  EXPECT_TRUE(stored->labels.empty());
}

TEST_F(SessionTest, WithdrawingAnUnlabelledRowIsNotFoundAndStoresNothing) {
  auto s = NewSession(&store_);
  ASSERT_TRUE(s->Append("b", 2, Rows(10)).ok());
  ASSERT_TRUE(SubmitNow(s.get(), {{2, true}}).ok());
  // A good withdrawal does not carry a bad one through.
  absl::StatusOr<LabelResult> r = SubmitNow(s.get(), {{2, false, true}, {5, false, true}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("row id 5"));
  EXPECT_THAT(r.status().message(), HasSubstr("no label was stored"));
  // Nor does a row withdrawn twice in one submission.
  r = SubmitNow(s.get(), {{2, false, true}, {2, false, true}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("row id 2"));
  EXPECT_EQ(s->Info().labels, 1);
  EXPECT_EQ(s->Info().anomalies, 1);
  EXPECT_EQ(store_.LoadSession("s")->label_history.size(), 1u) << "a refused submission was stored";
  // Labelled and withdrawn in one submission is fine, and so is a mix.
  r = SubmitNow(s.get(), {{7, true}, {7, false, true}, {2, false, true}, {4, false}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->labels, 1);
  EXPECT_EQ(s->Info().anomalies, 0);
  EXPECT_EQ(store_.LoadSession("s")->labels.size(), 1u);
}

TEST_F(SessionTest, ARestoredSessionHasTheWithdrawalsAndLearnsLikeTheOriginal) {
  auto s = NewSession(&store_);
  RecordingObserver observer(s.get());
  Train(s.get(), &observer);
  ASSERT_TRUE(SubmitNow(s.get(), {{0, true}, {1, false}, {2, true}, {40, true}}).ok());
  pool_.RunAll();
  // Row 0 withdrawn and labelled again: it is fitted last now.
  ASSERT_TRUE(SubmitNow(s.get(), {{0, false, true}, {1, false, true}}).ok());
  pool_.RunAll();
  ASSERT_TRUE(SubmitNow(s.get(), {{0, false}}).ok());
  pool_.RunAll();
  auto record = store_.LoadSession("s");
  ASSERT_TRUE(record.ok());
  // The order the learner fits in, which Restore rebuilds the session's from.
  ASSERT_EQ(record->labels.size(), 3u);
  EXPECT_EQ(record->labels[0].row_id, 2);
  EXPECT_EQ(record->labels[1].row_id, 40);
  EXPECT_EQ(record->labels[2].row_id, 0);
  MemorySessionStore copy;
  ASSERT_TRUE(copy.PutSession(*record).ok());
  auto restored = Session::Restore(*record, SessionLimits{1000, 16}, &pool_, &copy);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ((*restored)->Info().labels, 3);
  EXPECT_EQ((*restored)->Info().anomalies, 2);
  EXPECT_EQ(PoolScores(**restored), PoolScores(*s));
  // The next round fits the same labels on both.
  ASSERT_TRUE(SubmitNow(s.get(), {{80, true}}).ok());
  ASSERT_TRUE(SubmitNow(restored->get(), {{80, true}}).ok());
  pool_.RunAll();
  EXPECT_EQ((*restored)->Info().model_version, s->Info().model_version);
  EXPECT_EQ(PoolScores(**restored), PoolScores(*s));
}

TEST_F(SessionTest, AModelTheStoreRefusesIsNotPublishedAndTheNextOneIs) {
  FailingStore store;
  auto s = NewSession(&store);
  RecordingObserver observer(s.get());
  Train(s.get(), &observer);
  ASSERT_TRUE(observer.status->ok());
  auto before = s->ScoreRows(2, Rows(50));
  ASSERT_TRUE(before.ok());
  s->SubmitLabels({{0, true}}, false, [](absl::StatusOr<LabelResult>) {});
  store.fail = true;
  pool_.RunAll();
  SessionInfo info = s->Info();
  EXPECT_EQ(info.model_version, 1) << "an unstored model must not be served";
  EXPECT_THAT(info.last_training_error, HasSubstr("disk full"));
  auto during = s->ScoreRows(2, Rows(50));
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->p, before->p);
  // The store recovers; the next label's update starts from model 1, not
  // from the refused one.
  store.fail = false;
  s->SubmitLabels({{1, false}}, false, [](absl::StatusOr<LabelResult>) {});
  pool_.RunAll();
  info = s->Info();
  EXPECT_EQ(info.model_version, 2);
  EXPECT_TRUE(info.last_training_error.empty());
}

TEST_F(SessionTest, CancelAnswersEveryoneStillWaiting) {
  auto s = NewSession(&store_);
  RecordingObserver observer(s.get());
  ASSERT_TRUE(s->Append("b", 2, Rows(100)).ok());
  ASSERT_TRUE(s->StartTraining(&observer).ok());
  EXPECT_EQ(s->StartTraining(&observer).code(), absl::StatusCode::kFailedPrecondition);
  s->Cancel("server shutting down");
  pool_.RunAll();
  ASSERT_TRUE(observer.status.has_value());
  EXPECT_EQ(observer.status->code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(observer.status->message(), HasSubstr("server shutting down"));
  EXPECT_EQ(s->StartTraining(&observer).code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace aad::testing

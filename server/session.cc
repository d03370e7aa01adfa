#include "server/session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/log.h"
#include "server/row_validation.h"

namespace aadd {

Session::Session(std::string id, SessionOptions options, SessionLimits limits, TrainingPool* pool)
    : id_(std::move(id)),
      limits_(limits),
      pool_(pool),
      feature_names_(std::move(options.feature_names)),
      config_(options.config),
      strategy_(options.strategy),
      feature_count_(options.feature_count) {}

Session::~Session() = default;

absl::StatusOr<IngestResult> Session::Append(const std::string& batch_id, int64_t feature_count,
                                             absl::Span<const float> values) {
  const std::string what =
      batch_id.empty() ? std::string("batch") : absl::StrCat("batch '", batch_id, "'");
  MutexLock lock(&mu_);
  if (!batch_id.empty()) {
    auto it = batches_.find(batch_id);
    if (it != batches_.end()) {
      const int64_t rows = feature_count > 0 ? static_cast<int64_t>(values.size()) / feature_count : -1;
      if (rows != it->second.second) {
        return absl::AlreadyExistsError(absl::StrCat(what, " was stored before with ",
                                                     it->second.second, " rows; this one has ",
                                                     rows));
      }
      return IngestResult{it->second.first, it->second.second, true, row_count_};
    }
  }
  RETURN_IF_ERROR(ValidateRows(values, feature_count, feature_count_, limits_.max_features, what));
  const int64_t rows = static_cast<int64_t>(values.size()) / feature_count;
  if (row_count_ + rows > limits_.max_rows_per_session) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, " of ", rows, " rows would grow session ", id_, " to ",
                     row_count_ + rows, " rows, over the limit of ",
                     limits_.max_rows_per_session, " (--max_rows_per_session)"));
  }
  feature_count_ = feature_count;
  rows_.insert(rows_.end(), values.begin(), values.end());
  IngestResult result{row_count_, rows, false, row_count_ + rows};
  row_count_ += rows;
  if (!batch_id.empty()) batches_[batch_id] = {result.first_row_id, rows};
  return result;
}

std::shared_ptr<const Session::ModelSnapshot> Session::snapshot() const {
  MutexLock lock(&mu_);
  return snapshot_;
}

SessionStatus Session::Status() const {
  MutexLock lock(&mu_);
  SessionStatus s;
  s.id = id_;
  s.options.config = config_;
  s.options.strategy = strategy_;
  s.options.feature_count = feature_count_;
  s.options.feature_names = feature_names_;
  s.rows = row_count_;
  s.labels = static_cast<int64_t>(labels_.size());
  s.anomalies = anomalies_;
  s.model_version = snapshot_ ? snapshot_->version : 0;
  s.model_rows = snapshot_ ? snapshot_->scores->rows() : 0;
  s.label_rounds = label_rounds_;
  s.state = running_ == JobKind::kTrain || pending_train_ != nullptr ? TrainingState::kTraining
            : worker_running_                                         ? TrainingState::kUpdating
                                                                      : TrainingState::kIdle;
  s.last_training_error = last_error_;
  return s;
}

absl::StatusOr<RowScores> Session::ScoreRows(int64_t feature_count,
                                             absl::Span<const float> values) const {
  std::shared_ptr<const ModelSnapshot> snap = snapshot();
  if (snap == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", id_, " has no model yet: call Train first"));
  }
  RETURN_IF_ERROR(ValidateRows(values, feature_count, snap->scores->model()->input_dim(),
                               limits_.max_features, "score request"));
  RowScores out;
  out.model_version = snap->version;
  RETURN_IF_ERROR(aad::ScoreRows(*snap->scores->model(), values, feature_count, &out.p,
                                 &out.logit, &out.s));
  return out;
}

absl::StatusOr<RowScores> Session::ScorePoolRows(absl::Span<const int64_t> row_ids) const {
  if (row_ids.empty()) {
    return absl::InvalidArgumentError("score request is empty: no rows and no row ids");
  }
  std::shared_ptr<const ModelSnapshot> snap;
  std::vector<float> gathered;
  int64_t cols = 0;
  {
    MutexLock lock(&mu_);
    snap = snapshot_;
    if (snap == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", id_, " has no model yet: call Train first"));
    }
    bool all_scored = true;
    for (int64_t r : row_ids) {
      if (r < 0 || r >= row_count_) {
        return absl::NotFoundError(absl::StrCat("row id ", r, " is not in session ", id_,
                                                " (", row_count_, " rows)"));
      }
      all_scored = all_scored && r < snap->scores->rows();
    }
    // Rows ingested after the model was trained have no cached score: score
    // them all with the model so one reply never mixes two computations.
    if (!all_scored) {
      cols = feature_count_;
      gathered.reserve(row_ids.size() * cols);
      for (int64_t r : row_ids) {
        gathered.insert(gathered.end(), rows_.begin() + r * cols, rows_.begin() + (r + 1) * cols);
      }
    }
  }
  RowScores out;
  out.model_version = snap->version;
  if (cols == 0) {
    RETURN_IF_ERROR(snap->scores->Lookup(row_ids, &out.p, &out.logit, &out.s));
  } else {
    RETURN_IF_ERROR(aad::ScoreRows(*snap->scores->model(), gathered, cols, &out.p, &out.logit,
                                   &out.s));
  }
  return out;
}

absl::StatusOr<Candidates> Session::QueryCandidates(int64_t k, const aad::StrategyKind* strategy,
                                                    const uint64_t* seed) const {
  if (k < 1 || k > 10000) {
    return absl::InvalidArgumentError(absl::StrCat("k must be in 1..10000, got ", k));
  }
  std::shared_ptr<const ModelSnapshot> snap;
  std::vector<uint8_t> labelled;
  uint64_t query_seed = 0;
  {
    MutexLock lock(&mu_);
    snap = snapshot_;
    if (snap == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", id_, " has no model yet: call Train first"));
    }
    labelled.assign(row_count_, 0);
    for (const aad::LabeledRow& l : labels_) labelled[l.row] = 1;
    query_seed = seed != nullptr ? *seed
                                 : aad::QuerySeed(config_.seed, static_cast<uint64_t>(label_rounds_) + 1);
  }
  Candidates out;
  out.model_version = snap->version;
  out.row_ids = snap->scores->Select(strategy != nullptr ? *strategy : strategy_, labelled,
                                     query_seed, k);
  std::vector<float> logit;
  RETURN_IF_ERROR(snap->scores->Lookup(out.row_ids, &out.p, &logit, &out.s));
  MutexLock lock(&mu_);
  out.feature_count = feature_count_;
  out.values.reserve(out.row_ids.size() * feature_count_);
  for (int64_t r : out.row_ids) {
    out.values.insert(out.values.end(), rows_.begin() + r * feature_count_,
                      rows_.begin() + (r + 1) * feature_count_);
  }
  return out;
}

void Session::SubmitLabels(absl::Span<const aad::LabeledRow> labels, bool wait_for_model,
                           std::function<void(absl::StatusOr<LabelResult>)> done) {
  if (labels.empty()) {
    done(absl::InvalidArgumentError("no labels given: send at least one row id and verdict"));
    return;
  }
  LabelResult result;
  {
    MutexLock lock(&mu_);
    if (cancelled_.load()) {
      done(absl::CancelledError(absl::StrCat("session ", id_, " is closing: ", cancel_reason_)));
      return;
    }
    // Validate all before storing any: a rejected request changes nothing.
    for (const aad::LabeledRow& l : labels) {
      if (l.row < 0 || l.row >= row_count_) {
        done(absl::NotFoundError(absl::StrCat("row id ", l.row, " is not in session ", id_, " (",
                                              row_count_, " rows); no label was stored")));
        return;
      }
    }
    for (const aad::LabeledRow& l : labels) {
      auto it = label_index_.find(l.row);
      if (it == label_index_.end()) {
        label_index_[l.row] = labels_.size();
        labels_.push_back(l);
        anomalies_ += l.anomaly;
      } else {
        anomalies_ += static_cast<int>(l.anomaly) - static_cast<int>(labels_[it->second].anomaly);
        labels_[it->second].anomaly = l.anomaly;
      }
    }
    ++labels_revision_;
    result.labels = static_cast<int64_t>(labels_.size());
    result.model_version = snapshot_ ? snapshot_->version : 0;
    // An update follows when a model exists or a full run will produce one.
    result.update_scheduled = snapshot_ != nullptr || pending_train_ != nullptr ||
                              running_ == JobKind::kTrain;
    if (result.update_scheduled) {
      if (snapshot_ != nullptr) ++label_rounds_;
      if (wait_for_model) {
        waiters_.push_back({labels_revision_, std::move(done)});
        done = nullptr;
      }
      MaybeStartWorkerLocked();
    }
  }
  if (done) done(result);
}

absl::Status Session::StartTraining(TrainObserver* observer, int pretrain_epochs) {
  MutexLock lock(&mu_);
  if (cancelled_.load()) {
    return absl::CancelledError(absl::StrCat("session ", id_, " is closing: ", cancel_reason_));
  }
  if (row_count_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", id_, " has no rows: ingest data before training"));
  }
  if (pending_train_ != nullptr || running_ == JobKind::kTrain) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", id_, " is already training: one run at a time"));
  }
  aad::ActiveConfig config = config_;
  if (pretrain_epochs >= 0) config.pretrain_epochs = pretrain_epochs;
  RETURN_IF_ERROR(config.Validate());
  pending_train_ = observer;
  pending_epochs_ = pretrain_epochs;
  MaybeStartWorkerLocked();
  return absl::OkStatus();
}

void Session::Cancel(const std::string& reason) {
  {
    MutexLock lock(&mu_);
    if (cancelled_.load()) return;
    cancel_reason_ = reason;
    // A running worker sees the flag at its next check and answers every
    // queued caller; without a worker nothing is queued (queued work always
    // has a worker).
    cancelled_.store(true);
  }
  LogInfo(id_, absl::StrCat("cancelled: ", reason));
}

bool Session::HasWorkLocked() const {
  if (pending_train_ != nullptr) return true;
  return snapshot_ != nullptr && snapshot_->labels_revision < labels_revision_ &&
         failed_revision_ != labels_revision_;
}

void Session::MaybeStartWorkerLocked() {
  if (worker_running_ || !HasWorkLocked()) return;
  worker_running_ = true;
  pool_->Schedule([self = shared_from_this()] { self->RunWorker(); });
}

std::shared_ptr<const aad::Matrix> Session::PoolMatrixLocked() {
  if (pool_matrix_ == nullptr || pool_matrix_->rows() != row_count_) {
    pool_matrix_ = std::make_shared<const aad::Matrix>(
        aad::ConstMatrixMap(rows_.data(), row_count_, feature_count_));
  }
  return pool_matrix_;
}

std::vector<Session::Waiter> Session::TakeWaitersLocked(int64_t revision) {
  std::vector<Waiter> ready, rest;
  for (Waiter& w : waiters_) (w.revision <= revision ? ready : rest).push_back(std::move(w));
  waiters_ = std::move(rest);
  return ready;
}

void Session::RunWorker() {
  for (;;) {
    JobKind kind = JobKind::kNone;
    TrainObserver* observer = nullptr;
    std::shared_ptr<const aad::Matrix> pool;
    std::vector<aad::LabeledRow> labels;
    int64_t revision = 0;
    aad::ActiveConfig config = config_;
    // Callers to answer when the worker stops (outside the lock).
    bool stop = false;
    absl::Status stop_status;
    std::vector<Waiter> stop_waiters;
    LabelResult stop_result;
    {
      MutexLock lock(&mu_);
      if (cancelled_.load()) {
        // Answer everyone still waiting, then stop for good.
        stop = true;
        observer = pending_train_;
        pending_train_ = nullptr;
        stop_waiters = std::move(waiters_);
        waiters_.clear();
        stop_status = absl::CancelledError(
            absl::StrCat("session ", id_, " is closing: ", cancel_reason_));
      } else if (pending_train_ != nullptr) {
        kind = JobKind::kTrain;
        observer = pending_train_;
        pending_train_ = nullptr;
        if (pending_epochs_ >= 0) config.pretrain_epochs = pending_epochs_;
      } else if (HasWorkLocked()) {
        kind = JobKind::kUpdate;
      } else {
        // Waiters left here wait for labels no model will include (no model
        // exists and no run is coming): answer them with the newest state.
        stop = true;
        stop_waiters = TakeWaitersLocked(labels_revision_);
        stop_result = {static_cast<int64_t>(labels_.size()), snapshot_ ? snapshot_->version : 0,
                       false};
      }
      if (stop) {
        worker_running_ = false;
        running_ = JobKind::kNone;
      } else {
        running_ = kind;
        pool = PoolMatrixLocked();
        labels = labels_;
        revision = labels_revision_;
      }
    }
    if (stop) {
      if (observer != nullptr) observer->OnTrainingDone(stop_status, 0);
      for (Waiter& w : stop_waiters) {
        if (stop_status.ok()) {
          w.done(stop_result);
        } else {
          w.done(stop_status);
        }
      }
      return;
    }

    aad::TrainControl control;
    control.should_stop = [this, observer] {
      return cancelled_.load() || (observer != nullptr && observer->ShouldStop());
    };
    if (observer != nullptr) {
      control.on_progress = [observer](const aad::TrainProgress& p) { observer->OnProgress(p); };
    }
    absl::Status status;
    std::shared_ptr<const aad::PoolScores> scores;
    {
      MutexLock train_lock(&train_mu_);
      if (kind == JobKind::kTrain) {
        LogInfo(id_, absl::StrCat("training on ", pool->rows(), " rows and ", labels.size(),
                                  " labels"));
        // A fresh learner: a cancelled run leaves the current one (and its
        // caches, which label updates warm-start from) untouched.
        auto fresh = aad::ActiveLearner::Create(config);
        status = fresh.status();
        if (status.ok()) status = (*fresh)->Train(*pool, labels, control);
        if (status.ok()) learner_ = std::move(*fresh);
      } else {
        status = learner_->Update(*pool, labels, control);
      }
      if (status.ok()) scores = std::make_shared<const aad::PoolScores>(*learner_);
    }

    std::vector<Waiter> answered;
    int64_t version = 0;
    LabelResult label_result;
    {
      MutexLock lock(&mu_);
      running_ = JobKind::kNone;
      if (status.ok()) {
        auto snap = std::make_shared<ModelSnapshot>();
        snap->version = ++last_version_;
        snap->labels_revision = revision;
        snap->scores = std::move(scores);
        snapshot_ = std::move(snap);
        version = last_version_;
        last_error_.clear();
        answered = TakeWaitersLocked(revision);
        label_result = {static_cast<int64_t>(labels_.size()), version, true};
      } else {
        last_error_ = std::string(status.message());
        if (kind == JobKind::kUpdate) {
          failed_revision_ = revision;
          answered = TakeWaitersLocked(revision);
        }
      }
    }
    if (status.ok()) {
      LogInfo(id_, absl::StrCat(kind == JobKind::kTrain ? "trained" : "updated", " model version ",
                                version, " (", labels.size(), " labels)"));
    } else {
      LogWarning(id_, absl::StrCat(kind == JobKind::kTrain ? "training" : "label update",
                                   " failed: ", status.ToString()));
    }
    if (observer != nullptr) observer->OnTrainingDone(status, version);
    for (Waiter& w : answered) {
      if (status.ok()) {
        w.done(label_result);
      } else {
        w.done(status);
      }
    }
  }
}

}  // namespace aadd

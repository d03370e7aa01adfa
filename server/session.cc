#include "server/session.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/active/active_model.h"
#include "core/util/status_macros.h"
#include "server/log.h"
#include "server/row_validation.h"

namespace aad {

namespace {

// The store's id of a batch sent without one (the store needs an id per
// batch); never registered for deduplication.
std::string StoreBatchId(const std::string& batch_id, int64_t first_row_id) {
  if (!batch_id.empty()) return batch_id;
  return absl::StrCat(std::string(1, Session::kReservedBatchIdPrefix), "rows-", first_row_id);
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

}  // namespace

Session::Session(std::string id, SessionOptions options, SessionLimits limits, TrainingPool* pool,
                 SessionStore* store)
    : id_(std::move(id)),
      limits_(limits),
      pool_(pool),
      feature_names_(std::move(options.feature_names)),
      config_(options.config),
      strategy_(options.strategy),
      store_(store),
      feature_count_(options.feature_count) {}

Session::~Session() = default;

absl::StatusOr<std::shared_ptr<Session>> Session::Restore(const SessionRecord& record,
                                                          SessionLimits limits,
                                                          TrainingPool* pool,
                                                          SessionStore* store) {
  SessionOptions options = record.options;
  if (!record.batches.empty()) options.feature_count = record.batches.front().feature_count;
  auto session = std::make_shared<Session>(record.id, std::move(options), limits, pool, store);
  Session& s = *session;
  MutexLock train_lock(&s.train_mu_);
  MutexLock write_lock(&s.write_mu_);
  MutexLock lock(&s.mu_);
  const int64_t rows = record.row_count();
  s.rows_.reserve(static_cast<size_t>(rows * s.feature_count_));
  for (const BatchRecord& b : record.batches) {
    s.rows_.insert(s.rows_.end(), b.values.begin(), b.values.end());
    if (b.batch_id.empty() || b.batch_id[0] != kReservedBatchIdPrefix) {
      s.batches_[b.batch_id] = {b.first_row_id, b.row_count};
    }
  }
  s.row_count_ = rows;
  for (const LabelRecord& l : record.labels) {
    s.label_index_[l.row_id] = s.labels_.size();
    s.labels_.push_back({l.row_id, l.anomaly});
    s.anomalies_ += l.anomaly;
  }
  s.labels_revision_ = static_cast<int64_t>(record.label_history.size());
  // One submission, one time (SubmitLabels makes them strictly increasing).
  absl::flat_hash_set<int64_t> submissions;
  for (const LabelRecord& l : record.label_history) {
    submissions.insert(l.time_micros);
    s.last_label_micros_ = std::max(s.last_label_micros_, l.time_micros);
  }
  // Every stored submission was a feedback round: the counter is exact
  // after a restart or an import, whatever the order of labels and models.
  s.label_rounds_ = static_cast<int64_t>(submissions.size());
  if (record.model.has_value()) {
    const ModelRecord& m = *record.model;
    auto model = aad::ActiveModel::Deserialize(m.bytes);
    if (!model.ok()) {
      return absl::DataLossError(absl::StrCat("session ", record.id, ": stored model version ",
                                              m.version, " is unreadable: ",
                                              model.status().message()));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<aad::ActiveLearner> learner,
                     aad::ActiveLearner::Create(s.config_));
    RETURN_IF_ERROR(learner->Adopt(*std::move(model), *s.PoolMatrixLocked()));
    auto snap = std::make_shared<ModelSnapshot>();
    snap->version = m.version;
    snap->labels_revision = m.labels_revision;
    snap->scores = std::make_shared<const aad::PoolScores>(*learner);
    s.snapshot_ = std::move(snap);
    s.last_version_ = m.version;
    s.learner_ = std::move(learner);
  }
  for (const TrainingRunRecord& run : record.interrupted_training) {
    s.last_error_ = absl::StrCat("training interrupted by a restart (",
                                 TrainingStateName(run.kind), " run ", run.run_id, " started at ",
                                 absl::FormatTime(absl::FromUnixMicros(run.started_micros)), ")");
    RETURN_IF_ERROR(store->FinishTraining(record.id, run.run_id, "interrupted by a restart"));
  }
  s.MaybeStartWorkerLocked();
  return session;
}

absl::Status Session::DeleteFromStore() {
  MutexLock write_lock(&write_mu_);
  if (deleted_) return absl::NotFoundError(absl::StrCat("no session with id '", id_, "'"));
  RETURN_IF_ERROR(store_->DeleteSession(id_));
  deleted_ = true;
  return absl::OkStatus();
}

absl::StatusOr<IngestResult> Session::Append(const std::string& batch_id, int64_t feature_count,
                                             absl::Span<const float> values) {
  const std::string what =
      batch_id.empty() ? std::string("batch") : absl::StrCat("batch '", batch_id, "'");
  if (!batch_id.empty() && batch_id[0] == kReservedBatchIdPrefix) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch id of ", batch_id.size(), " bytes starts with byte 0x01, which aadd reserves"));
  }
  // Held over the store write: appends get contiguous row ids, in order.
  MutexLock write_lock(&write_mu_);
  if (deleted_) return absl::NotFoundError(absl::StrCat("no session with id '", id_, "'"));
  BatchRecord record;
  {
    MutexLock lock(&mu_);
    if (!batch_id.empty()) {
      auto it = batches_.find(batch_id);
      if (it != batches_.end()) {
        const int64_t rows =
            feature_count > 0 ? static_cast<int64_t>(values.size()) / feature_count : -1;
        if (rows != it->second.second) {
          return absl::AlreadyExistsError(absl::StrCat(what, " was stored before with ",
                                                       it->second.second,
                                                       " rows; this one has ", rows));
        }
        return IngestResult{it->second.first, it->second.second, true, row_count_};
      }
    }
    RETURN_IF_ERROR(
        ValidateRows(values, feature_count, feature_count_, limits_.max_features, what));
    const int64_t rows = static_cast<int64_t>(values.size()) / feature_count;
    if (row_count_ + rows > limits_.max_rows_per_session) {
      return absl::ResourceExhaustedError(
          absl::StrCat(what, " of ", rows, " rows would grow session ", id_, " to ",
                       row_count_ + rows, " rows, over the limit of ",
                       limits_.max_rows_per_session, " (--max_rows_per_session)"));
    }
    record.batch_id = StoreBatchId(batch_id, row_count_);
    record.first_row_id = row_count_;
    record.row_count = rows;
    record.feature_count = feature_count;
  }
  // Stored before memory changes: a store error leaves the session as it was.
  record.values.assign(values.begin(), values.end());
  ASSIGN_OR_RETURN(AppendResult stored, store_->AppendBatch(id_, record));
  MutexLock lock(&mu_);
  if (stored.duplicate) {
    // The store knew the batch and memory did not: answer with its ids.
    batches_[batch_id] = {stored.first_row_id, stored.row_count};
    return IngestResult{stored.first_row_id, stored.row_count, true, row_count_};
  }
  feature_count_ = feature_count;
  rows_.insert(rows_.end(), values.begin(), values.end());
  IngestResult result{row_count_, record.row_count, false, row_count_ + record.row_count};
  row_count_ += record.row_count;
  if (!batch_id.empty()) batches_[batch_id] = {result.first_row_id, record.row_count};
  return result;
}

std::shared_ptr<const Session::ModelSnapshot> Session::snapshot() const {
  MutexLock lock(&mu_);
  return snapshot_;
}

SessionInfo Session::Info() const {
  MutexLock lock(&mu_);
  SessionInfo s;
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
  s.state = running_ == TrainingState::kTraining || pending_train_ != nullptr ? TrainingState::kTraining
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
    for (const aad::LabelledRow& l : labels_) labelled[l.row] = 1;
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

void Session::SubmitLabels(absl::Span<const aad::LabelledRow> labels, bool wait_for_model,
                           std::function<void(absl::StatusOr<LabelResult>)> done) {
  if (labels.empty()) {
    done(absl::InvalidArgumentError("no labels given: send at least one row id and verdict"));
    return;
  }
  LabelResult result;
  absl::Status status = [&]() -> absl::Status {
    // Held over the store write: the store's history has memory's order.
    MutexLock write_lock(&write_mu_);
    if (deleted_) return absl::NotFoundError(absl::StrCat("no session with id '", id_, "'"));
    {
      MutexLock lock(&mu_);
      if (cancelled_.load()) {
        return absl::CancelledError(absl::StrCat("session ", id_, " is closing: ", cancel_reason_));
      }
      // Validate all before storing any: a rejected request changes nothing.
      for (const aad::LabelledRow& l : labels) {
        if (l.row < 0 || l.row >= row_count_) {
          return absl::NotFoundError(absl::StrCat("row id ", l.row, " is not in session ", id_,
                                                  " (", row_count_,
                                                  " rows); no label was stored"));
        }
      }
    }
    const int64_t time = std::max(NowMicros(), last_label_micros_ + 1);
    std::vector<LabelRecord> records;
    records.reserve(labels.size());
    for (const aad::LabelledRow& l : labels) records.push_back({l.row, l.anomaly, time});
    RETURN_IF_ERROR(store_->PutLabels(id_, records));
    last_label_micros_ = time;

    MutexLock lock(&mu_);
    for (const aad::LabelledRow& l : labels) {
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
    labels_revision_ += static_cast<int64_t>(labels.size());
    result.labels = static_cast<int64_t>(labels_.size());
    result.model_version = snapshot_ ? snapshot_->version : 0;
    // An update follows when a model exists or a full run will produce one.
    result.update_scheduled = snapshot_ != nullptr || pending_train_ != nullptr ||
                              running_ == TrainingState::kTraining;
    ++label_rounds_;  // also before any model: the count must follow from the store
    if (result.update_scheduled) {
      if (wait_for_model) {
        waiters_.push_back({labels_revision_, std::move(done)});
        done = nullptr;
      }
      MaybeStartWorkerLocked();
    }
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    done(status);
  } else if (done) {
    done(result);
  }
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
  if (pending_train_ != nullptr || running_ == TrainingState::kTraining) {
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
  bool stops_worker;
  {
    MutexLock lock(&mu_);
    if (cancelled_.load()) return;
    cancel_reason_ = reason;
    // A running worker sees the flag at its next check and answers every
    // queued caller; without a worker nothing is queued (queued work always
    // has a worker).
    cancelled_.store(true);
    stops_worker = worker_running_;
  }
  // An idle session has nothing to stop: a shutdown of a server holding
  // many sessions logs only those whose training it cuts short.
  if (stops_worker) LogInfo(id_, absl::StrCat("cancelled: ", reason, "; training stops"));
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
    TrainingState kind = TrainingState::kIdle;
    TrainObserver* observer = nullptr;
    std::shared_ptr<const aad::Matrix> pool;
    std::vector<aad::LabelledRow> labels;
    int64_t revision = 0;
    int64_t next_version = 0;
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
        kind = TrainingState::kTraining;
        observer = pending_train_;
        pending_train_ = nullptr;
        if (pending_epochs_ >= 0) config.pretrain_epochs = pending_epochs_;
      } else if (HasWorkLocked()) {
        kind = TrainingState::kUpdating;
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
        running_ = TrainingState::kIdle;
      } else {
        running_ = kind;
        pool = PoolMatrixLocked();
        labels = labels_;
        revision = labels_revision_;
        // Only this worker publishes versions.
        next_version = last_version_ + 1;
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
      // The run is recorded first, so that a crash during it is reported
      // after the restart.
      absl::StatusOr<int64_t> run = BeginRun(kind);
      status = run.status();
      if (status.ok() && kind == TrainingState::kTraining) {
        LogInfo(id_, absl::StrCat("training on ", pool->rows(), " rows and ", labels.size(),
                                  " labels"));
        // A fresh learner: a cancelled or unstored run leaves the current one
        // (and its caches, which label updates warm-start from) untouched.
        auto fresh = aad::ActiveLearner::Create(config);
        status = fresh.status();
        if (status.ok()) status = (*fresh)->Train(*pool, labels, control);
        if (status.ok()) {
          status = PersistModel(*(*fresh)->model(), next_version, revision, *run);
        }
        if (status.ok()) learner_ = std::move(*fresh);
      } else if (status.ok()) {
        std::shared_ptr<const aad::ActiveModel> previous = learner_->model();
        status = learner_->Update(*pool, labels, control);
        if (status.ok()) {
          status = PersistModel(*learner_->model(), next_version, revision, *run);
          if (!status.ok()) {
            // The update is not stored, so it is not published either: go
            // back to the published model for the next update.
            absl::Status back = learner_->Adopt(previous, *pool);
            if (!back.ok()) {
              LogError(id_, absl::StrCat("cannot restore the learner: ", back.message()));
            }
          }
        }
      }
      if (status.ok()) {
        scores = std::make_shared<const aad::PoolScores>(*learner_);
      } else if (run.ok()) {
        FinishRun(*run, status);
      }
    }

    std::vector<Waiter> answered;
    int64_t version = 0;
    LabelResult label_result;
    {
      MutexLock lock(&mu_);
      running_ = TrainingState::kIdle;
      if (status.ok()) {
        auto snap = std::make_shared<ModelSnapshot>();
        last_version_ = next_version;
        snap->version = next_version;
        snap->labels_revision = revision;
        snap->scores = std::move(scores);
        snapshot_ = std::move(snap);
        version = last_version_;
        last_error_.clear();
        answered = TakeWaitersLocked(revision);
        label_result = {static_cast<int64_t>(labels_.size()), version, true};
      } else {
        last_error_ = std::string(status.message());
        if (kind == TrainingState::kUpdating) {
          failed_revision_ = revision;
          answered = TakeWaitersLocked(revision);
        }
      }
    }
    if (status.ok()) {
      LogInfo(id_, absl::StrCat(kind == TrainingState::kTraining ? "trained" : "updated", " model version ",
                                version, " (", labels.size(), " labels)"));
    } else {
      LogWarning(id_, absl::StrCat(kind == TrainingState::kTraining ? "training" : "label update",
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

absl::StatusOr<int64_t> Session::BeginRun(TrainingState kind) {
  MutexLock write_lock(&write_mu_);
  if (deleted_) return absl::CancelledError(absl::StrCat("session ", id_, " was deleted"));
  return store_->BeginTraining(id_, kind, NowMicros());
}

absl::Status Session::PersistModel(const aad::ActiveModel& model, int64_t version,
                                   int64_t revision, int64_t run_id) {
  ModelRecord record;
  record.version = version;
  record.labels_revision = revision;
  record.created_micros = NowMicros();
  record.bytes = model.Serialize();
  MutexLock write_lock(&write_mu_);
  if (deleted_) return absl::CancelledError(absl::StrCat("session ", id_, " was deleted"));
  return store_->PutModel(id_, record, run_id);
}

void Session::FinishRun(int64_t run_id, const absl::Status& outcome) {
  MutexLock write_lock(&write_mu_);
  if (deleted_) return;
  absl::Status status = store_->FinishTraining(id_, run_id, outcome.ToString());
  // Not fatal: the run is reported as interrupted after a restart.
  if (!status.ok()) LogWarning(id_, absl::StrCat("cannot close training run ", run_id, ": ",
                                                 status.message()));
}

}  // namespace aad

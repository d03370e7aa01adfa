#include "server/session.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/active/active_model.h"
#include "core/util/status_macros.h"
#include "format/feature_names.h"
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


}  // namespace

int64_t Session::NowMicros() { return absl::ToUnixMicros(absl::Now()); }

Session::Session(std::string id, SessionOptions options, SessionLimits limits, TrainingPool* pool,
                 SessionStore* store, std::string tenant, TenantRows* tenant_rows,
                 SessionMetrics* metrics)
    : id_(std::move(id)),
      tenant_(std::move(tenant)),
      tenant_rows_(tenant_rows),
      limits_(limits),
      pool_(pool),
      config_(options.config),
      strategy_(options.strategy),
      store_(store),
      metrics_(metrics),
      rows_(options.feature_count),
      feature_names_(std::move(options.feature_names)) {}

Session::~Session() = default;

absl::StatusOr<std::shared_ptr<Session>> Session::Restore(const SessionRecord& record,
                                                          SessionLimits limits,
                                                          TrainingPool* pool,
                                                          SessionStore* store,
                                                          TenantRows* tenant_rows,
                                                          SessionMetrics* metrics) {
  SessionOptions options = record.options;
  if (!record.batches.empty()) options.feature_count = record.batches.front().feature_count;
  auto session = std::make_shared<Session>(record.id, std::move(options), limits, pool, store,
                                           record.tenant, tenant_rows, metrics);
  Session& s = *session;
  MutexLock train_lock(&s.train_mu_);
  MutexLock write_lock(&s.write_mu_);
  MutexLock lock(&s.mu_);
  for (const BatchRecord& b : record.batches) {
    s.rows_.Append(b.feature_count, b.values);
    if (b.batch_id.empty() || b.batch_id[0] != kReservedBatchIdPrefix) {
      s.rows_.RememberBatch(b.batch_id, {b.first_row_id, b.row_count});
    }
  }
  for (const LabelRecord& l : record.labels) s.labels_.Apply({l.row_id, l.anomaly});
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
    const aad::PoolRows rows = s.rows_.Snapshot();
    RETURN_IF_ERROR(learner->Adopt(*std::move(model), rows));
    auto snap = std::make_shared<ModelSnapshot>();
    snap->version = m.version;
    snap->labels_revision = m.labels_revision;
    snap->scores = std::make_shared<const aad::PoolScores>(*learner, rows);
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

std::vector<std::string> Session::feature_names() const {
  MutexLock lock(&mu_);
  return feature_names_;
}

int64_t Session::FeatureCountLocked() const {
  return rows_.feature_count() != 0 ? rows_.feature_count()
                                    : static_cast<int64_t>(feature_names_.size());
}

absl::StatusOr<bool> Session::CheckIngestNamesLocked(absl::Span<const std::string> names,
                                                     int64_t feature_count) const {
  if (names.empty()) return false;
  if (feature_names_.empty()) {
    // The session's width once rows are in (ingested without a header),
    // else the batch's.
    const int64_t width = FeatureCountLocked() != 0 ? FeatureCountLocked() : feature_count;
    absl::Status valid = ValidateFeatureNames(names, width);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("session ", id_, ": ", valid.message()));
    }
    return true;
  }
  const int64_t i = FirstDifferentFeatureName(names, feature_names_);
  if (i < 0) return false;
  if (i >= static_cast<int64_t>(std::min(names.size(), feature_names_.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "this ingest sends ", names.size(), " feature names, session ", id_, " has ",
        feature_names_.size(), ": send the session's names, or none"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "feature name ", i, " is ", QuoteFeatureName(names[i]), " in this ingest but ",
      QuoteFeatureName(feature_names_[i]), " in session ", id_,
      ": send the session's names, or none"));
}

absl::StatusOr<IngestResult> Session::Append(const std::string& batch_id, int64_t feature_count,
                                             absl::Span<const float> values,
                                             absl::Span<const std::string> feature_names) {
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
  std::optional<IngestResult> duplicate;
  bool new_names = false;
  {
    MutexLock lock(&mu_);
    if (const std::optional<RowPool::BatchSpan> known =
            batch_id.empty() ? std::nullopt : rows_.FindBatch(batch_id)) {
      const int64_t rows =
          feature_count > 0 ? static_cast<int64_t>(values.size()) / feature_count : -1;
      if (rows != known->row_count) {
        return absl::AlreadyExistsError(absl::StrCat(what, " was stored before with ",
                                                     known->row_count, " rows; this one has ",
                                                     rows));
      }
      duplicate = IngestResult{known->first_row_id, known->row_count, true, rows_.rows()};
    } else {
      RETURN_IF_ERROR(
          ValidateRows(values, feature_count, FeatureCountLocked(), limits_.max_features, what));
      const int64_t rows = static_cast<int64_t>(values.size()) / feature_count;
      if (rows_.rows() + rows > limits_.max_rows_per_session) {
        return absl::ResourceExhaustedError(
            absl::StrCat(what, " of ", rows, " rows would grow session ", id_, " to ",
                         rows_.rows() + rows, " rows, over the limit of ",
                         limits_.max_rows_per_session, " (--max_rows_per_session)"));
      }
      record.batch_id = StoreBatchId(batch_id, rows_.rows());
      record.first_row_id = rows_.rows();
      record.row_count = rows;
      record.feature_count = feature_count;
    }
    // After the rows: a batch that is refused anyway stores no names.
    ASSIGN_OR_RETURN(new_names, CheckIngestNamesLocked(feature_names, feature_count));
  }
  if (new_names) {
    // Stored before memory changes and before the batch. Should the batch's
    // store write then fail, the names stay, in the store and in memory
    // alike (a retry sends the same ones), and they fix the width already.
    std::vector<std::string> names(feature_names.begin(), feature_names.end());
    RETURN_IF_ERROR(store_->SetFeatureNames(id_, names));
    MutexLock lock(&mu_);
    feature_names_ = std::move(names);
  }
  // A retried batch (the first attempt's reply was lost) stores nothing.
  if (duplicate.has_value()) return *duplicate;
  // Counted for the tenant before it is stored (write_mu_ keeps a delete
  // from releasing the count meanwhile), given back unless stored.
  if (tenant_rows_ != nullptr) RETURN_IF_ERROR(tenant_rows_->Reserve(tenant_, record.row_count));
  // Stored before memory changes: a store error leaves the session as it was.
  record.values.assign(values.begin(), values.end());
  absl::StatusOr<AppendResult> appended = store_->AppendBatch(id_, record);
  if (tenant_rows_ != nullptr && (!appended.ok() || appended->duplicate)) {
    tenant_rows_->Release(tenant_, record.row_count);
  }
  ASSIGN_OR_RETURN(AppendResult stored, std::move(appended));
  MutexLock lock(&mu_);
  if (stored.duplicate) {
    // The store knew the batch and memory did not: answer with its ids.
    rows_.RememberBatch(batch_id, {stored.first_row_id, stored.row_count});
    return IngestResult{stored.first_row_id, stored.row_count, true, rows_.rows()};
  }
  IngestResult result{rows_.rows(), record.row_count, false, rows_.rows() + record.row_count};
  rows_.Append(feature_count, values);
  // Under write_mu_, as a deletion's count of the rows is.
  if (metrics_ != nullptr) metrics_->RowsAdded(record.row_count);
  if (!batch_id.empty()) rows_.RememberBatch(batch_id, {result.first_row_id, record.row_count});
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
  s.options.feature_count = FeatureCountLocked();
  s.options.feature_names = feature_names_;
  s.rows = rows_.rows();
  s.labels = labels_.size();
  s.anomalies = labels_.anomalies();
  s.model_version = snapshot_ ? snapshot_->version : 0;
  s.model_rows = snapshot_ ? snapshot_->scores->rows() : 0;
  s.label_rounds = label_rounds_;
  // What the trainer does or has queued, not whether its worker thread is
  // still winding down: right after a full run's last message the worker
  // may still hold its slot with nothing left to do.
  s.state = running_ == TrainingState::kTraining || pending_train_ != nullptr
                ? TrainingState::kTraining
            : running_ == TrainingState::kUpdating || HasWorkLocked() ? TrainingState::kUpdating
                                                                      : TrainingState::kIdle;
  s.last_training_error = last_error_;
  return s;
}

namespace {

absl::Status ValidateExplainTop(int explain_top) {
  if (explain_top < 0 || explain_top > Session::kMaxExplainTop) {
    return absl::InvalidArgumentError(absl::StrCat("explain_top must be in 0..",
                                                   Session::kMaxExplainTop, ", got ",
                                                   explain_top));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RowScores> Session::ScoreRows(int64_t feature_count,
                                             absl::Span<const float> values,
                                             int explain_top) const {
  RETURN_IF_ERROR(ValidateExplainTop(explain_top));
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
  if (explain_top > 0) {
    RETURN_IF_ERROR(snap->scores->Explain(values, feature_count, explain_top, &out.explanations));
  }
  return out;
}

absl::StatusOr<RowScores> Session::ScorePoolRows(absl::Span<const int64_t> row_ids,
                                                 int explain_top) const {
  RETURN_IF_ERROR(ValidateExplainTop(explain_top));
  if (row_ids.empty()) {
    return absl::InvalidArgumentError("score request is empty: no rows and no row ids");
  }
  std::shared_ptr<const ModelSnapshot> snap;
  std::vector<float> gathered;
  int64_t cols = 0;
  bool all_scored = true;
  {
    MutexLock lock(&mu_);
    snap = snapshot_;
    if (snap == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("session ", id_, " has no model yet: call Train first"));
    }
    for (int64_t r : row_ids) {
      if (r < 0 || r >= rows_.rows()) {
        return absl::NotFoundError(absl::StrCat("row id ", r, " is not in session ", id_,
                                                " (", rows_.rows(), " rows)"));
      }
      all_scored = all_scored && r < snap->scores->rows();
    }
    // Rows ingested after the model was trained have no cached score: score
    // them all with the model so one reply never mixes two computations.
    // Explanations read the rows themselves.
    if (!all_scored || explain_top > 0) {
      cols = rows_.feature_count();
      rows_.Gather(row_ids, &gathered);
    }
  }
  RowScores out;
  out.model_version = snap->version;
  if (cols == 0 || all_scored) {
    RETURN_IF_ERROR(snap->scores->Lookup(row_ids, &out.p, &out.logit, &out.s));
  } else {
    RETURN_IF_ERROR(aad::ScoreRows(*snap->scores->model(), gathered, cols, &out.p, &out.logit,
                                   &out.s));
  }
  if (explain_top > 0) {
    RETURN_IF_ERROR(snap->scores->Explain(gathered, cols, explain_top, &out.explanations));
  }
  return out;
}

absl::StatusOr<Candidates> Session::QueryCandidates(int64_t k, const aad::StrategyKind* strategy,
                                                    const uint64_t* seed,
                                                    int explain_top) const {
  if (k < 1 || k > 10000) {
    return absl::InvalidArgumentError(absl::StrCat("k must be in 1..10000, got ", k));
  }
  RETURN_IF_ERROR(ValidateExplainTop(explain_top));
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
    labelled = labels_.LabelledFlags(rows_.rows());
    query_seed = seed != nullptr ? *seed
                                 : aad::QuerySeed(config_.seed, static_cast<uint64_t>(label_rounds_) + 1);
  }
  Candidates out;
  out.model_version = snap->version;
  out.row_ids = snap->scores->Select(strategy != nullptr ? *strategy : strategy_, labelled,
                                     query_seed, k);
  std::vector<float> logit;
  RETURN_IF_ERROR(snap->scores->Lookup(out.row_ids, &out.p, &logit, &out.s));
  {
    MutexLock lock(&mu_);
    out.feature_count = rows_.feature_count();
    rows_.Gather(out.row_ids, &out.values);
    out.feature_names = feature_names_;  // set by an ingest at any time: under the lock
  }
  if (explain_top > 0 && !out.row_ids.empty()) {
    RETURN_IF_ERROR(
        snap->scores->Explain(out.values, out.feature_count, explain_top, &out.explanations));
  }
  return out;
}

void Session::SubmitLabels(absl::Span<const LabelChange> labels, bool wait_for_model,
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
    const int64_t time = std::max(NowMicros(), last_label_micros_ + 1);
    std::vector<LabelRecord> records;
    records.reserve(labels.size());
    for (const LabelChange& l : labels) {
      records.push_back({l.row, l.anomaly && !l.withdraw, time, l.withdraw});
    }
    {
      MutexLock lock(&mu_);
      if (cancelled_.load()) {
        return absl::CancelledError(absl::StrCat("session ", id_, " is closing: ", cancel_reason_));
      }
      // Validate all before storing any: a rejected request changes nothing.
      for (const LabelChange& l : labels) {
        if (l.row < 0 || l.row >= rows_.rows()) {
          return absl::NotFoundError(absl::StrCat("row id ", l.row, " is not in session ", id_,
                                                  " (", rows_.rows(),
                                                  " rows); no label was stored"));
        }
      }
      // Labels change only under write_mu_, which this call holds: what is
      // checked here is what the withdrawals apply to below. Read under mu_
      // before the check, whose callback the thread-safety analysis cannot
      // see holding it.
      absl::flat_hash_set<int64_t> labelled;
      for (const LabelChange& l : labels) {
        if (l.withdraw && labels_.Contains(l.row)) labelled.insert(l.row);
      }
      absl::Status withdrawals =
          CheckWithdrawals(records, [&labelled](int64_t row) -> absl::StatusOr<bool> {
            return labelled.contains(row);
          });
      if (!withdrawals.ok()) {
        return absl::NotFoundError(absl::StrCat("session ", id_, ": ", withdrawals.message(),
                                                "; no label was stored"));
      }
    }
    RETURN_IF_ERROR(store_->PutLabels(id_, records));
    last_label_micros_ = time;

    MutexLock lock(&mu_);
    int64_t verdicts = 0, anomalies_found = 0;
    for (const LabelChange& l : labels) {
      if (l.withdraw) {
        labels_.Withdraw(l.row);
      } else {
        const int64_t anomalies = labels_.anomalies();
        labels_.Apply({l.row, l.anomaly});
        ++verdicts;
        if (labels_.anomalies() > anomalies) ++anomalies_found;  // the row became one
      }
    }
    if (metrics_ != nullptr) metrics_->LabelsStored(verdicts, anomalies_found);
    labels_revision_ += static_cast<int64_t>(labels.size());
    result.labels = labels_.size();
    result.model_version = snapshot_ ? snapshot_->version : 0;
    // An update follows when a model exists or a full run will produce one.
    result.update_scheduled = snapshot_ != nullptr || pending_train_ != nullptr ||
                              running_ == TrainingState::kTraining;
    ++label_rounds_;  // also before any model: the count must follow from the store
    if (result.update_scheduled) {
      if (metrics_ != nullptr) pending_rounds_.push_back({labels_revision_, NowMicros()});
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

}  // namespace aad

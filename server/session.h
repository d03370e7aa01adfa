// One active-learning session: its pool of rows, the expert's labels, its
// configuration and its sequence of model versions.
//
// Reads (scores, candidates, status) use an immutable snapshot of the newest
// model (std::shared_ptr<const ModelSnapshot>) taken under a short lock, so
// they never wait for training. Training runs on the shared TrainingPool, at
// most one run per session: a session has at most one worker job queued or
// running, which takes a pending full training first and then a label update
// whenever labels changed since the newest model (label submissions that
// arrive during a run are coalesced into one update).
//
// Durability: every write reaches the SessionStore before memory changes and
// before the caller is answered (rows, labels, models, training runs), so an
// acknowledged write survives a crash; a store error fails the call and
// leaves the session as it was. Restore() rebuilds a session from its
// stored record after a restart, with bit-identical scores.
#ifndef AADD_SERVER_SESSION_H_
#define AADD_SERVER_SESSION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/label_book.h"
#include "server/metrics/session_metrics.h"
#include "server/mutex.h"
#include "server/row_pool.h"
#include "server/tenant_rows.h"
#include "server/storage/session_store.h"
#include "core/active/active_config.h"
#include "core/active/active_learner.h"
#include "core/active/pool_scores.h"
#include "core/active/query_strategy.h"
#include "core/active/train_control.h"
#include "server/training_pool.h"

namespace aad {

struct SessionLimits {
  int64_t max_rows_per_session = 10'000'000;
  int64_t max_features = 4096;
};


struct SessionInfo {
  std::string id;
  SessionOptions options;
  int64_t rows = 0;
  int64_t labels = 0;
  int64_t anomalies = 0;
  int64_t model_version = 0;
  int64_t model_rows = 0;
  int64_t label_rounds = 0;
  TrainingState state = TrainingState::kIdle;
  std::string last_training_error;
};

struct IngestResult {
  int64_t first_row_id = 0;
  int64_t row_count = 0;
  bool duplicate = false;  // the batch id was stored before
  int64_t total_rows = 0;
};

struct RowScores {
  std::vector<float> p, logit, s;
  int64_t model_version = 0;
  std::vector<aad::Explanation> explanations;  // one per row when asked
};

struct Candidates {
  std::vector<int64_t> row_ids;
  int64_t feature_count = 0;
  std::vector<float> values;  // row_ids.size() x feature_count
  std::vector<float> p, s;
  int64_t model_version = 0;
  std::vector<aad::Explanation> explanations;  // one per candidate when asked
  std::vector<std::string> feature_names;     // the session's (may be empty)
};

struct LabelResult {
  int64_t labels = 0;
  int64_t model_version = 0;
  bool update_scheduled = false;
};

// Watches one full training run (the Train RPC). Called from a training
// thread; OnTrainingDone exactly once, last.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void OnProgress(const aad::TrainProgress& progress) = 0;
  // Polled between minibatches: true stops the run (previous model kept).
  virtual bool ShouldStop() = 0;
  // `version` is the published model version when status is OK.
  virtual void OnTrainingDone(const absl::Status& status, int64_t version) = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `pool` must outlive every job this session schedules (SessionManager
  // owns both and drains the pool last); `store` (not owned) must outlive
  // the session and hold a stored session `id` (SessionManager creates it).
  // `tenant` owns the session ("": the anonymous tenant, without
  // --auth_tokens). `tenant_rows` (not owned, may be null) counts the
  // tenant's rows against its limit: Append reserves there; the owner
  // releases a deleted session's rows. `metrics` (not owned; null: none)
  // must outlive the session.
  Session(std::string id, SessionOptions options, SessionLimits limits, TrainingPool* pool,
          SessionStore* store, std::string tenant = "", TenantRows* tenant_rows = nullptr,
          SessionMetrics* metrics = nullptr);
  ~Session();

  // Rebuilds a session from its stored record (after a restart): rows,
  // batch ids, labels in first-given order and the newest model, adopted
  // over the pool so that scores and candidates are bit-identical to those
  // before the restart. Interrupted training runs are closed in the store
  // and reported in last_training_error; labels newer than the model
  // schedule a label update. DATA_LOSS naming the session when the stored
  // model cannot be read.
  static absl::StatusOr<std::shared_ptr<Session>> Restore(const SessionRecord& record,
                                                          SessionLimits limits,
                                                          TrainingPool* pool,
                                                          SessionStore* store,
                                                          TenantRows* tenant_rows = nullptr,
                                                          SessionMetrics* metrics = nullptr);

  // Removes the session from the store and refuses every later write
  // (waits for a write in flight). NOT_FOUND when already deleted; a store
  // error leaves the session stored and usable.
  absl::Status DeleteFromStore();

  const std::string& id() const { return id_; }
  // The tenant that created (or imported) the session; only it may see it.
  const std::string& tenant() const { return tenant_; }
  // The names of the rows' columns (may be empty): given at creation or by
  // the first ingest that sent them. A copy: an ingest may set them while
  // the caller holds it.
  std::vector<std::string> feature_names() const ABSL_LOCKS_EXCLUDED(mu_);

  // All methods below are thread-safe.

  // Appends a batch of rows (validated here, then stored). A batch id stored
  // before is not stored again: the result repeats its first ids
  // (duplicate = true); ALREADY_EXISTS if the retry has a different row
  // count; RESOURCE_EXHAUSTED past the tenant's rows (TenantRows). Batch ids
  // starting with kReservedBatchIdPrefix are refused
  // (INVALID_ARGUMENT): the store names batches sent without an id so.
  // `feature_names` (the first message of an Ingest stream; may be empty)
  // must pass ValidateFeatureNames for the batch's width: a session without
  // names takes them, stored before the batch and before memory changes (a
  // store error on them fails the call and changes nothing; one on the
  // batch after them leaves the names, stored and in memory alike); a
  // session with names must be sent the same ones, else INVALID_ARGUMENT
  // naming the first that differs. Names and rows are both checked before
  // anything is stored.
  static constexpr char kReservedBatchIdPrefix = '\x01';
  absl::StatusOr<IngestResult> Append(const std::string& batch_id, int64_t feature_count,
                                      absl::Span<const float> values,
                                      absl::Span<const std::string> feature_names = {});

  SessionInfo Info() const;

  // Explanations name at most this many features each.
  static constexpr int kMaxExplainTop = 1000;

  // Scores inline rows with the newest model, and explains each with its
  // `explain_top` largest contributions when explain_top > 0.
  // FAILED_PRECONDITION before any model exists.
  absl::StatusOr<RowScores> ScoreRows(int64_t feature_count, absl::Span<const float> values,
                                      int explain_top = 0) const;
  // Scores pool rows by id, explained as ScoreRows(). NOT_FOUND naming an
  // unknown id.
  absl::StatusOr<RowScores> ScorePoolRows(absl::Span<const int64_t> row_ids,
                                          int explain_top = 0) const;

  // Up to k unlabelled rows, each explained with its `explain_top` largest
  // contributions (none with 0). `strategy`/`seed` null = the session's
  // default strategy / the aad-eval seed rule for the current round.
  // INVALID_ARGUMENT for k outside 1..10000, explain_top outside
  // 0..kMaxExplainTop.
  absl::StatusOr<Candidates> QueryCandidates(int64_t k, const aad::StrategyKind* strategy,
                                             const uint64_t* seed, int explain_top = 0) const;

  // Stores labels (relabels replace in place) and withdrawals (the row is
  // unlabelled again and may be proposed again; labelled later, it goes to
  // the end of the first-labelled order), applied in the given order, and
  // schedules a label update when a model exists: after withdrawals the
  // model is refitted without those rows (with none left, the UAI layer
  // goes back to its prior: with a frozen detector, the default, that is
  // the fit without labels bit for bit). The whole submission is checked
  // before any of it is stored: NOT_FOUND naming the row for an unknown
  // row, or for a withdrawal of a row without a label at that point (nor
  // is anything stored on a store error). `done` is called
  // exactly once: at once, or — with wait_for_model and an update
  // scheduled — from a training thread when a model including these labels
  // is published or its update failed.
  void SubmitLabels(absl::Span<const LabelChange> labels, bool wait_for_model,
                    std::function<void(absl::StatusOr<LabelResult>)> done);

  // Queues a full training run on the pool and the labels so far. On OK,
  // `observer` (which must stay valid until its OnTrainingDone) is called
  // from a training thread. FAILED_PRECONDITION when the pool is empty or a
  // full run is already queued or running.
  // `pretrain_epochs` >= 0 overrides the session's setting for this run.
  absl::Status StartTraining(TrainObserver* observer, int pretrain_epochs = -1);

  // Stops training for good (deletion, shutdown): the running job stops at
  // its next check, queued work and waiters are answered with CANCELLED.
  void Cancel(const std::string& reason);

 private:
  struct ModelSnapshot {
    int64_t version = 0;
    int64_t labels_revision = 0;  // labels_revision_ the model was fitted on
    std::shared_ptr<const aad::PoolScores> scores;
  };
  struct Waiter {
    int64_t revision;
    std::function<void(absl::StatusOr<LabelResult>)> done;
  };
  // A label submission waiting for a model that holds it.
  struct PendingRound {
    int64_t revision;       // labels_revision_ once it was stored
    int64_t stored_micros;  // when it was stored
  };
  // One unit of the worker's work, taken under mu_ and run outside it.
  struct Job {
    TrainingState kind = TrainingState::kIdle;
    TrainObserver* observer = nullptr;  // the Train call of a full run
    aad::ActiveConfig config;
    aad::PoolRows pool;  // the rows at the job's start, shared, not copied
    std::vector<aad::LabelledRow> labels;
    int64_t revision = 0;      // labels_revision_ the job fits
    int64_t next_version = 0;  // the version it publishes
  };
  // What a worker that stops answers (outside the lock).
  struct Stop {
    TrainObserver* observer = nullptr;
    absl::Status status;  // OK: answer waiters with `result`
    LabelResult result;
    std::vector<Waiter> waiters;
  };

  // Wall-clock time of stored labels, models and runs.
  static int64_t NowMicros();
  std::shared_ptr<const ModelSnapshot> snapshot() const ABSL_LOCKS_EXCLUDED(mu_);
  bool HasWorkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeStartWorkerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunWorker() ABSL_LOCKS_EXCLUDED(mu_, train_mu_);
  // The next job, or false when the worker stops (then *stop says whom to
  // answer, and worker_running_ is cleared).
  bool TakeJobLocked(Job* job, Stop* stop) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Trains or updates, stores the model and returns the pool's new scores.
  absl::StatusOr<std::shared_ptr<const aad::PoolScores>> RunJob(const Job& job)
      ABSL_LOCKS_EXCLUDED(mu_, train_mu_);
  // Publishes a finished job's model (or records its failure) and answers
  // its observer and waiters.
  void FinishJob(const Job& job, const absl::StatusOr<std::shared_ptr<const aad::PoolScores>>& scores)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Store writes of the training worker, under write_mu_ (CANCELLED once
  // the session was deleted).
  absl::StatusOr<int64_t> BeginRun(TrainingState kind) ABSL_LOCKS_EXCLUDED(write_mu_, mu_);
  absl::Status PersistModel(const aad::ActiveModel& model, int64_t version, int64_t revision,
                            int64_t run_id) ABSL_LOCKS_EXCLUDED(write_mu_, mu_);
  void FinishRun(int64_t run_id, const absl::Status& outcome)
      ABSL_LOCKS_EXCLUDED(write_mu_, mu_);
  // The width rows must have: the pool's, or the names' before the first
  // row (0: not fixed yet).
  int64_t FeatureCountLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks an ingest's names against the session's (or, when it has none,
  // by ValidateFeatureNames); true when they are new and must be stored.
  absl::StatusOr<bool> CheckIngestNamesLocked(absl::Span<const std::string> names,
                                              int64_t feature_count) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the pending rounds up to `revision` (a model holding them is
  // published, or their update failed).
  std::vector<PendingRound> TakePendingRoundsLocked(int64_t revision)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Answers waiters up to `revision` with `result` (outside the lock).
  std::vector<Waiter> TakeWaitersLocked(int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::string id_;
  const std::string tenant_;
  TenantRows* const tenant_rows_;
  const SessionLimits limits_;
  TrainingPool* const pool_;
  const aad::ActiveConfig config_;
  const aad::StrategyKind strategy_;
  SessionStore* const store_;
  SessionMetrics* const metrics_;  // null: no metrics

  // Set once by Cancel(); read by training without a lock.
  std::atomic<bool> cancelled_{false};

  // Lock order: train_mu_, then write_mu_, then mu_.
  // Serialises training runs; held by the worker for a whole run (its model
  // write included). Only the worker (and Restore) touches the learner.
  Mutex train_mu_ ABSL_ACQUIRED_BEFORE(write_mu_);
  std::unique_ptr<aad::ActiveLearner> learner_ ABSL_GUARDED_BY(train_mu_);

  // Serialises the session's store writes, so that rows get contiguous ids
  // and labels reach the store in the order memory applies them; held over
  // the store call, while mu_ (reads) stays free.
  Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  bool deleted_ ABSL_GUARDED_BY(write_mu_) = false;
  // Time of the newest stored label submission: each submission gets a
  // later one, so the history's times tell submissions apart on restore.
  int64_t last_label_micros_ ABSL_GUARDED_BY(write_mu_) = 0;

  mutable Mutex mu_;
  RowPool rows_ ABSL_GUARDED_BY(mu_);
  // Set once: at creation, or by the first ingest that sends names (under
  // write_mu_ as well, after the store has them). Empty: no names.
  std::vector<std::string> feature_names_ ABSL_GUARDED_BY(mu_);
  LabelBook labels_ ABSL_GUARDED_BY(mu_);
  // Label submissions stored so far, counted per label (the length of the
  // store's label history), so that it survives a restart.
  int64_t labels_revision_ ABSL_GUARDED_BY(mu_) = 0;
  // A label update at this revision failed: not retried until labels change.
  int64_t failed_revision_ ABSL_GUARDED_BY(mu_) = -1;
  // Label submissions stored so far (each one a feedback round; seeds the
  // default random / diverse queries). Rebuilt from the store's history.
  int64_t label_rounds_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const ModelSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  int64_t last_version_ ABSL_GUARDED_BY(mu_) = 0;
  bool worker_running_ ABSL_GUARDED_BY(mu_) = false;
  TrainingState running_ ABSL_GUARDED_BY(mu_) = TrainingState::kIdle;
  TrainObserver* pending_train_ ABSL_GUARDED_BY(mu_) = nullptr;
  int pending_epochs_ ABSL_GUARDED_BY(mu_) = -1;
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  // Label submissions that scheduled an update and are in no published
  // model yet: their labels_revision_ and when they were stored, for
  // aadd_feedback_round_seconds (with metrics only).
  std::vector<PendingRound> pending_rounds_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::string cancel_reason_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_SESSION_H_

// The session's trainer: one worker job at a time on the shared pool, which
// takes a pending full training first and then a label update whenever
// labels changed since the newest model, stores each model before it
// publishes it, and answers the Train call and the label waiters.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/util/status_macros.h"
#include "server/log.h"
#include "server/session.h"

namespace aad {

absl::Status Session::StartTraining(TrainObserver* observer, int pretrain_epochs) {
  MutexLock lock(&mu_);
  if (cancelled_.load()) {
    return absl::CancelledError(absl::StrCat("session ", id_, " is closing: ", cancel_reason_));
  }
  if (rows_.rows() == 0) {
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

std::vector<Session::Waiter> Session::TakeWaitersLocked(int64_t revision) {
  std::vector<Waiter> ready, rest;
  for (Waiter& w : waiters_) (w.revision <= revision ? ready : rest).push_back(std::move(w));
  waiters_ = std::move(rest);
  return ready;
}

void Session::RunWorker() {
  for (;;) {
    Job job;
    Stop stop;
    bool more;
    {
      MutexLock lock(&mu_);
      more = TakeJobLocked(&job, &stop);
    }
    if (!more) {
      if (stop.observer != nullptr) stop.observer->OnTrainingDone(stop.status, 0);
      for (Waiter& w : stop.waiters) {
        if (stop.status.ok()) {
          w.done(stop.result);
        } else {
          w.done(stop.status);
        }
      }
      return;
    }
    const absl::Time start = absl::Now();
    auto scores = RunJob(job);
    if (metrics_ != nullptr) {
      metrics_->TrainingRun(job.kind == TrainingState::kTraining,
                            absl::ToDoubleSeconds(absl::Now() - start));
    }
    FinishJob(job, scores);
  }
}

bool Session::TakeJobLocked(Job* job, Stop* stop) {
  if (cancelled_.load()) {
    // Answer everyone still waiting, then stop for good.
    stop->observer = pending_train_;
    pending_train_ = nullptr;
    stop->waiters = std::move(waiters_);
    waiters_.clear();
    stop->status =
        absl::CancelledError(absl::StrCat("session ", id_, " is closing: ", cancel_reason_));
  } else if (pending_train_ != nullptr || HasWorkLocked()) {
    job->config = config_;
    if (pending_train_ != nullptr) {
      job->kind = TrainingState::kTraining;
      job->observer = pending_train_;
      pending_train_ = nullptr;
      if (pending_epochs_ >= 0) job->config.pretrain_epochs = pending_epochs_;
    } else {
      job->kind = TrainingState::kUpdating;
    }
    running_ = job->kind;
    job->pool = rows_.Snapshot();
    job->labels = labels_.labels();
    job->revision = labels_revision_;
    // Only this worker publishes versions.
    job->next_version = last_version_ + 1;
    return true;
  } else {
    // Waiters left here wait for labels no model will include (no model
    // exists and no run is coming): answer them with the newest state.
    stop->waiters = TakeWaitersLocked(labels_revision_);
    stop->result = {labels_.size(), snapshot_ ? snapshot_->version : 0, false};
  }
  worker_running_ = false;
  running_ = TrainingState::kIdle;
  return false;
}

absl::StatusOr<std::shared_ptr<const aad::PoolScores>> Session::RunJob(const Job& job) {
  aad::TrainControl control;
  TrainObserver* const observer = job.observer;
  control.should_stop = [this, observer] {
    return cancelled_.load() || (observer != nullptr && observer->ShouldStop());
  };
  if (observer != nullptr) {
    control.on_progress = [observer](const aad::TrainProgress& p) { observer->OnProgress(p); };
  }
  MutexLock train_lock(&train_mu_);
  // The run is recorded first, so that a crash during it is reported after
  // the restart.
  ASSIGN_OR_RETURN(const int64_t run, BeginRun(job.kind));
  // A model is stored before the learner publishes it; when the store
  // refuses it the learner stays at the published model (its contract).
  control.before_publish = [&](const aad::ActiveModel& model) {
    return PersistModel(model, job.next_version, job.revision, run);
  };
  absl::Status status;
  if (job.kind == TrainingState::kTraining) {
    LogInfo(id_, absl::StrCat("training on ", job.pool.rows(), " rows and ", job.labels.size(),
                              " labels"));
    // A fresh learner, kept only when the run succeeds: the first run has
    // no learner to train in place.
    auto fresh = aad::ActiveLearner::Create(job.config);
    status = fresh.status();
    if (status.ok()) status = (*fresh)->Train(job.pool, job.labels, control);
    if (status.ok()) learner_ = std::move(*fresh);
  } else {
    status = learner_->Update(job.pool, job.labels, control);
  }
  if (!status.ok()) {
    FinishRun(run, status);
    return status;
  }
  return std::make_shared<const aad::PoolScores>(*learner_, job.pool);
}

void Session::FinishJob(const Job& job,
                        const absl::StatusOr<std::shared_ptr<const aad::PoolScores>>& scores) {
  std::vector<Waiter> answered;
  int64_t version = 0;
  LabelResult label_result;
  std::vector<PendingRound> rounds;  // published with this model
  {
    MutexLock lock(&mu_);
    running_ = TrainingState::kIdle;
    if (scores.ok()) {
      auto snap = std::make_shared<ModelSnapshot>();
      last_version_ = job.next_version;
      snap->version = job.next_version;
      snap->labels_revision = job.revision;
      snap->scores = *scores;
      snapshot_ = std::move(snap);
      version = last_version_;
      last_error_.clear();
      answered = TakeWaitersLocked(job.revision);
      label_result = {labels_.size(), version, true};
      rounds = TakePendingRoundsLocked(job.revision);
    } else {
      last_error_ = std::string(scores.status().message());
      if (job.kind == TrainingState::kUpdating) {
        failed_revision_ = job.revision;
        answered = TakeWaitersLocked(job.revision);
        TakePendingRoundsLocked(job.revision);  // no model holds them: not a round
      }
    }
  }
  const bool full = job.kind == TrainingState::kTraining;
  if (scores.ok()) {
    LogInfo(id_, absl::StrCat(full ? "trained" : "updated", " model version ", version, " (",
                              job.labels.size(), " labels)"));
  } else {
    LogWarning(id_, absl::StrCat(full ? "training" : "label update", " failed: ",
                                 scores.status().ToString()));
  }
  if (metrics_ != nullptr) {
    const int64_t now = NowMicros();
    for (const PendingRound& round : rounds) {
      metrics_->FeedbackRound(static_cast<double>(now - round.stored_micros) * 1e-6);
    }
  }
  if (job.observer != nullptr) job.observer->OnTrainingDone(scores.status(), version);
  for (Waiter& w : answered) {
    if (scores.ok()) {
      w.done(label_result);
    } else {
      w.done(scores.status());
    }
  }
}

std::vector<Session::PendingRound> Session::TakePendingRoundsLocked(int64_t revision) {
  std::vector<PendingRound> taken, rest;
  for (const PendingRound& r : pending_rounds_) {
    (r.revision <= revision ? taken : rest).push_back(r);
  }
  pending_rounds_ = std::move(rest);
  return taken;
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

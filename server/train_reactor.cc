#include "server/train_reactor.h"

#include <atomic>
#include <chrono>

#include "absl/base/thread_annotations.h"
#include <memory>
#include <string>
#include <utility>

#include "aad/v1/aad.pb.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/call_routing.h"
#include "server/log.h"
#include "server/mutex.h"
#include "server/proto_convert.h"
#include "server/status_mapping.h"

namespace aad {
namespace {

// Server stream of training progress. Training runs on a training thread;
// progress messages are coalesced (only the newest is kept while a write is
// in flight) so a slow client never slows training down. Finish is called
// once the run ended and the last write completed.
class TrainReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                           public TrainObserver,
                           public CallsInFlight::Stoppable {
 public:
  TrainReactor(grpc::CallbackServerContext* context, std::shared_ptr<Session> session,
               int pretrain_epochs, CallsInFlight* calls)
      : context_(context),
        session_(std::move(session)),
        pretrain_epochs_(pretrain_epochs),
        calls_(calls) {
    // Last: from here a shutdown may Stop() it (which touches cancelled_).
    open_ = calls_->Enter(this);
  }

  // Starts the run; answers at once when it cannot start.
  void Start() {
    absl::Status status =
        open_ ? session_->StartTraining(this, pretrain_epochs_) : DrainingStatus();
    if (!status.ok()) {
      grpc::Status finish;
      bool last;
      {
        MutexLock lock(&mu_);
        finish_pending_ = true;
        final_status_ = ToGrpcStatus(status);
        last = StepLocked(&finish);
      }
      if (last) Finish(finish);
    }
  }

  void OnProgress(const aad::TrainProgress& p) override {
    grpc::Status finish;
    bool last;
    {
      MutexLock lock(&mu_);
      next_.Clear();
      next_.set_epoch(p.epoch);
      next_.set_epochs(p.epochs);
      next_.set_loss(p.loss);
      next_.set_rows_per_second(p.rows_per_second);
      has_next_ = true;
      last = StepLocked(&finish);
    }
    if (last) Finish(finish);
  }

  bool ShouldStop() override {
    return cancelled_.load() || std::chrono::system_clock::now() > context_->deadline();
  }

  void OnTrainingDone(const absl::Status& status, int64_t version) override {
    grpc::Status finish;
    bool last;
    {
      MutexLock lock(&mu_);
      SetOutcomeLocked(status, version);
      last = StepLocked(&finish);
    }
    if (last) Finish(finish);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) cancelled_.store(true);
    grpc::Status finish;
    bool last;
    {
      MutexLock lock(&mu_);
      writing_ = false;
      last = StepLocked(&finish);
    }
    if (last) Finish(finish);
  }

  void OnCancel() override { cancelled_.store(true); }

  // A shutdown: the run stops at its next check, and the call ends with
  // the run's CANCELLED.
  void Stop() override { cancelled_.store(true); }

  void OnDone() override {
    calls_->Leave(this);
    delete this;
  }

 private:
  void SetOutcomeLocked(const absl::Status& status, int64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (status.ok()) {
      next_.Clear();
      next_.set_done(true);
      next_.set_model_version(version);
      has_next_ = true;
      final_status_ = grpc::Status::OK;
    } else if (status.code() == absl::StatusCode::kCancelled &&
               std::chrono::system_clock::now() > context_->deadline()) {
      final_status_ = ToGrpcStatus(absl::DeadlineExceededError(
          absl::StrCat("training of session ", session_->id(),
                       " passed the call's deadline; the previous model stays")));
    } else {
      final_status_ = ToGrpcStatus(status);
    }
    finish_pending_ = true;
  }

  // Starts the next write, or tells the caller to finish (true, with the
  // status in *finish) once the outcome is known and the last write
  // completed. Every reaction changes the state and steps in ONE critical
  // section, then calls Finish outside it as its last touch of `this`:
  // OnDone (which deletes it) may run right after. A step taken after the
  // lock was dropped once could meet a reactor another thread finished and
  // deleted meanwhile (ASan saw it: the training thread's OnTrainingDone
  // against the write that sent the final message).
  bool StepLocked(grpc::Status* finish) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return false;
    if (has_next_) {
      has_next_ = false;
      if (grpc::Status s = SerializeTo(next_, &out_); !s.ok()) {
        final_status_ = s;
        finish_pending_ = true;
      } else {
        writing_ = true;
        StartWrite(&out_);
        return false;
      }
    }
    if (!finish_pending_) return false;
    finished_ = true;
    *finish = final_status_;
    return true;
  }

  grpc::CallbackServerContext* const context_;
  const std::shared_ptr<Session> session_;
  const int pretrain_epochs_;
  CallsInFlight* const calls_;
  bool open_ = false;  // set once, in the constructor; false: the server no longer takes calls
  std::atomic<bool> cancelled_{false};
  Mutex mu_;
  aad::v1::TrainResponse next_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer out_ ABSL_GUARDED_BY(mu_);  // the write in flight, serialized
  bool has_next_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* StartTrainReactor(grpc::CallbackServerContext* context,
                                                              std::shared_ptr<Session> session,
                                                              int pretrain_epochs,
                                                              CallsInFlight* calls) {
  auto* reactor = new TrainReactor(context, std::move(session), pretrain_epochs, calls);
  reactor->Start();
  return reactor;
}

}  // namespace aad

// How a caller watches and stops a training run.
#ifndef AADD_CORE_ACTIVE_TRAIN_CONTROL_H_
#define AADD_CORE_ACTIVE_TRAIN_CONTROL_H_

#include <functional>

#include "absl/status/status.h"

namespace aad {

struct TrainProgress {
  int epoch = 0;    // 1-based epoch (or fine-tune round) just finished
  int epochs = 0;   // planned total
  float loss = 0;   // mean training loss of that epoch
  double rows_per_second = 0;
};

struct TrainControl {
  // Called from the training thread after every epoch; may be empty.
  std::function<void(const TrainProgress&)> on_progress;
  // Polled between minibatches; when it returns true the run stops with
  // CANCELLED and leaves every published model untouched. May be empty.
  std::function<bool()> should_stop;
  // Called with the new model before the learner publishes it (e.g. to
  // store it first); an error ends the run with that error, and the learner
  // stays as it was before the call. May be empty.
  std::function<absl::Status(const class ActiveModel&)> before_publish;

  bool Stopped() const { return should_stop && should_stop(); }
};

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_TRAIN_CONTROL_H_

// Adam (Kingma & Ba) with optional decoupled weight decay (AdamW).
#ifndef AADD_CORE_NN_ADAM_H_
#define AADD_CORE_NN_ADAM_H_

#include <vector>

#include "core/nn/parameter.h"

namespace aad {

struct AdamOptions {
  float learning_rate = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
  float weight_decay = 0.0f;  // decoupled: w -= lr * wd * w
};

// Owns the moment estimates of the parameters it was built with; the
// parameters' storage must outlive it and must not move. Not thread-safe.
class Adam {
 public:
  Adam(std::vector<Parameter> params, AdamOptions options);

  // One update from the gradients currently stored beside the parameters.
  void Step();

  const AdamOptions& options() const { return options_; }
  long steps() const { return steps_; }

 private:
  std::vector<Parameter> params_;
  AdamOptions options_;
  std::vector<std::vector<float>> m_, v_;
  long steps_ = 0;
};

}  // namespace aad

#endif  // AADD_CORE_NN_ADAM_H_

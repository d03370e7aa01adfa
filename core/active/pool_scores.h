// An immutable snapshot of one published model and its scores of the pool
// rows it has seen: what a service serves candidates and pool scores from
// while the learner trains the next model. Built from an ActiveLearner's
// caches right after Train()/Update(), so ranking matches the offline
// evaluator bit for bit.
#ifndef AADD_CORE_ACTIVE_POOL_SCORES_H_
#define AADD_CORE_ACTIVE_POOL_SCORES_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "core/active/active_learner.h"
#include "core/active/active_model.h"
#include "core/active/pool_latents.h"
#include "core/active/query_strategy.h"
#include "core/explain/explanation.h"
#include "core/explain/feature_profile.h"
#include "core/nn/tensor.h"

namespace aad {

// The seed a query of feedback round `round` (1 = before the first label
// update) uses: the rule of aad-eval, so a service reproduces its choices.
inline uint64_t QuerySeed(uint64_t config_seed, uint64_t round) {
  return config_seed * 1000003 + round;
}

// Thread-safe after construction: every method is const.
class PoolScores {
 public:
  // Shares the learner's model and pool caches (the learner never writes
  // them again), and the pool's rows, for the latents the diverse strategy
  // reads. Requires learner.trained() and the pool the learner last read.
  PoolScores(const ActiveLearner& learner, PoolRows pool);

  const std::shared_ptr<const ActiveModel>& model() const { return model_; }
  // Pool rows scored: rows [0, rows()) of the pool at the time of the copy.
  int64_t rows() const { return logits_->size(); }

  // Up to k unlabelled rows chosen by `kind`, best first. `labelled` has one
  // entry per pool row (1 = labelled); entries past rows() are ignored.
  std::vector<int64_t> Select(StrategyKind kind, absl::Span<const uint8_t> labelled,
                              uint64_t seed, int64_t k) const;

  // p, logit and s of pool rows. INVALID_ARGUMENT naming the first id
  // outside [0, rows()).
  absl::Status Lookup(absl::Span<const int64_t> rows, std::vector<float>* p,
                      std::vector<float>* logit, std::vector<float>* s) const;

  // p, logit and s of every scored pool row, in row order.
  void All(std::vector<float>* p, std::vector<float>* logit, std::vector<float>* s) const;

  // The pool's typical feature values, shared with the learner.
  const FeatureProfile& profile() const { return *profile_; }
  // Explains raw rows (rows x cols, row-major in `values`) under model():
  // aad::Explain's result and errors.
  absl::Status Explain(absl::Span<const float> values, int64_t cols, int top,
                       std::vector<Explanation>* out) const;

 private:
  std::shared_ptr<const ActiveModel> model_;
  std::shared_ptr<const Vector> logits_, unsupervised_;
  PoolLatents latents_;
  std::shared_ptr<const FeatureProfile> profile_;
};

// Scores raw rows (rows x cols, row-major in `values`) with `model` into
// flat vectors. INVALID_ARGUMENT when cols is not the model's input width.
absl::Status ScoreRows(const ActiveModel& model, absl::Span<const float> values, int64_t cols,
                       std::vector<float>* p, std::vector<float>* logit, std::vector<float>* s);

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_POOL_SCORES_H_

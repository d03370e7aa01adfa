// Trains active models on a session's pool of rows and the expert's labels.
//
// Train() fits everything from scratch without labels first: the input
// standardiser, the deep detector (unsupervised), the Isolation Forest, the
// UAI input statistics and the UAI prior; then it fits the UAI layer on the
// labels, if any. Update() is the warm-started feedback round: it refits the
// UAI layer (and, unless the detector is frozen, fine-tunes the detector
// jointly) from the current model. Each call publishes a new immutable
// ActiveModel; models already handed out never change.
#ifndef AADD_CORE_ACTIVE_ACTIVE_LEARNER_H_
#define AADD_CORE_ACTIVE_ACTIVE_LEARNER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/active/active_config.h"
#include "core/active/active_model.h"
#include "core/active/leaf_code_blocks.h"
#include "core/active/train_control.h"
#include "core/data/pool_rows.h"
#include "core/explain/feature_profile.h"
#include "core/nn/tensor.h"

namespace aad {

struct LabelledRow {
  int64_t row;   // index into the pool
  bool anomaly;  // the expert's verdict
};

// Not thread-safe: one training run at a time (a session serialises them).
// The pool is append-only between calls: rows already seen must not change.
// The learner reads the pool during a call and keeps no copy of its rows.
//
// Every training call is all or nothing: when Train(), Update() or Adopt()
// fails, the learner's model and pool caches are those of the model it held
// before the call (rows appended by a failed Update() stay, featurised by
// that model), so the caller can go on as if the call had not happened.
// TrainControl::before_publish lets the caller veto the new model (its store
// write failed, say) with the same effect.
class ActiveLearner {
 public:
  // INVALID_ARGUMENT when the configuration is out of range.
  static absl::StatusOr<std::unique_ptr<ActiveLearner>> Create(const ActiveConfig& config);

  // Full training. INVALID_ARGUMENT for an empty pool, a label outside the
  // pool; CANCELLED when control says stop; before_publish's error.
  absl::Status Train(const PoolRows& pool, absl::Span<const LabelledRow> labels,
                     const TrainControl& control = {});
  absl::Status Train(const ConstMatrixRef& pool, absl::Span<const LabelledRow> labels,
                     const TrainControl& control = {}) {
    return Train(PoolRows::View(pool), labels, control);
  }

  // Feedback round after labels changed, warm-started from the current
  // model. Rows appended since the last call are featurised on the way.
  // FAILED_PRECONDITION before the first Train(); INVALID_ARGUMENT when the
  // pool's width changed, it shrank or a label is outside it; CANCELLED;
  // before_publish's error.
  absl::Status Update(const PoolRows& pool, absl::Span<const LabelledRow> labels,
                      const TrainControl& control = {});
  absl::Status Update(const ConstMatrixRef& pool, absl::Span<const LabelledRow> labels,
                      const TrainControl& control = {}) {
    return Update(PoolRows::View(pool), labels, control);
  }

  bool trained() const { return model_ != nullptr; }
  const std::shared_ptr<const ActiveModel>& model() const { return model_; }
  const ActiveConfig& config() const { return config_; }

  // The pool's scores under model(): logits of p, and the unsupervised
  // score s; one entry per pool row the model has scored. The references
  // stay valid, and the values unchanged, until the next non-const call.
  const Vector& pool_logits() const { return *pool_logits_; }
  const Vector& pool_unsupervised() const { return *pool_unsupervised_; }
  // The same, shared: the learner never writes a buffer it has handed out
  // (a change goes to a new one), so a snapshot of the pool's scores
  // (PoolScores) holds them without a copy at every feedback round.
  std::shared_ptr<const Vector> shared_pool_logits() const { return pool_logits_; }
  std::shared_ptr<const Vector> shared_pool_unsupervised() const { return pool_unsupervised_; }
  // The pool's typical feature values (for explanations), recomputed only
  // when a call changed the pool rows or their standardisation, so a
  // feedback round over the same pool pays nothing for it.
  const std::shared_ptr<const FeatureProfile>& profile() const { return profile_; }

  // Adopts a restored model (after a restart, or to go back to an earlier
  // one) so Update() can warm-start from it; recomputes the pool caches.
  // INVALID_ARGUMENT when the pool is empty or not model->input_dim() wide.
  absl::Status Adopt(std::shared_ptr<const ActiveModel> model, const PoolRows& pool);
  absl::Status Adopt(std::shared_ptr<const ActiveModel> model, const ConstMatrixRef& pool) {
    return Adopt(std::move(model), PoolRows::View(pool));
  }

 private:
  explicit ActiveLearner(const ActiveConfig& config);

  // Everything a failed call puts back.
  struct State {
    std::shared_ptr<const ActiveModel> model;
    Standardizer input;
    int64_t rows = 0;
    bool keep_u = false;
    Matrix u;
    std::vector<float> forest;
    bool read_leaves = false;
    LeafCodeBlocks leaves;
    std::shared_ptr<const Vector> logits, unsupervised;
  };
  State TakeState();
  void RestoreState(State state);
  absl::Status TrainFromScratch(const PoolRows& pool, absl::Span<const LabelledRow> labels,
                                const TrainControl& control);

  absl::Status ValidateInputs(const PoolRows& pool, absl::Span<const LabelledRow> labels,
                              int expected_dims) const;
  // Pool rows [first, first + len), standardised by input_, into *x.
  void Standardized(const PoolRows& pool, int64_t first, int64_t len, Matrix* x) const;
  absl::Status Pretrain(DeepDetector* detector, const Matrix& x, const TrainControl& control);
  absl::Status FineTuneJointly(DeepDetector* detector, const UaiLayer& uai, const PoolRows& pool,
                               absl::Span<const LabelledRow> labels, const TrainControl& control);
  // Forest scores (and, when read_leaves_, leaf codes) of the pool rows not
  // scored yet, [rows_, pool.rows()), then rows_ = pool.rows(); without a
  // forest only rows_ moves. On error the caches cover the rows they
  // covered before.
  absl::Status ExtendPool(const PoolRows& pool, const IsolationForest* forest);
  // Recomputes the cached UAI inputs (keep_u_ only) of pool rows
  // [from, rows_); raw inputs when `standardize` is false.
  void ComputeDetectorFeatures(const PoolRows& pool, int64_t from, const DeepDetector& detector,
                               const UaiInputs& inputs, bool standardize);
  // UAI inputs of pool rows [first, first + len) (within one chunk) under
  // `inputs`: a view of the cache, or built into *u from the rows.
  ConstMatrixRef PoolInputs(const PoolRows& pool, const UaiInputs& inputs, int64_t first,
                            int64_t len, Matrix* u) const;
  absl::Status FitUai(UaiLayer* uai, const UaiInputs& inputs, const PoolRows& pool,
                      absl::Span<const LabelledRow> labels);
  // Builds the new model, asks control.before_publish, then rescores the
  // pool and makes it model().
  absl::Status Publish(const PoolRows& pool, std::shared_ptr<const DeepDetector> detector,
                       std::shared_ptr<const IsolationForest> forest, UaiInputs inputs,
                       UaiLayer uai, int64_t labels_used, const TrainControl& control);

  const ActiveConfig config_;
  std::shared_ptr<const ActiveModel> model_;
  Standardizer input_;
  // Pool rows the caches cover. The rows themselves are the caller's
  // (PoolRows): the learner keeps no copy of them, standardised or not.
  int64_t rows_ = 0;
  // Pool caches, one row per pool row.
  std::vector<float> pool_forest_;
  // Whether the current model's UAI layer reads leaves; then pool_leaves_
  // holds each pool row's leaf in every tree (rows x trees).
  bool read_leaves_ = false;
  LeafCodeBlocks pool_leaves_;
  // Whether the UAI inputs read the deep detector: only then are they
  // cached (pool_u_, standardised), as rebuilding them means running the
  // detector over the pool. Otherwise they are the standardised row and its
  // forest score, rebuilt block by block when the pool is rescored.
  bool keep_u_ = false;
  Matrix pool_u_;
  std::shared_ptr<const Vector> pool_logits_, pool_unsupervised_;
  // Whether pool_unsupervised_ is u * unsupervised_w0_ over the pool: a
  // label update leaves both unchanged (the prior's weights are the trained
  // model's), and skips that product over the whole pool.
  bool unsupervised_current_ = false;
  Vector unsupervised_w0_;
  // profile() and what it was computed from: pool rows and standardiser.
  std::shared_ptr<const FeatureProfile> profile_;
  int64_t profile_rows_ = -1;
  Standardizer profile_input_;
  // Reused buffers of the feedback round.
  Matrix labelled_x_, labelled_u_;
  std::vector<float> labelled_forest_;
  std::vector<LeafCode> labelled_leaves_;
  std::vector<uint8_t> labelled_y_;
};

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_ACTIVE_LEARNER_H_

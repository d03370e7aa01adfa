// The deep detector's latent vectors of pool rows, computed when asked.
// Only the diverse strategy reads them, for its shortlist of candidates (ten
// per requested row), so no pool-wide copy is kept: at the default width
// that copy was 16 floats a row, half as much again as the rows themselves.
#ifndef AADD_CORE_ACTIVE_POOL_LATENTS_H_
#define AADD_CORE_ACTIVE_POOL_LATENTS_H_

#include <cstdint>
#include <memory>

#include "absl/types/span.h"
#include "core/active/active_model.h"
#include "core/active/query_strategy.h"
#include "core/data/pool_rows.h"
#include "core/nn/tensor.h"

namespace aad {

// Latents of pool rows under one model. Thread-safe (const); holds the
// model and the pool's chunks, so it may outlive the learner's call.
class PoolLatents {
 public:
  PoolLatents(std::shared_ptr<const ActiveModel> model, PoolRows pool)
      : model_(std::move(model)), pool_(std::move(pool)) {}

  // One row of z per id (each in [0, pool.rows())): the rows standardised
  // by the model's input standardiser, then the detector's inference.
  Matrix Of(absl::Span<const int64_t> ids) const;
  // Of() as a QueryContext::latents; valid while this object lives.
  LatentsFn Fn() const {
    return [this](absl::Span<const int64_t> ids) { return Of(ids); };
  }

 private:
  std::shared_ptr<const ActiveModel> model_;
  PoolRows pool_;
};

// A QueryContext::latents holding its model and a view of `pool` (which
// must outlive it): for loops over one in-memory pool, as in evaluation.
inline LatentsFn LatentsOf(std::shared_ptr<const ActiveModel> model, const ConstMatrixRef& pool) {
  PoolLatents latents(std::move(model), PoolRows::View(pool));
  return [latents](absl::Span<const int64_t> ids) { return latents.Of(ids); };
}

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_POOL_LATENTS_H_

#include "core/active/pool_latents.h"

namespace aad {

Matrix PoolLatents::Of(absl::Span<const int64_t> ids) const {
  Matrix x;
  pool_.Gather(ids, &x);
  model_->input_standardizer().TransformInPlace(x);
  InferScratch scratch;
  DetectorOutput det;
  model_->detector()->Infer(x, &scratch, &det);
  return std::move(det.z);
}

}  // namespace aad

// A view of one trainable tensor and its gradient, as optimisers and
// gradient checks see it. Points into storage owned by a layer.
#ifndef AADD_CORE_NN_PARAMETER_H_
#define AADD_CORE_NN_PARAMETER_H_

#include <cstddef>

namespace aad {

struct Parameter {
  float* value;
  float* grad;
  size_t size;
};

}  // namespace aad

#endif  // AADD_CORE_NN_PARAMETER_H_

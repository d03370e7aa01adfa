#include "core/nn/adam.h"

#include <cmath>

#include <Eigen/Core>

namespace aad {

Adam::Adam(std::vector<Parameter> params, AdamOptions options)
    : params_(std::move(params)), options_(options) {
  m_.reserve(params_.size());
  v_.reserve(params_.size());
  for (const Parameter& p : params_) {
    m_.emplace_back(p.size, 0.0f);
    v_.emplace_back(p.size, 0.0f);
  }
}

void Adam::Step() {
  ++steps_;
  const float b1 = options_.beta1, b2 = options_.beta2;
  const float c1 = 1.0f - static_cast<float>(std::pow(b1, steps_));
  const float c2 = 1.0f - static_cast<float>(std::pow(b2, steps_));
  const float step = options_.learning_rate * std::sqrt(c2) / c1;
  const float decay = 1.0f - options_.learning_rate * options_.weight_decay;
  for (size_t k = 0; k < params_.size(); ++k) {
    const Eigen::Index n = static_cast<Eigen::Index>(params_[k].size);
    Eigen::Map<Eigen::ArrayXf> w(params_[k].value, n);
    Eigen::Map<const Eigen::ArrayXf> g(params_[k].grad, n);
    Eigen::Map<Eigen::ArrayXf> m(m_[k].data(), n);
    Eigen::Map<Eigen::ArrayXf> v(v_[k].data(), n);
    m = b1 * m + (1.0f - b1) * g;
    v = b2 * v + (1.0f - b2) * g.square();
    if (options_.weight_decay != 0.0f) w *= decay;
    w -= step * m / (v.sqrt() + options_.epsilon * std::sqrt(c2));
  }
}

}  // namespace aad

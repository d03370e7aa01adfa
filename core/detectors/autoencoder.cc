#include "core/detectors/autoencoder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/nn/squared_error.h"
#include "core/util/status_macros.h"

namespace aad {

Autoencoder::Autoencoder(int input_dim, const AutoencoderOptions& options)
    : encoder_(input_dim,
               {{options.hidden, options.activation}, {options.latent, options.activation}},
               /*bias=*/true),
      decoder_(options.latent,
               {{options.hidden, options.activation}, {input_dim, Activation::kIdentity}},
               /*bias=*/true) {}

void Autoencoder::Initialize(const ConstMatrixRef& /*x*/, Rng* rng) {
  encoder_.Initialize(rng);
  decoder_.Initialize(rng);
}

void Autoencoder::Evidence(const Matrix& diff, DetectorOutput* out) {
  if (out->e.rows() != diff.rows() || out->e.cols() != diff.cols()) {
    out->e.resize(diff.rows(), diff.cols());
  }
  if (out->s.size() != diff.rows()) out->s.resize(diff.rows());
  SquaredErrorRows(diff.data(), diff.rows(), static_cast<int>(diff.cols()), diff.cols(),
                   out->e.data(), out->e.cols(), out->s.data());
}

void Autoencoder::Infer(const ConstMatrixRef& x, InferScratch* scratch,
                        DetectorOutput* out) const {
  // Tiles of rows through the whole network, so that the hidden layers'
  // outputs stay in L1 instead of streaming a block-sized matrix per layer.
  // Each row's bits are those of Forward() (dense_kernel.h, squared_error.h).
  // A multiple of every row block of the kernel (16, 12, 8, 6).
  constexpr long kTile = 192;
  const long n = x.rows();
  const int d = input_dim(), latent = latent_dim();
  if (out->z.rows() != n || out->z.cols() != latent) out->z.resize(n, latent);
  if (out->e.rows() != n || out->e.cols() != d) out->e.resize(n, d);
  if (out->s.size() != n) out->s.resize(n);
  const long width = std::max(std::max(encoder_.max_hidden(), decoder_.max_hidden()), 1);
  if (scratch->hidden.size() < 2) scratch->hidden.resize(2);
  for (int i = 0; i < 2; ++i) {
    Matrix& h = scratch->hidden[i];
    if (h.rows() != kTile || h.cols() != width) h.resize(kTile, width);
  }
  if (scratch->out.rows() != kTile || scratch->out.cols() != d) scratch->out.resize(kTile, d);
  float* recon = scratch->out.data();
  for (long r0 = 0; r0 < n; r0 += kTile) {
    const long m = std::min(kTile, n - r0);
    float* z = out->z.data() + r0 * latent;
    encoder_.InferRows(x.data() + r0 * x.outerStride(), m, x.outerStride(),
                       scratch->hidden[0].data(), scratch->hidden[1].data(), z, latent);
    decoder_.InferRows(z, m, latent, scratch->hidden[0].data(), scratch->hidden[1].data(), recon,
                       d);
    SquaredErrorRows(recon, d, x.data() + r0 * x.outerStride(), x.outerStride(), m, d,
                     out->e.data() + r0 * d, d, out->s.data() + r0);
  }
}

const DetectorOutput& Autoencoder::Forward(const ConstMatrixRef& x) {
  input_ = x.data();
  input_rows_ = x.rows();
  const Matrix& z = encoder_.Forward(x);
  if (train_out_.z.rows() != z.rows() || train_out_.z.cols() != z.cols()) {
    train_out_.z.resize(z.rows(), z.cols());
  }
  train_out_.z = z;
  const Matrix& recon = decoder_.Forward(train_out_.z);
  if (diff_.rows() != x.rows() || diff_.cols() != x.cols()) diff_.resize(x.rows(), x.cols());
  diff_.noalias() = recon - x;
  Evidence(diff_, &train_out_);
  return train_out_;
}

void Autoencoder::Backward(const Matrix* dz, const Matrix* de, const Vector& ds) {
  // With r the reconstruction, e = (r - x)^2 and s = mean_j e_j:
  //   dL/dr = 2 (r - x) * (de + ds / d).
  const float inv_d = 1.0f / static_cast<float>(input_dim());
  if (grad_recon_.rows() != diff_.rows() || grad_recon_.cols() != diff_.cols()) {
    grad_recon_.resize(diff_.rows(), diff_.cols());
  }
  // Row by row: a colwise() product with a vector expression would evaluate
  // the expression into a heap temporary on every step.
  const float scale = 2.0f * inv_d;
  for (Eigen::Index i = 0; i < diff_.rows(); ++i) {
    grad_recon_.row(i) = diff_.row(i) * (scale * ds[i]);
  }
  if (de != nullptr) grad_recon_.array() += 2.0f * diff_.array() * de->array();
  decoder_.Backward(&grad_recon_, &grad_z_);
  if (dz != nullptr) grad_z_ += *dz;
  encoder_.Backward(&grad_z_, nullptr);
}

void Autoencoder::ZeroGrad() {
  encoder_.ZeroGrad();
  decoder_.ZeroGrad();
}

std::vector<Parameter> Autoencoder::Parameters() {
  std::vector<Parameter> params;
  encoder_.CollectParameters(&params);
  decoder_.CollectParameters(&params);
  return params;
}

std::unique_ptr<DeepDetector> Autoencoder::Clone() const {
  auto copy = std::unique_ptr<Autoencoder>(new Autoencoder());
  copy->encoder_ = encoder_;
  copy->decoder_ = decoder_;
  return copy;
}

void Autoencoder::Serialize(ByteWriter* out) const {
  out->WriteString("autoencoder");
  encoder_.Serialize(out);
  decoder_.Serialize(out);
}

absl::StatusOr<std::unique_ptr<Autoencoder>> Autoencoder::Deserialize(ByteReader* in) {
  auto ae = std::unique_ptr<Autoencoder>(new Autoencoder());
  ASSIGN_OR_RETURN(ae->encoder_, Mlp::Deserialize(in));
  ASSIGN_OR_RETURN(ae->decoder_, Mlp::Deserialize(in));
  if (ae->decoder_.in() != ae->encoder_.out() || ae->decoder_.out() != ae->encoder_.in()) {
    return absl::DataLossError(absl::StrCat(
        "autoencoder: encoder ", ae->encoder_.in(), "->", ae->encoder_.out(),
        " does not match decoder ", ae->decoder_.in(), "->", ae->decoder_.out()));
  }
  return ae;
}

}  // namespace aad

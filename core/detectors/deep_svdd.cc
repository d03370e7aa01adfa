#include "core/detectors/deep_svdd.h"

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {

DeepSvdd::DeepSvdd(int input_dim, const DeepSvddOptions& options)
    : net_(input_dim,
           {{options.hidden, options.activation}, {options.latent, Activation::kIdentity}},
           /*bias=*/false),
      centre_(RowVector::Zero(options.latent)) {}

void DeepSvdd::Initialize(const ConstMatrixRef& x, Rng* rng) {
  net_.Initialize(rng);
  InferScratch scratch;
  Matrix z;
  net_.Infer(x, &scratch.hidden, &z);
  centre_ = z.colwise().mean();
  constexpr float kMinAbs = 0.1f;
  for (Eigen::Index j = 0; j < centre_.size(); ++j) {
    if (std::abs(centre_[j]) < kMinAbs) centre_[j] = centre_[j] < 0 ? -kMinAbs : kMinAbs;
  }
}

void DeepSvdd::Evidence(const Matrix& z, DetectorOutput* out) const {
  if (out->e.rows() != z.rows() || out->e.cols() != z.cols()) out->e.resize(z.rows(), z.cols());
  out->e.array() = (z.rowwise() - centre_).array().square();
  if (out->s.size() != z.rows()) out->s.resize(z.rows());
  out->s.noalias() = out->e.rowwise().sum();
}

void DeepSvdd::Infer(const ConstMatrixRef& x, InferScratch* scratch, DetectorOutput* out) const {
  net_.Infer(x, &scratch->hidden, &out->z);
  Evidence(out->z, out);
}

const DetectorOutput& DeepSvdd::Forward(const ConstMatrixRef& x) {
  const Matrix& z = net_.Forward(x);
  if (train_out_.z.rows() != z.rows() || train_out_.z.cols() != z.cols()) {
    train_out_.z.resize(z.rows(), z.cols());
  }
  train_out_.z = z;
  Evidence(train_out_.z, &train_out_);
  return train_out_;
}

void DeepSvdd::Backward(const Matrix* dz, const Matrix* de, const Vector& ds) {
  // e = (z - c)^2, s = sum_j e_j:  dL/dz = dz + 2 (z - c) * (de + ds).
  const Matrix& z = train_out_.z;
  if (grad_z_.rows() != z.rows() || grad_z_.cols() != z.cols()) grad_z_.resize(z.rows(), z.cols());
  // Row by row: a colwise() product with a vector expression would evaluate
  // the expression into a heap temporary on every step.
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    grad_z_.row(i) = (z.row(i) - centre_) * (2.0f * ds[i]);
  }
  if (de != nullptr) grad_z_.array() += 2.0f * (z.rowwise() - centre_).array() * de->array();
  if (dz != nullptr) grad_z_ += *dz;
  net_.Backward(&grad_z_, nullptr);
}

void DeepSvdd::ZeroGrad() { net_.ZeroGrad(); }

std::vector<Parameter> DeepSvdd::Parameters() {
  std::vector<Parameter> params;
  net_.CollectParameters(&params);
  return params;
}

std::unique_ptr<DeepDetector> DeepSvdd::Clone() const {
  auto copy = std::unique_ptr<DeepSvdd>(new DeepSvdd());
  copy->net_ = net_;
  copy->centre_ = centre_;
  return copy;
}

void DeepSvdd::Serialize(ByteWriter* out) const {
  out->WriteString("deep_svdd");
  net_.Serialize(out);
  out->WriteRowVector(centre_);
}

absl::StatusOr<std::unique_ptr<DeepSvdd>> DeepSvdd::Deserialize(ByteReader* in) {
  auto svdd = std::unique_ptr<DeepSvdd>(new DeepSvdd());
  ASSIGN_OR_RETURN(svdd->net_, Mlp::Deserialize(in));
  ASSIGN_OR_RETURN(svdd->centre_, in->ReadRowVector("deep_svdd.centre"));
  if (svdd->centre_.size() != svdd->net_.out()) {
    return absl::DataLossError(absl::StrCat("deep_svdd: centre has ", svdd->centre_.size(),
                                            " entries for a latent width of ", svdd->net_.out()));
  }
  return svdd;
}

}  // namespace aad

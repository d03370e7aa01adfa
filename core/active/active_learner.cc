#include "core/active/active_learner.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/detectors/autoencoder.h"
#include "core/detectors/deep_svdd.h"
#include "core/nn/adam.h"
#include "core/nn/loss.h"
#include "core/util/random.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

constexpr Eigen::Index kBlockRows = 4096;
// Independent random streams derived from the one user seed.
constexpr uint64_t kStreamDetector = 1, kStreamForest = 2, kStreamPretrain = 3,
                   kStreamFinetune = 4;

std::unique_ptr<DeepDetector> MakeDetector(const ActiveConfig& c, int dims) {
  switch (c.detector) {
    case DetectorKind::kDeepSvdd:
      return std::make_unique<DeepSvdd>(dims, DeepSvddOptions{c.hidden_units, c.latent_units,
                                                              Activation::kLeakyRelu});
    case DetectorKind::kAutoencoder:
      break;
  }
  return std::make_unique<Autoencoder>(
      dims, AutoencoderOptions{c.hidden_units, c.latent_units, Activation::kTanh});
}

// Copies rows idx[first, first + batch.rows()) of src into batch, wrapping
// around the index list, so every minibatch has the same shape and the
// training loop never reallocates.
void Gather(const Matrix& src, const std::vector<int64_t>& idx, size_t first, Matrix* batch) {
  for (Eigen::Index r = 0; r < batch->rows(); ++r) {
    batch->row(r) = src.row(idx[(first + r) % idx.size()]);
  }
}

void Shuffle(std::vector<int64_t>* v, Rng* rng) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng->UniformInt(i)]);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ActiveLearner>> ActiveLearner::Create(const ActiveConfig& config) {
  RETURN_IF_ERROR(config.Validate());
  return std::unique_ptr<ActiveLearner>(new ActiveLearner(config));
}

ActiveLearner::ActiveLearner(const ActiveConfig& config)
    : config_(config),
      pool_latent_(std::make_shared<const Matrix>()),
      pool_logits_(std::make_shared<const Vector>()),
      pool_unsupervised_(std::make_shared<const Vector>()) {}

absl::Status ActiveLearner::ValidateInputs(const ConstMatrixRef& pool,
                                           absl::Span<const LabelledRow> labels,
                                           int expected_dims) const {
  if (pool.rows() == 0 || pool.cols() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot train on an empty pool (",
                                                   pool.rows(), " rows x ", pool.cols(),
                                                   " features)"));
  }
  if (expected_dims > 0 && pool.cols() != expected_dims) {
    return absl::InvalidArgumentError(absl::StrCat("pool rows have ", pool.cols(),
                                                   " features, the model has ", expected_dims));
  }
  for (const LabelledRow& l : labels) {
    if (l.row < 0 || l.row >= pool.rows()) {
      return absl::InvalidArgumentError(absl::StrCat("label for row ", l.row,
                                                     " is outside the pool of ", pool.rows(),
                                                     " rows"));
    }
  }
  return absl::OkStatus();
}

ActiveLearner::State ActiveLearner::TakeState() {
  State s;
  s.model = std::move(model_);
  s.input = std::move(input_);
  s.x = std::move(pool_x_);
  s.forest = std::move(pool_forest_);
  s.read_leaves = read_leaves_;
  s.leaves = std::move(pool_leaves_);
  s.u = std::move(pool_u_);
  s.latent = std::move(pool_latent_);
  s.logits = std::move(pool_logits_);
  s.unsupervised = std::move(pool_unsupervised_);
  // Whatever the call does, the unsupervised scores are recomputed at the
  // next publish (the same bits when nothing they read changed).
  unsupervised_current_ = false;
  return s;
}

void ActiveLearner::RestoreState(State s) {
  model_ = std::move(s.model);
  input_ = std::move(s.input);
  pool_x_ = std::move(s.x);
  pool_forest_ = std::move(s.forest);
  read_leaves_ = s.read_leaves;
  pool_leaves_ = std::move(s.leaves);
  pool_u_ = std::move(s.u);
  pool_latent_ = std::move(s.latent);
  pool_logits_ = std::move(s.logits);
  pool_unsupervised_ = std::move(s.unsupervised);
}

absl::Status ActiveLearner::Train(const ConstMatrixRef& pool, absl::Span<const LabelledRow> labels,
                                  const TrainControl& control) {
  RETURN_IF_ERROR(ValidateInputs(pool, labels, 0));
  State before = TakeState();
  absl::Status status = TrainFromScratch(pool, labels, control);
  if (!status.ok()) RestoreState(std::move(before));
  return status;
}

absl::Status ActiveLearner::TrainFromScratch(const ConstMatrixRef& pool,
                                             absl::Span<const LabelledRow> labels,
                                             const TrainControl& control) {
  const int dims = static_cast<int>(pool.cols());
  Standardizer input;
  input.Fit(pool);
  input_ = input;
  pool_x_.resize(0, dims);
  pool_forest_.clear();
  pool_leaves_.Reset(0);
  pool_u_.resize(0, 0);
  pool_latent_ = std::make_shared<const Matrix>();

  std::shared_ptr<IsolationForest> forest;
  read_leaves_ = config_.reads_leaves();
  // Standardised rows first: the forest and the detector both read them.
  RETURN_IF_ERROR(ExtendPool(pool, nullptr));
  if (config_.grows_forest()) {
    forest = std::make_shared<IsolationForest>(IsolationForestOptions{
        config_.forest_trees, config_.forest_sample_size,
        Rng::Derive(config_.seed, kStreamForest)});
    RETURN_IF_ERROR(forest->Fit(pool_x_));
    RETURN_IF_ERROR(ScoreForest(*forest, 0));
  }

  std::unique_ptr<DeepDetector> detector = MakeDetector(config_, dims);
  Rng init_rng(Rng::Derive(config_.seed, kStreamDetector));
  detector->Initialize(pool_x_, &init_rng);
  RETURN_IF_ERROR(Pretrain(detector.get(), control));

  UaiInputOptions options = config_.uai_inputs;
  options.forest = config_.uai_inputs.forest && forest != nullptr;
  UaiInputs inputs(options, dims, detector->latent_dim(), detector->evidence_dim());
  ComputeDetectorFeatures(0, *detector, inputs, /*standardize=*/false);
  inputs.FitStatistics(pool_u_);
  inputs.Standardize(pool_u_);

  // The prior: p starts as a monotone function of the unsupervised scores.
  Vector w0 = Vector::Zero(inputs.width());
  if (inputs.score_column() >= 0) w0[inputs.score_column()] = config_.prior_score_weight;
  if (inputs.forest_column() >= 0) w0[inputs.forest_column()] = config_.prior_score_weight;
  UaiLayer uai(w0, config_.prior_bias,
               read_leaves_ ? LeafWeights(forest->num_trees()) : LeafWeights());
  RETURN_IF_ERROR(FitUai(&uai, labels));
  return Publish(std::shared_ptr<const DeepDetector>(std::move(detector)), std::move(forest),
                 std::move(inputs), std::move(uai), static_cast<int64_t>(labels.size()), control);
}

absl::Status ActiveLearner::Update(const ConstMatrixRef& pool,
                                   absl::Span<const LabelledRow> labels,
                                   const TrainControl& control) {
  if (model_ == nullptr) {
    return absl::FailedPreconditionError("no model to update yet: train first");
  }
  RETURN_IF_ERROR(ValidateInputs(pool, labels, model_->input_dim()));
  if (pool.rows() < pool_x_.rows()) {
    return absl::InvalidArgumentError(absl::StrCat("the pool shrank from ", pool_x_.rows(),
                                                   " to ", pool.rows(), " rows"));
  }
  // Rows appended since the last call are featurised by the current model
  // first: they stay valid caches whatever happens below.
  const int64_t seen = pool_x_.rows();
  RETURN_IF_ERROR(ExtendPool(pool, model_->forest().get()));
  std::shared_ptr<const DeepDetector> detector = model_->detector();
  if (seen < pool.rows()) {
    ComputeDetectorFeatures(seen, *detector, model_->inputs(), /*standardize=*/true);
  }
  UaiLayer uai = model_->uai();
  const bool joint = !config_.freeze_detector && config_.finetune_steps > 0 && !labels.empty();
  Matrix published_u;  // the caches to go back to (joint only)
  std::shared_ptr<const Matrix> published_latent;
  if (joint) {
    std::unique_ptr<DeepDetector> tuned = detector->Clone();
    RETURN_IF_ERROR(FineTuneJointly(tuned.get(), uai, labels, control));
    detector = std::move(tuned);
    published_u = pool_u_;
    published_latent = pool_latent_;
    ComputeDetectorFeatures(0, *detector, model_->inputs(), /*standardize=*/true);
  }
  absl::Status status =
      control.Stopped() ? absl::CancelledError("training cancelled") : absl::OkStatus();
  if (status.ok()) status = FitUai(&uai, labels);
  if (status.ok()) {
    status = Publish(std::move(detector), model_->forest(), model_->inputs(), std::move(uai),
                     static_cast<int64_t>(labels.size()), control);
  }
  if (!status.ok() && joint) {
    pool_u_ = std::move(published_u);
    pool_latent_ = std::move(published_latent);
  }
  return status;
}

absl::Status ActiveLearner::Adopt(std::shared_ptr<const ActiveModel> model,
                                  const ConstMatrixRef& pool) {
  RETURN_IF_ERROR(ValidateInputs(pool, {}, model->input_dim()));
  State before = TakeState();
  input_ = model->input_standardizer();
  pool_x_.resize(0, pool.cols());
  read_leaves_ = model->uai().has_leaves();
  absl::Status status = ExtendPool(pool, model->forest().get());
  if (status.ok()) {
    ComputeDetectorFeatures(0, *model->detector(), model->inputs(), /*standardize=*/true);
    status = Publish(model->detector(), model->forest(), model->inputs(), model->uai(),
                     model->labels_used(), TrainControl{});
  }
  if (!status.ok()) RestoreState(std::move(before));
  return status;
}

absl::Status ActiveLearner::ExtendPool(const ConstMatrixRef& pool, const IsolationForest* forest) {
  const Eigen::Index from = pool_x_.rows(), n = pool.rows();
  if (from == n) return absl::OkStatus();
  pool_x_.conservativeResize(n, pool.cols());
  for (Eigen::Index start = from; start < n; start += kBlockRows) {
    const Eigen::Index len = std::min(kBlockRows, n - start);
    pool_x_.middleRows(start, len) = pool.middleRows(start, len);
    input_.TransformInPlace(pool_x_.middleRows(start, len));
  }
  if (forest == nullptr) return absl::OkStatus();
  absl::Status status = ScoreForest(*forest, from);
  if (!status.ok()) {
    // Back to the rows seen before: every cache covers the same rows.
    pool_x_.conservativeResize(from, pool.cols());
    pool_forest_.resize(from);
    if (read_leaves_) pool_leaves_.Resize(from);
  }
  return status;
}

absl::Status ActiveLearner::ScoreForest(const IsolationForest& forest, int64_t from) {
  const int64_t n = pool_x_.rows();
  pool_forest_.resize(n);
  const auto rows = pool_x_.middleRows(from, n - from);
  const absl::Span<float> scores(pool_forest_.data() + from, n - from);
  if (!read_leaves_) return forest.Score(rows, scores);
  const int trees = static_cast<int>(forest.num_trees());
  if (from == 0 || pool_leaves_.trees() != trees) pool_leaves_.Reset(trees);
  pool_leaves_.Resize(n);
  // A row-major block at a time: the walk writes each row's codes together.
  std::vector<LeafCode> codes;
  for (int64_t start = from; start < n; start += kBlockRows) {
    const int64_t len = std::min<int64_t>(kBlockRows, n - start);
    codes.resize(static_cast<size_t>(len) * trees);
    RETURN_IF_ERROR(forest.ScoreAndLeaves(pool_x_.middleRows(start, len),
                                          scores.subspan(start - from, len),
                                          absl::MakeSpan(codes)));
    pool_leaves_.SetRows(start, codes);
  }
  return absl::OkStatus();
}

void ActiveLearner::ComputeDetectorFeatures(int64_t from, const DeepDetector& detector,
                                            const UaiInputs& inputs, bool standardize) {
  const Eigen::Index n = pool_x_.rows();
  pool_u_.conservativeResize(n, inputs.width());
  // A new latent matrix: the one published may be shared (see
  // shared_pool_latent()).
  auto latent = std::make_shared<Matrix>(n, detector.latent_dim());
  if (from > 0) latent->topRows(from) = pool_latent_->topRows(from);
  unsupervised_current_ = false;
  InferScratch scratch;
  DetectorOutput det;
  Matrix u;
  for (Eigen::Index start = from; start < n; start += kBlockRows) {
    const Eigen::Index len = std::min<Eigen::Index>(kBlockRows, n - start);
    const auto x = pool_x_.middleRows(start, len);
    detector.Infer(x, &scratch, &det);
    const float* forest = pool_forest_.empty() ? nullptr : pool_forest_.data() + start;
    if (standardize) {
      inputs.Build(x, det, forest, &u);
    } else {
      inputs.BuildRaw(x, det, forest, &u);
    }
    pool_u_.middleRows(start, len) = u;
    latent->middleRows(start, len) = det.z;
  }
  pool_latent_ = std::move(latent);
}

absl::Status ActiveLearner::Pretrain(DeepDetector* detector, const TrainControl& control) {
  const int64_t n = pool_x_.rows();
  if (config_.pretrain_epochs == 0) return absl::OkStatus();
  const int64_t batch = std::min<int64_t>(config_.batch_size, n);
  const int64_t steps = (n + batch - 1) / batch;
  int epochs = config_.pretrain_epochs;
  if (config_.max_pretrain_rows > 0) {
    const int64_t cap = std::max<int64_t>(1, config_.max_pretrain_rows / (steps * batch));
    epochs = static_cast<int>(std::min<int64_t>(epochs, cap));
  }
  Adam adam(detector->Parameters(), AdamOptions{config_.learning_rate, 0.9f, 0.999f, 1e-8f,
                                                config_.weight_decay});
  Rng rng(Rng::Derive(config_.seed, kStreamPretrain));
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Matrix x(batch, pool_x_.cols());
  const Vector ds = Vector::Constant(batch, 1.0f / static_cast<float>(batch));
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    Shuffle(&order, &rng);
    double loss = 0.0;
    for (int64_t step = 0; step < steps; ++step) {
      if (control.Stopped()) return absl::CancelledError("training cancelled");
      Gather(pool_x_, order, static_cast<size_t>(step * batch), &x);
      detector->ZeroGrad();
      const DetectorOutput& out = detector->Forward(x);
      loss += out.s.mean();
      detector->Backward(nullptr, nullptr, ds);
      adam.Step();
    }
    if (control.on_progress) {
      const double secs = Seconds(start);
      control.on_progress(TrainProgress{epoch, epochs, static_cast<float>(loss / steps),
                                        secs > 0 ? steps * batch / secs : 0.0});
    }
  }
  return absl::OkStatus();
}

absl::Status ActiveLearner::FineTuneJointly(DeepDetector* detector, const UaiLayer& uai,
                                            absl::Span<const LabelledRow> labels,
                                            const TrainControl& control) {
  const UaiInputs& inputs = model_->inputs();
  const int64_t n = pool_x_.rows();
  // Rows for the unsupervised loss: everything not labelled anomalous.
  std::vector<uint8_t> is_anomaly(n, 0);
  for (const LabelledRow& l : labels) is_anomaly[l.row] = l.anomaly ? 1 : 0;
  std::vector<int64_t> unsup;
  unsup.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    if (!is_anomaly[i]) unsup.push_back(i);
  }
  std::vector<int64_t> labelled(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) labelled[i] = labels[i].row;
  const int64_t batch = std::min<int64_t>(config_.batch_size, std::max<size_t>(unsup.size(), 1));
  const int64_t m = std::min<int64_t>(labelled.size(), config_.max_labelled_per_step);

  Adam adam(detector->Parameters(), AdamOptions{config_.learning_rate, 0.9f, 0.999f, 1e-8f,
                                                config_.weight_decay});
  Rng rng(Rng::Derive(config_.seed, kStreamFinetune + labels.size()));
  Matrix x(batch + m, pool_x_.cols()), u, du, dz, de;
  std::vector<float> forest(batch + m, 0.0f);
  // The labelled rows' region logits are constants of the detector's
  // parameters; they shift each labelled logit.
  const size_t trees = uai.leaf_trees();
  std::vector<LeafCode> codes(static_cast<size_t>(m) * trees);
  Vector ds_uai, logits, da(batch + m), y(m), c(m);
  std::vector<uint8_t> flags(m);
  const auto start = std::chrono::steady_clock::now();
  double loss_sum = 0.0;
  for (int step = 0; step < config_.finetune_steps; ++step) {
    if (control.Stopped()) return absl::CancelledError("training cancelled");
    if (m < static_cast<int64_t>(labelled.size())) Shuffle(&labelled, &rng);
    for (int64_t r = 0; r < batch; ++r) {
      const int64_t i = unsup.empty() ? 0 : unsup[rng.UniformInt(unsup.size())];
      x.row(r) = pool_x_.row(i);
      if (!pool_forest_.empty()) forest[r] = pool_forest_[i];
    }
    for (int64_t r = 0; r < m; ++r) {
      x.row(batch + r) = pool_x_.row(labelled[r]);
      if (!pool_forest_.empty()) forest[batch + r] = pool_forest_[labelled[r]];
      flags[r] = is_anomaly[labelled[r]];
      y[r] = flags[r] ? 1.0f : 0.0f;
      if (trees > 0) pool_leaves_.CopyRow(labelled[r], codes.data() + r * trees);
    }
    c = ClassBalancedWeights(flags) * config_.label_loss_weight;
    detector->ZeroGrad();
    const DetectorOutput& out = detector->Forward(x);
    inputs.Build(x, out, pool_forest_.empty() ? nullptr : forest.data(), &u);
    uai.Logits(u, &logits);
    if (uai.has_leaves()) uai.leaves().AddTo(codes, m, logits.data() + batch);
    da.setZero();
    Vector da_labelled;
    const float bce = WeightedBceWithLogits(logits.tail(m), y, c, &da_labelled);
    da.tail(m) = da_labelled;
    uai.BackwardInput(da, &du);
    inputs.Backward(du, out, &dz, &de, &ds_uai);
    // Unsupervised loss: mean s over the unlabelled part of the batch.
    ds_uai.head(batch).array() += 1.0f / static_cast<float>(batch);
    loss_sum += out.s.head(batch).mean() + bce;
    detector->Backward(&dz, &de, ds_uai);
    adam.Step();
  }
  if (control.on_progress) {
    const double secs = Seconds(start);
    control.on_progress(TrainProgress{1, 1, static_cast<float>(loss_sum / config_.finetune_steps),
                                      secs > 0 ? config_.finetune_steps * (batch + m) / secs : 0});
  }
  return absl::OkStatus();
}

absl::Status ActiveLearner::FitUai(UaiLayer* uai, absl::Span<const LabelledRow> labels) {
  const Eigen::Index m = static_cast<Eigen::Index>(labels.size());
  const size_t trees = uai->leaf_trees();
  labelled_u_.resize(m, pool_u_.cols());
  labelled_y_.resize(m);
  labelled_leaves_.resize(static_cast<size_t>(m) * trees);
  for (Eigen::Index i = 0; i < m; ++i) {
    labelled_u_.row(i) = pool_u_.row(labels[i].row);
    labelled_y_[i] = labels[i].anomaly ? 1 : 0;
    if (trees > 0) pool_leaves_.CopyRow(labels[i].row, labelled_leaves_.data() + i * trees);
  }
  UaiFitOptions options;
  options.prior_strength = config_.prior_strength;
  options.bias_prior_strength = config_.bias_prior_strength;
  options.leaf_prior_strength = config_.leaf_prior_strength();
  return uai->Fit(labelled_u_, labelled_leaves_, labelled_y_, options);
}

absl::Status ActiveLearner::Publish(std::shared_ptr<const DeepDetector> detector,
                                    std::shared_ptr<const IsolationForest> forest,
                                    UaiInputs inputs, UaiLayer uai, int64_t labels_used,
                                    const TrainControl& control) {
  auto model = std::make_shared<const ActiveModel>(input_, std::move(detector), std::move(forest),
                                                   std::move(inputs), std::move(uai),
                                                   labels_used);
  if (control.before_publish) RETURN_IF_ERROR(control.before_publish(*model));
  // New buffers, not the published ones: a PoolScores may share those.
  auto logits = std::make_shared<Vector>();
  model->uai().Logits(pool_u_, pool_leaves_, logits.get());
  pool_logits_ = std::move(logits);
  const Vector& w0 = model->uai().w0();
  const bool same_w0 = unsupervised_w0_.size() == w0.size() &&
                       std::memcmp(unsupervised_w0_.data(), w0.data(),
                                   sizeof(float) * static_cast<size_t>(w0.size())) == 0;
  if (!unsupervised_current_ || !same_w0) {
    auto unsupervised = std::make_shared<Vector>();
    unsupervised->noalias() = pool_u_ * w0;
    pool_unsupervised_ = std::move(unsupervised);
    unsupervised_w0_ = w0;
    unsupervised_current_ = true;
  }
  model_ = std::move(model);
  if (profile_ == nullptr || profile_rows_ != pool_x_.rows() ||
      profile_input_.mean() != input_.mean() || profile_input_.scale() != input_.scale()) {
    profile_ = std::make_shared<const FeatureProfile>(
        FeatureProfile::FromStandardized(pool_x_, input_));
    profile_rows_ = pool_x_.rows();
    profile_input_ = input_;
  }
  return absl::OkStatus();
}

}  // namespace aad

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
// Rows a block when the pool is rescored: a block's rows and inputs stay in
// the core's L2 cache between their passes; a divisor of
// PoolRows::kChunkRows (blocks never straddle chunks) and a multiple of 8,
// so that each row's product takes the path it takes in one pool-wide
// product.
constexpr int64_t kRescoreRows = 512;
static_assert(PoolRows::kChunkRows % kRescoreRows == 0 && kRescoreRows % 8 == 0);
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
      pool_logits_(std::make_shared<const Vector>()),
      pool_unsupervised_(std::make_shared<const Vector>()) {}

absl::Status ActiveLearner::ValidateInputs(const PoolRows& pool,
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
  s.rows = rows_;
  s.keep_u = keep_u_;
  s.u = std::move(pool_u_);
  s.forest = std::move(pool_forest_);
  s.read_leaves = read_leaves_;
  s.leaves = std::move(pool_leaves_);
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
  rows_ = s.rows;
  keep_u_ = s.keep_u;
  pool_u_ = std::move(s.u);
  pool_forest_ = std::move(s.forest);
  read_leaves_ = s.read_leaves;
  pool_leaves_ = std::move(s.leaves);
  pool_logits_ = std::move(s.logits);
  pool_unsupervised_ = std::move(s.unsupervised);
}

void ActiveLearner::Standardized(const PoolRows& pool, int64_t first, int64_t len,
                                 Matrix* x) const {
  x->resize(len, pool.cols());
  pool.Copy(first, *x);
  input_.TransformInPlace(*x);
}

absl::Status ActiveLearner::Train(const PoolRows& pool, absl::Span<const LabelledRow> labels,
                                  const TrainControl& control) {
  RETURN_IF_ERROR(ValidateInputs(pool, labels, 0));
  State before = TakeState();
  absl::Status status = TrainFromScratch(pool, labels, control);
  if (!status.ok()) RestoreState(std::move(before));
  return status;
}

absl::Status ActiveLearner::TrainFromScratch(const PoolRows& pool,
                                             absl::Span<const LabelledRow> labels,
                                             const TrainControl& control) {
  const int dims = static_cast<int>(pool.cols());
  const int64_t n = pool.rows();
  input_.Fit(pool);
  rows_ = 0;
  pool_forest_.clear();
  pool_leaves_.Reset(0);
  pool_u_.resize(0, 0);
  read_leaves_ = config_.reads_leaves();

  // The standardised pool, for this call only: the forest, the detector's
  // initialisation and pretraining, and the UAI input statistics read it.
  Matrix x;
  Standardized(pool, 0, n, &x);
  std::shared_ptr<IsolationForest> forest;
  if (config_.grows_forest()) {
    forest = std::make_shared<IsolationForest>(IsolationForestOptions{
        config_.forest_trees, config_.forest_sample_size,
        Rng::Derive(config_.seed, kStreamForest)});
    RETURN_IF_ERROR(forest->Fit(x));
  }
  RETURN_IF_ERROR(ExtendPool(pool, forest.get()));

  std::unique_ptr<DeepDetector> detector = MakeDetector(config_, dims);
  Rng init_rng(Rng::Derive(config_.seed, kStreamDetector));
  detector->Initialize(x, &init_rng);
  RETURN_IF_ERROR(Pretrain(detector.get(), x, control));

  // Freed before the inputs' statistics: the peak is one of the two pool-wide
  // matrices, not both.
  x = Matrix();

  UaiInputOptions options = config_.uai_inputs;
  options.forest = config_.uai_inputs.forest && forest != nullptr;
  UaiInputs inputs(options, dims, detector->latent_dim(), detector->evidence_dim());
  keep_u_ = inputs.reads_detector();
  if (keep_u_) {
    ComputeDetectorFeatures(pool, 0, *detector, inputs, /*standardize=*/false);
    inputs.FitStatistics(pool_u_);
    inputs.Standardize(pool_u_);
  } else {
    Matrix u_raw(n, inputs.width()), block, u;
    const DetectorOutput none;
    for (int64_t start = 0; start < n; start += kBlockRows) {
      const int64_t len = std::min(kBlockRows, n - start);
      Standardized(pool, start, len, &block);
      const float* scores = pool_forest_.empty() ? nullptr : pool_forest_.data() + start;
      inputs.BuildRaw(block, none, scores, &u);
      u_raw.middleRows(start, len) = u;
    }
    inputs.FitStatistics(u_raw);
  }

  // The prior: p starts as a monotone function of the unsupervised scores.
  Vector w0 = Vector::Zero(inputs.width());
  if (inputs.score_column() >= 0) w0[inputs.score_column()] = config_.prior_score_weight;
  if (inputs.forest_column() >= 0) w0[inputs.forest_column()] = config_.prior_score_weight;
  UaiLayer uai(w0, config_.prior_bias,
               read_leaves_ ? LeafWeights(forest->num_trees()) : LeafWeights());
  RETURN_IF_ERROR(FitUai(&uai, inputs, pool, labels));
  return Publish(pool, std::shared_ptr<const DeepDetector>(std::move(detector)),
                 std::move(forest), std::move(inputs), std::move(uai),
                 static_cast<int64_t>(labels.size()), control);
}

absl::Status ActiveLearner::Update(const PoolRows& pool, absl::Span<const LabelledRow> labels,
                                   const TrainControl& control) {
  if (model_ == nullptr) {
    return absl::FailedPreconditionError("no model to update yet: train first");
  }
  RETURN_IF_ERROR(ValidateInputs(pool, labels, model_->input_dim()));
  if (pool.rows() < rows_) {
    return absl::InvalidArgumentError(absl::StrCat("the pool shrank from ", rows_, " to ",
                                                   pool.rows(), " rows"));
  }
  // Rows appended since the last call are featurised by the current model
  // first: they stay valid caches whatever happens below.
  const int64_t seen = rows_;
  RETURN_IF_ERROR(ExtendPool(pool, model_->forest().get()));
  std::shared_ptr<const DeepDetector> detector = model_->detector();
  if (seen < rows_) {
    ComputeDetectorFeatures(pool, seen, *detector, model_->inputs(), /*standardize=*/true);
  }
  UaiLayer uai = model_->uai();
  const bool joint = !config_.freeze_detector && config_.finetune_steps > 0 && !labels.empty();
  Matrix published_u;  // the cache to go back to (joint only)
  if (joint) {
    std::unique_ptr<DeepDetector> tuned = detector->Clone();
    RETURN_IF_ERROR(FineTuneJointly(tuned.get(), uai, pool, labels, control));
    detector = std::move(tuned);
    if (keep_u_) {
      published_u = pool_u_;
      ComputeDetectorFeatures(pool, 0, *detector, model_->inputs(), /*standardize=*/true);
    }
  }
  absl::Status status =
      control.Stopped() ? absl::CancelledError("training cancelled") : absl::OkStatus();
  if (status.ok()) status = FitUai(&uai, model_->inputs(), pool, labels);
  if (status.ok()) {
    status = Publish(pool, std::move(detector), model_->forest(), model_->inputs(), std::move(uai),
                     static_cast<int64_t>(labels.size()), control);
  }
  if (!status.ok() && joint && keep_u_) pool_u_ = std::move(published_u);
  return status;
}

absl::Status ActiveLearner::Adopt(std::shared_ptr<const ActiveModel> model,
                                  const PoolRows& pool) {
  RETURN_IF_ERROR(ValidateInputs(pool, {}, model->input_dim()));
  State before = TakeState();
  input_ = model->input_standardizer();
  rows_ = 0;
  read_leaves_ = model->uai().has_leaves();
  keep_u_ = model->inputs().reads_detector();
  absl::Status status = ExtendPool(pool, model->forest().get());
  if (status.ok()) {
    ComputeDetectorFeatures(pool, 0, *model->detector(), model->inputs(), /*standardize=*/true);
    status = Publish(pool, model->detector(), model->forest(), model->inputs(), model->uai(),
                     model->labels_used(), TrainControl{});
  }
  if (!status.ok()) RestoreState(std::move(before));
  return status;
}

absl::Status ActiveLearner::ExtendPool(const PoolRows& pool, const IsolationForest* forest) {
  const int64_t from = rows_, n = pool.rows();
  if (from == n) return absl::OkStatus();
  unsupervised_current_ = false;  // the new rows have none yet
  if (forest == nullptr) {
    rows_ = n;
    return absl::OkStatus();
  }
  pool_forest_.resize(n);
  const int trees = static_cast<int>(forest->num_trees());
  if (read_leaves_) {
    if (from == 0 || pool_leaves_.trees() != trees) pool_leaves_.Reset(trees);
    pool_leaves_.Resize(n);
  }
  // A standardised block at a time; the walk writes each row's codes
  // together.
  Matrix x;
  std::vector<LeafCode> codes;
  absl::Status status;
  for (int64_t start = from; start < n && status.ok(); start += kBlockRows) {
    const int64_t len = std::min<int64_t>(kBlockRows, n - start);
    Standardized(pool, start, len, &x);
    const absl::Span<float> scores(pool_forest_.data() + start, len);
    if (!read_leaves_) {
      status = forest->Score(x, scores);
      continue;
    }
    codes.resize(static_cast<size_t>(len) * trees);
    status = forest->ScoreAndLeaves(x, scores, absl::MakeSpan(codes));
    if (status.ok()) pool_leaves_.SetRows(start, codes);
  }
  if (!status.ok()) {
    // Back to the rows seen before: every cache covers the same rows.
    pool_forest_.resize(from);
    if (read_leaves_) pool_leaves_.Resize(from);
    return status;
  }
  rows_ = n;
  return absl::OkStatus();
}

void ActiveLearner::ComputeDetectorFeatures(const PoolRows& pool, int64_t from,
                                            const DeepDetector& detector,
                                            const UaiInputs& inputs, bool standardize) {
  if (!keep_u_) return;
  const int64_t n = rows_;
  pool_u_.conservativeResize(n, inputs.width());
  unsupervised_current_ = false;
  InferScratch scratch;
  DetectorOutput det;
  Matrix x, u;
  for (int64_t start = from; start < n; start += kBlockRows) {
    const int64_t len = std::min<int64_t>(kBlockRows, n - start);
    Standardized(pool, start, len, &x);
    detector.Infer(x, &scratch, &det);
    const float* forest = pool_forest_.empty() ? nullptr : pool_forest_.data() + start;
    if (standardize) {
      inputs.Build(x, det, forest, &u);
    } else {
      inputs.BuildRaw(x, det, forest, &u);
    }
    pool_u_.middleRows(start, len) = u;
  }
}

ConstMatrixRef ActiveLearner::PoolInputs(const PoolRows& pool, const UaiInputs& inputs,
                                         int64_t first, int64_t len, Matrix* u) const {
  if (keep_u_) return pool_u_.middleRows(first, len);
  const float* forest = pool_forest_.empty() ? nullptr : pool_forest_.data() + first;
  inputs.BuildFromRaw(pool.Block(first, len), input_, forest, u);
  return *u;
}

absl::Status ActiveLearner::Pretrain(DeepDetector* detector, const Matrix& pool_x,
                                     const TrainControl& control) {
  const int64_t n = pool_x.rows();
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
  Matrix x(batch, pool_x.cols());
  const Vector ds = Vector::Constant(batch, 1.0f / static_cast<float>(batch));
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    Shuffle(&order, &rng);
    double loss = 0.0;
    for (int64_t step = 0; step < steps; ++step) {
      if (control.Stopped()) return absl::CancelledError("training cancelled");
      Gather(pool_x, order, static_cast<size_t>(step * batch), &x);
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
                                            const PoolRows& pool,
                                            absl::Span<const LabelledRow> labels,
                                            const TrainControl& control) {
  const UaiInputs& inputs = model_->inputs();
  const int64_t n = rows_;
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(pool.cols());
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
  Matrix x(batch + m, pool.cols()), u, du, dz, de;
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
      std::memcpy(x.row(r).data(), pool.Row(i), row_bytes);
      if (!pool_forest_.empty()) forest[r] = pool_forest_[i];
    }
    for (int64_t r = 0; r < m; ++r) {
      std::memcpy(x.row(batch + r).data(), pool.Row(labelled[r]), row_bytes);
      if (!pool_forest_.empty()) forest[batch + r] = pool_forest_[labelled[r]];
      flags[r] = is_anomaly[labelled[r]];
      y[r] = flags[r] ? 1.0f : 0.0f;
      if (trees > 0) pool_leaves_.CopyRow(labelled[r], codes.data() + r * trees);
    }
    // Standardised here, the same bits as a standardised pool's rows.
    input_.TransformInPlace(x);
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

absl::Status ActiveLearner::FitUai(UaiLayer* uai, const UaiInputs& inputs, const PoolRows& pool,
                                  absl::Span<const LabelledRow> labels) {
  const Eigen::Index m = static_cast<Eigen::Index>(labels.size());
  const size_t trees = uai->leaf_trees();
  labelled_y_.resize(m);
  labelled_leaves_.resize(static_cast<size_t>(m) * trees);
  if (keep_u_ || m == 0) {
    labelled_u_.resize(m, inputs.width());
    for (Eigen::Index i = 0; i < m; ++i) labelled_u_.row(i) = pool_u_.row(labels[i].row);
  } else {
    // The labelled rows' inputs, built as the pool's are: the same bits.
    labelled_x_.resize(m, pool.cols());
    labelled_forest_.resize(m);
    const size_t row_bytes = sizeof(float) * static_cast<size_t>(pool.cols());
    for (Eigen::Index i = 0; i < m; ++i) {
      std::memcpy(labelled_x_.row(i).data(), pool.Row(labels[i].row), row_bytes);
      if (!pool_forest_.empty()) labelled_forest_[i] = pool_forest_[labels[i].row];
    }
    input_.TransformInPlace(labelled_x_);
    inputs.Build(labelled_x_, DetectorOutput(),
                 pool_forest_.empty() ? nullptr : labelled_forest_.data(), &labelled_u_);
  }
  for (Eigen::Index i = 0; i < m; ++i) {
    labelled_y_[i] = labels[i].anomaly ? 1 : 0;
    if (trees > 0) pool_leaves_.CopyRow(labels[i].row, labelled_leaves_.data() + i * trees);
  }
  UaiFitOptions options;
  options.prior_strength = config_.prior_strength;
  options.bias_prior_strength = config_.bias_prior_strength;
  options.leaf_prior_strength = config_.leaf_prior_strength();
  return uai->Fit(labelled_u_, labelled_leaves_, labelled_y_, options);
}

absl::Status ActiveLearner::Publish(const PoolRows& pool,
                                    std::shared_ptr<const DeepDetector> detector,
                                    std::shared_ptr<const IsolationForest> forest,
                                    UaiInputs inputs, UaiLayer uai, int64_t labels_used,
                                    const TrainControl& control) {
  auto model = std::make_shared<const ActiveModel>(input_, std::move(detector), std::move(forest),
                                                   std::move(inputs), std::move(uai),
                                                   labels_used);
  if (control.before_publish) RETURN_IF_ERROR(control.before_publish(*model));
  const UaiLayer& layer = model->uai();
  const Vector& w0 = layer.w0();
  const bool same_w0 = unsupervised_w0_.size() == w0.size() &&
                       std::memcmp(unsupervised_w0_.data(), w0.data(),
                                   sizeof(float) * static_cast<size_t>(w0.size())) == 0;
  const bool rescore_unsupervised = !unsupervised_current_ || !same_w0;
  // New buffers, not the published ones: a PoolScores may share those. A
  // block of the pool's inputs at a time: each row's logit is the product
  // the whole pool's matrix would give (a row's dot product does not depend
  // on the rows beside it).
  auto logits = std::make_shared<Vector>(rows_);
  std::shared_ptr<Vector> unsupervised;
  if (rescore_unsupervised) unsupervised = std::make_shared<Vector>(rows_);
  Matrix u;
  Vector part;
  for (int64_t start = 0; start < rows_; start += kRescoreRows) {
    const int64_t len = std::min<int64_t>(kRescoreRows, rows_ - start);
    const ConstMatrixRef block = PoolInputs(pool, model->inputs(), start, len, &u);
    layer.Logits(block, &part);
    logits->segment(start, len) = part;
    if (unsupervised != nullptr) {
      part.noalias() = block * w0;
      unsupervised->segment(start, len) = part;
    }
  }
  if (layer.has_leaves()) layer.leaves().AddTo(pool_leaves_, logits->data());
  pool_logits_ = std::move(logits);
  if (unsupervised != nullptr) {
    pool_unsupervised_ = std::move(unsupervised);
    unsupervised_w0_ = w0;
    unsupervised_current_ = true;
  }
  model_ = std::move(model);
  if (profile_ == nullptr || profile_rows_ != rows_ ||
      profile_input_.mean() != input_.mean() || profile_input_.scale() != input_.scale()) {
    // From an even sample of the rows, standardised as the pool's are.
    Matrix sample;
    pool.Gather(FeatureProfile::SampleRows(rows_), &sample);
    input_.TransformInPlace(sample);
    profile_ = std::make_shared<const FeatureProfile>(
        FeatureProfile::FromStandardized(sample, input_));
    profile_rows_ = rows_;
    profile_input_ = input_;
  }
  return absl::OkStatus();
}

}  // namespace aad

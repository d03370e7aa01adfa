// core-bench: Google Benchmark micro-benchmarks of the core's hot paths
// (bench/README.md, "Performance"):
//   - one dense layer, forward and backward;
//   - a training step of each detector (ZeroGrad, Forward, Backward, Adam),
//     alone and jointly with the UAI layer (the step of a joint fine-tune);
//   - a feedback round (ActiveLearner::Update) on a synthetic pool;
//   - batch scoring (ActiveModel::Score) at 4096 rows, and the isolation
//     forest's share of it (IsolationForest::Score, ScoreAndLeaves), also on
//     rows from a file (AADD_FOREST_DATA, for bench/vs_sklearn_forest.sh).
// Items per second are samples (rows) per second.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/active/active_learner.h"
#include "core/active/pool_scores.h"
#include "core/explain/explanation.h"
#include "core/explain/feature_profile.h"
#include "core/active/uai_inputs.h"
#include "core/active/uai_layer.h"
#include "core/data/synthetic.h"
#include "core/detectors/autoencoder.h"
#include "core/detectors/deep_svdd.h"
#include "core/detectors/isolation_forest.h"
#include "core/nn/adam.h"
#include "core/nn/dense_layer.h"
#include "core/nn/loss.h"
#include "core/util/random.h"

namespace aad {
namespace {

Matrix RandomMatrix(Eigen::Index rows, Eigen::Index cols, uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Normal());
  return m;
}

// Args: in, out, batch.
void BM_DenseForward(benchmark::State& state) {
  const int in = state.range(0), out = state.range(1), batch = state.range(2);
  DenseLayer layer(in, out, Activation::kRelu, /*bias=*/true);
  Rng rng(1);
  layer.Initialize(&rng);
  const Matrix x = RandomMatrix(batch, in, 2);
  Matrix y;
  for (auto _ : state) {
    layer.Forward(x, &y);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * in * out * batch * state.iterations(),
                                                 benchmark::Counter::kIsRate,
                                                 benchmark::Counter::kIs1000);
}
BENCHMARK(BM_DenseForward)->Args({64, 128, 256})->Args({128, 64, 256})->Args({9, 32, 128})
    ->Args({32, 9, 128})->Args({64, 128, 4096});

void BM_DenseBackward(benchmark::State& state) {
  const int in = state.range(0), out = state.range(1), batch = state.range(2);
  DenseLayer layer(in, out, Activation::kRelu, /*bias=*/true);
  Rng rng(1);
  layer.Initialize(&rng);
  const Matrix x = RandomMatrix(batch, in, 2);
  Matrix y, dx;
  layer.Forward(x, &y);
  const Matrix dy0 = RandomMatrix(batch, out, 3);
  Matrix dy = dy0;
  for (auto _ : state) {
    state.PauseTiming();
    dy = dy0;  // Backward consumes dy
    state.ResumeTiming();
    layer.Backward(x, y, &dy, &dx);
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_DenseBackward)->Args({64, 128, 256})->Args({128, 64, 256})->Args({9, 32, 128})
    ->Args({32, 9, 128});

std::unique_ptr<DeepDetector> MakeDetector(DetectorKind kind, int dims, int hidden, int latent) {
  if (kind == DetectorKind::kDeepSvdd) {
    return std::make_unique<DeepSvdd>(dims, DeepSvddOptions{hidden, latent,
                                                            Activation::kLeakyRelu});
  }
  return std::make_unique<Autoencoder>(dims, AutoencoderOptions{hidden, latent,
                                                                Activation::kTanh});
}

// One unsupervised training step, as ActiveLearner::Pretrain takes it.
// Args: dims, hidden, latent, batch.
template <DetectorKind kKind>
void BM_DetectorStep(benchmark::State& state) {
  const int dims = state.range(0), hidden = state.range(1), latent = state.range(2),
            batch = state.range(3);
  const Matrix x = RandomMatrix(batch, dims, 2);
  auto det = MakeDetector(kKind, dims, hidden, latent);
  Rng rng(1);
  det->Initialize(x, &rng);
  Adam adam(det->Parameters(), AdamOptions{});
  const Vector ds = Vector::Constant(batch, 1.0f / batch);
  for (auto _ : state) {
    det->ZeroGrad();
    const DetectorOutput& out = det->Forward(x);
    benchmark::DoNotOptimize(out.s.data());
    det->Backward(nullptr, nullptr, ds);
    adam.Step();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK_TEMPLATE(BM_DetectorStep, DetectorKind::kAutoencoder)
    ->Args({32, 64, 16, 128})->Args({6, 64, 16, 128})->Args({64, 128, 32, 256});
BENCHMARK_TEMPLATE(BM_DetectorStep, DetectorKind::kDeepSvdd)
    ->Args({32, 64, 16, 128})->Args({6, 64, 16, 128})->Args({64, 128, 32, 256});

// One step of the joint fine-tune (ActiveLearner::FineTuneJointly): the
// detector and the UAI layer forward, class-balanced BCE on the labelled
// tail of the batch, backward through the UAI inputs into the detector, Adam.
// Args: dims, batch (unlabelled rows), labelled rows.
template <DetectorKind kKind>
void BM_JointUaiStep(benchmark::State& state) {
  const int dims = state.range(0), batch = state.range(1), m = state.range(2);
  const ActiveConfig config;
  const Matrix x = RandomMatrix(batch + m, dims, 2);
  auto det = MakeDetector(kKind, dims, config.hidden_units, config.latent_units);
  Rng rng(1);
  det->Initialize(x, &rng);
  UaiInputOptions options;
  options.forest = false;
  UaiInputs inputs(options, dims, det->latent_dim(), det->evidence_dim());
  {
    InferScratch scratch;
    DetectorOutput out;
    Matrix u;
    det->Infer(x, &scratch, &out);
    inputs.BuildRaw(x, out, nullptr, &u);
    inputs.FitStatistics(u);
  }
  Vector w0 = Vector::Zero(inputs.width());
  w0[inputs.score_column()] = 1.0f;
  UaiLayer uai(w0, 0.0f);
  std::vector<uint8_t> flags(m);
  Vector y(m);
  for (int i = 0; i < m; ++i) {
    flags[i] = i % 4 == 0;
    y[i] = flags[i];
  }
  const Vector c = ClassBalancedWeights(flags);
  Adam adam(det->Parameters(), AdamOptions{});
  Matrix u, du, dz, de;
  Vector ds, logits, da(batch + m), da_labelled;
  for (auto _ : state) {
    det->ZeroGrad();
    const DetectorOutput& out = det->Forward(x);
    inputs.Build(x, out, nullptr, &u);
    uai.Logits(u, &logits);
    da.setZero();
    benchmark::DoNotOptimize(WeightedBceWithLogits(logits.tail(m), y, c, &da_labelled));
    da.tail(m) = da_labelled;
    uai.BackwardInput(da, &du);
    inputs.Backward(du, out, &dz, &de, &ds);
    ds.head(batch).array() += 1.0f / batch;
    det->Backward(&dz, &de, ds);
    adam.Step();
  }
  state.SetItemsProcessed(state.iterations() * (batch + m));
}
BENCHMARK_TEMPLATE(BM_JointUaiStep, DetectorKind::kAutoencoder)->Args({32, 128, 100});
BENCHMARK_TEMPLATE(BM_JointUaiStep, DetectorKind::kDeepSvdd)->Args({32, 128, 100});

// A trained learner on a synthetic pool, shared by the benchmarks below.
struct Trained {
  Dataset data;
  std::unique_ptr<ActiveLearner> learner;
  std::vector<LabelledRow> labels;
};

const Trained& TrainedLearner(int64_t rows, int dims) {
  static auto* cache = new std::vector<std::pair<std::pair<int64_t, int>, Trained*>>();
  for (auto& [key, t] : *cache) {
    if (key == std::make_pair(rows, dims)) return *t;
  }
  auto* t = new Trained;
  SyntheticOptions o;
  o.rows = rows;
  o.dims = dims;
  t->data = *MakeClusteredAnomalies(o);
  t->learner = *ActiveLearner::Create(ActiveConfig{});
  if (!t->learner->Train(t->data.features, {}).ok()) std::abort();
  // 150 labels: the middle of a 300-label budget, the top-ranked rows.
  for (int64_t i = 0; i < 150; ++i) {
    t->labels.push_back({i * (rows / 150), t->data.labels[i * (rows / 150)] != 0});
  }
  cache->push_back({{rows, dims}, t});
  return *t;
}

// One feedback round with the default configuration (frozen detector: the
// UAI layer's convex refit and the pool's new logits). Args: rows, dims.
void BM_FeedbackRound(benchmark::State& state) {
  const Trained& t = TrainedLearner(state.range(0), state.range(1));
  for (auto _ : state) {
    if (!t.learner->Update(t.data.features, t.labels).ok()) state.SkipWithError("update failed");
  }
  state.SetLabel("150 labels");
}
BENCHMARK(BM_FeedbackRound)->Args({10'000, 32})->Args({100'000, 32})
    ->Unit(benchmark::kMillisecond);

// Scoring new rows from the published model, 4096 rows a call. Args: dims.
void BM_Score(benchmark::State& state) {
  const Trained& t = TrainedLearner(10'000, state.range(0));
  const Matrix rows = t.data.features.topRows(4096);
  ModelScores scores;
  ScoreScratch scratch;
  const ActiveModel& model = *t.learner->model();
  for (auto _ : state) {
    if (!model.Score(rows, &scores, &scratch).ok()) state.SkipWithError("score failed");
    benchmark::DoNotOptimize(scores.p.data());
  }
  state.SetItemsProcessed(state.iterations() * rows.rows());
}
BENCHMARK(BM_Score)->Arg(32)->Arg(6)->Unit(benchmark::kMicrosecond);

// The forest alone (default options: 100 trees of 256 samples), fitted on
// 10,000 rows, scoring 4096 rows a call: what a restart repeats over the
// whole pool. Args: dims.
void BM_ForestScore(benchmark::State& state) {
  const Matrix fit = RandomMatrix(10'000, state.range(0), 3);
  const Matrix rows = RandomMatrix(4096, state.range(0), 4);
  IsolationForest forest(IsolationForestOptions{});
  if (!forest.Fit(fit).ok()) state.SkipWithError("fit failed");
  std::vector<float> out(rows.rows());
  for (auto _ : state) {
    benchmark::DoNotOptimize(forest.Score(rows, absl::MakeSpan(out)).ok());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows.rows());
}
BENCHMARK(BM_ForestScore)->Arg(32)->Arg(6)->Unit(benchmark::kMicrosecond);

// The same with the leaf codes (ScoreAndLeaves: what ActiveModel::Score and
// a pool rebuild call when the UAI layer reads the leaves). Args: dims.
void BM_ForestScoreAndLeaves(benchmark::State& state) {
  const Matrix fit = RandomMatrix(10'000, state.range(0), 3);
  const Matrix rows = RandomMatrix(4096, state.range(0), 4);
  IsolationForest forest(IsolationForestOptions{});
  if (!forest.Fit(fit).ok()) state.SkipWithError("fit failed");
  std::vector<float> out(rows.rows());
  std::vector<uint8_t> leaves(static_cast<size_t>(rows.rows()) * forest.num_trees());
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        forest.ScoreAndLeaves(rows, absl::MakeSpan(out), absl::MakeSpan(leaves)).ok());
    benchmark::DoNotOptimize(leaves.data());
  }
  state.SetItemsProcessed(state.iterations() * rows.rows());
}
BENCHMARK(BM_ForestScoreAndLeaves)->Arg(32)->Arg(6)->Unit(benchmark::kMicrosecond);

// Explaining candidates: k = 10 rows a call (what one candidates call with
// explanations adds), after 150 labels so that every term of the logit is
// live (forest score, raw inputs, leaf weights). Args: dims.
void BM_Explain(benchmark::State& state) {
  const Trained& t = TrainedLearner(10'000, state.range(0));
  if (!t.learner->Update(t.data.features, t.labels).ok()) state.SkipWithError("update failed");
  const PoolScores snapshot(*t.learner, PoolRows::View(t.data.features));
  const Matrix rows = t.data.features.topRows(10);
  std::vector<Explanation> out;
  ExplainScratch scratch;
  for (auto _ : state) {
    if (!Explain(*snapshot.model(), snapshot.profile(), rows, 5, &out, &scratch).ok()) {
      state.SkipWithError("explain failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows.rows());
  state.SetLabel("10 rows a call, top 5");
}
BENCHMARK(BM_Explain)->Arg(32)->Arg(6)->Unit(benchmark::kMicrosecond);

// The feature profile a snapshot takes (median and MAD of a strided sample
// of at most 16384 rows). Args: rows, dims.
void BM_FeatureProfile(benchmark::State& state) {
  const Matrix rows = RandomMatrix(state.range(0), state.range(1), 5);
  for (auto _ : state) benchmark::DoNotOptimize(FeatureProfile::FromRows(rows).median(0));
}
BENCHMARK(BM_FeatureProfile)->Args({10'000, 32})->Args({1'000'000, 32})
    ->Unit(benchmark::kMicrosecond);

// The forest on rows read from a raw float32 file, for bench/vs_sklearn_forest.py:
// AADD_FOREST_DATA=FILE:FIT_ROWS:SCORE_ROWS:DIMS (the fit rows, then the
// scored rows). Registered only when the variable is set:
// BM_ForestFile/Score and BM_ForestFile/ScoreAndLeaves.
void RegisterForestFileBenchmarks() {
  const char* spec = std::getenv("AADD_FOREST_DATA");
  if (spec == nullptr) return;
  char path[4096];
  long fit_rows = 0, score_rows = 0, dims = 0;
  if (std::sscanf(spec, "%4095[^:]:%ld:%ld:%ld", path, &fit_rows, &score_rows, &dims) != 4 ||
      fit_rows <= 0 || score_rows <= 0 || dims <= 0) {
    std::fprintf(stderr, "core-bench: AADD_FOREST_DATA must be FILE:FIT_ROWS:SCORE_ROWS:DIMS\n");
    std::exit(2);
  }
  static auto* fit = new Matrix(fit_rows, dims);
  static auto* rows = new Matrix(score_rows, dims);
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr || std::fread(fit->data(), sizeof(float), fit->size(), f) != size_t(fit->size()) ||
      std::fread(rows->data(), sizeof(float), rows->size(), f) != size_t(rows->size())) {
    std::fprintf(stderr, "core-bench: cannot read %ld + %ld rows of %ld floats from %s\n",
                 fit_rows, score_rows, dims, path);
    std::exit(2);
  }
  std::fclose(f);
  static auto* forest = new IsolationForest(IsolationForestOptions{});  // 100 trees, 256 samples
  if (!forest->Fit(*fit).ok()) std::exit(2);
  benchmark::RegisterBenchmark("BM_ForestFile/Score", [](benchmark::State& state) {
    std::vector<float> out(rows->rows());
    for (auto _ : state) {
      benchmark::DoNotOptimize(forest->Score(*rows, absl::MakeSpan(out)).ok());
      benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * rows->rows());
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_ForestFile/ScoreAndLeaves", [](benchmark::State& state) {
    std::vector<float> out(rows->rows());
    std::vector<uint8_t> leaves(static_cast<size_t>(rows->rows()) * forest->num_trees());
    for (auto _ : state) {
      benchmark::DoNotOptimize(
          forest->ScoreAndLeaves(*rows, absl::MakeSpan(out), absl::MakeSpan(leaves)).ok());
      benchmark::DoNotOptimize(leaves.data());
    }
    state.SetItemsProcessed(state.iterations() * rows->rows());
  })->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace aad

int main(int argc, char** argv) {
  aad::RegisterForestFileBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// train-bench: the core's half of bench/vs_pytorch.sh. Trains (or only runs
// inference with) an aad::Autoencoder on rows read from a raw float32 file,
// the very file the PyTorch half reads, and prints one JSON line with the
// samples per second.
//
//   train-bench --data FILE.f32 --rows N --dims D --hidden H --latent L
//               --batch B --mode train|infer --threads T [--epochs E]
//
// Training is what ActiveLearner::Pretrain does per step (ZeroGrad, Forward,
// Backward of the mean squared reconstruction error, one Adam step), over
// contiguous minibatches in file order; the last partial batch is dropped,
// as PyTorch's DataLoader(drop_last=True) would. Inference runs
// Autoencoder::Infer (latent, per-feature error and score) over full blocks.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "core/detectors/autoencoder.h"
#include "core/nn/adam.h"
#include "core/util/random.h"

namespace {

struct Args {
  std::string data, mode = "train";
  long rows = 0, dims = 0, hidden = 0, latent = 0, batch = 256, epochs = 1, threads = 1;
  long warmup = 20;  // untimed steps (or blocks) first
};

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--data") a->data = v;
    else if (k == "--mode") a->mode = v;
    else if (k == "--rows") a->rows = std::atol(v);
    else if (k == "--dims") a->dims = std::atol(v);
    else if (k == "--hidden") a->hidden = std::atol(v);
    else if (k == "--latent") a->latent = std::atol(v);
    else if (k == "--batch") a->batch = std::atol(v);
    else if (k == "--epochs") a->epochs = std::atol(v);
    else if (k == "--threads") a->threads = std::atol(v);
    else if (k == "--warmup") a->warmup = std::atol(v);
    else {
      std::fprintf(stderr, "train-bench: unknown flag %s\n", k.c_str());
      return false;
    }
  }
  if (a->data.empty() || a->rows <= 0 || a->dims <= 0 || a->hidden <= 0 || a->latent <= 0 ||
      a->batch <= 0 || a->batch > a->rows || a->threads <= 0 ||
      (a->mode != "train" && a->mode != "infer")) {
    std::fprintf(stderr,
                 "usage: train-bench --data FILE.f32 --rows N --dims D --hidden H --latent L "
                 "--batch B --mode train|infer --threads T [--epochs E] [--warmup W]\n");
    return false;
  }
  return true;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) return 2;
#ifdef _OPENMP
  Eigen::setNbThreads(static_cast<int>(a.threads));
#else
  if (a.threads != 1) {
    std::fprintf(stderr, "train-bench: built without OpenMP, only --threads 1\n");
    return 2;
  }
#endif
  aad::Matrix data(a.rows, a.dims);
  FILE* f = std::fopen(a.data.c_str(), "rb");
  if (f == nullptr || std::fread(data.data(), sizeof(float), data.size(), f) !=
                          static_cast<size_t>(data.size())) {
    std::fprintf(stderr, "train-bench: cannot read %ld x %ld floats from %s\n", a.rows, a.dims,
                 a.data.c_str());
    return 1;
  }
  std::fclose(f);

  aad::Autoencoder ae(static_cast<int>(a.dims),
                      aad::AutoencoderOptions{static_cast<int>(a.hidden),
                                              static_cast<int>(a.latent),
                                              aad::Activation::kRelu});
  aad::Rng rng(42);
  ae.Initialize(data, &rng);
  const long steps = a.rows / a.batch;
  double seconds = 0, loss = 0;
  long samples = 0;
  if (a.mode == "train") {
    aad::Adam adam(ae.Parameters(), aad::AdamOptions{1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f});
    // L = mean_i s_i with s_i the row's mean squared error: torch's MSELoss.
    const aad::Vector ds = aad::Vector::Constant(a.batch, 1.0f / static_cast<float>(a.batch));
    auto step = [&](long s) {
      aad::ConstMatrixMap x(data.data() + (s % steps) * a.batch * a.dims, a.batch, a.dims);
      ae.ZeroGrad();
      const aad::DetectorOutput& out = ae.Forward(x);
      ae.Backward(nullptr, nullptr, ds);
      adam.Step();
      return out.s.mean();
    };
    for (long s = 0; s < a.warmup; ++s) step(s);
    const double t0 = Now();
    for (long e = 0; e < a.epochs; ++e) {
      for (long s = 0; s < steps; ++s) loss = step(s);
    }
    seconds = Now() - t0;
    samples = a.epochs * steps * a.batch;
  } else {
    aad::InferScratch scratch;
    aad::DetectorOutput out;
    auto block = [&](long s) {
      aad::ConstMatrixMap x(data.data() + (s % steps) * a.batch * a.dims, a.batch, a.dims);
      ae.Infer(x, &scratch, &out);
      return out.s.mean();
    };
    for (long s = 0; s < a.warmup; ++s) block(s);
    const double t0 = Now();
    for (long e = 0; e < a.epochs; ++e) {
      for (long s = 0; s < steps; ++s) loss = block(s);
    }
    seconds = Now() - t0;
    samples = a.epochs * steps * a.batch;
  }
  std::printf(
      "{\"impl\":\"core\",\"mode\":\"%s\",\"dims\":%ld,\"hidden\":%ld,\"latent\":%ld,"
      "\"batch\":%ld,\"threads\":%ld,\"samples\":%ld,\"seconds\":%.6f,\"samples_per_s\":%.1f,"
      "\"last_loss\":%.6f}\n",
      a.mode.c_str(), a.dims, a.hidden, a.latent, a.batch, a.threads, samples, seconds,
      samples / seconds, loss);
  return 0;
}

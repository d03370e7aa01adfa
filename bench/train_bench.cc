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
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
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

// Runs job(1) on a second thread while the caller runs job(0); Run()
// returns when both are done.
class HalfWorker {
 public:
  HalfWorker() : thread_([this] { Loop(); }) {}
  ~HalfWorker() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Run(const std::function<void(int)>& job) {
    {
      std::lock_guard<std::mutex> l(mu_);
      job_ = &job;
      ++generation_;
    }
    cv_.notify_all();
    job(0);
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return done_ == generation_; });
  }

 private:
  void Loop() {
    long seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      (*job)(1);
      {
        std::lock_guard<std::mutex> l(mu_);
        done_ = seen;
      }
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void(int)>* job_ = nullptr;
  long generation_ = 0, done_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// CPU seconds of the whole process: with the machine shared, samples per
// CPU-second say more about the code than samples per wall-second.
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) return 2;
  if (a.threads > 2 || (a.threads == 2 && a.batch % 2 != 0)) {
    std::fprintf(stderr, "train-bench: --threads 1 or 2 (then an even --batch)\n");
    return 2;
  }
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
  double seconds = 0, cpu_seconds = 0, loss = 0;
  long samples = 0;
  const bool two = a.threads == 2;
  std::unique_ptr<HalfWorker> worker;
  if (two) worker = std::make_unique<HalfWorker>();
  const long half = two ? a.batch / 2 : a.batch;
  auto batch_rows = [&](long s, int part) {
    return aad::ConstMatrixMap(data.data() + ((s % steps) * a.batch + part * half) * a.dims,
                               half, a.dims);
  };
  if (a.mode == "train") {
    // The replica that trains on the second half (two threads only).
    std::unique_ptr<aad::DeepDetector> replica = ae.Clone();
    std::vector<aad::Parameter> params = ae.Parameters(), rparams = replica->Parameters();
    aad::Adam adam(params, aad::AdamOptions{1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f});
    // L = mean_i s_i over the whole minibatch: torch's MSELoss.
    const aad::Vector ds = aad::Vector::Constant(half, 1.0f / static_cast<float>(a.batch));
    float half_loss[2] = {0, 0};
    long current = 0;
    const std::function<void(int)> half_step = [&](int part) {
      aad::DeepDetector* d = part == 0 ? static_cast<aad::DeepDetector*>(&ae) : replica.get();
      d->ZeroGrad();
      half_loss[part] = d->Forward(batch_rows(current, part)).s.sum() / a.batch;
      d->Backward(nullptr, nullptr, ds);
    };
    auto step = [&](long s) {
      current = s;
      if (!two) {
        half_step(0);
        adam.Step();
        return half_loss[0];
      }
      worker->Run(half_step);
      for (size_t k = 0; k < params.size(); ++k) {
        Eigen::Map<Eigen::ArrayXf>(params[k].grad, params[k].size) +=
            Eigen::Map<const Eigen::ArrayXf>(rparams[k].grad, rparams[k].size);
      }
      adam.Step();
      for (size_t k = 0; k < params.size(); ++k) {
        std::memcpy(rparams[k].value, params[k].value, params[k].size * sizeof(float));
      }
      return half_loss[0] + half_loss[1];
    };
    for (long s = 0; s < a.warmup; ++s) step(s);
    const double t0 = Now(), c0 = CpuNow();
    for (long e = 0; e < a.epochs; ++e) {
      for (long s = 0; s < steps; ++s) loss = step(s);
    }
    seconds = Now() - t0;
    cpu_seconds = CpuNow() - c0;
    samples = a.epochs * steps * a.batch;
  } else {
    aad::InferScratch scratch[2];
    aad::DetectorOutput out[2];
    long current = 0;
    const std::function<void(int)> infer = [&](int part) {
      ae.Infer(batch_rows(current, part), &scratch[part], &out[part]);
    };
    auto block = [&](long s) {
      current = s;
      if (two) {
        worker->Run(infer);
        return (out[0].s.mean() + out[1].s.mean()) / 2;
      }
      infer(0);
      return out[0].s.mean();
    };
    for (long s = 0; s < a.warmup; ++s) block(s);
    const double t0 = Now(), c0 = CpuNow();
    for (long e = 0; e < a.epochs; ++e) {
      for (long s = 0; s < steps; ++s) loss = block(s);
    }
    seconds = Now() - t0;
    cpu_seconds = CpuNow() - c0;
    samples = a.epochs * steps * a.batch;
  }
  std::printf(
      "{\"impl\":\"core\",\"mode\":\"%s\",\"dims\":%ld,\"hidden\":%ld,\"latent\":%ld,"
      "\"batch\":%ld,\"threads\":%ld,\"samples\":%ld,\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
      "\"samples_per_s\":%.1f,"
      "\"last_loss\":%.6f}\n",
      a.mode.c_str(), a.dims, a.hidden, a.latent, a.batch, a.threads, samples, seconds, cpu_seconds,
      samples / seconds, loss);
  return 0;
}

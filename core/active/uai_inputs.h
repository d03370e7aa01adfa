// What the UAI layer reads: u(x) = [z; log e; log s; forest score; x], each
// part optional, every column standardised with statistics of the session's
// data so that one prior strength suits every data set.
#ifndef AADD_CORE_ACTIVE_UAI_INPUTS_H_
#define AADD_CORE_ACTIVE_UAI_INPUTS_H_

#include "absl/status/statusor.h"
#include "core/data/standardizer.h"
#include "core/detectors/deep_detector.h"
#include "core/nn/tensor.h"
#include "core/util/byte_stream.h"

namespace aad {

// The defaults are what the evaluation picked (bench/README.md, "Regions"):
// with the leaves read, the deep detector's columns cost discoveries on data
// whose anomalies form regions (toy2, Waveform) and gained nothing
// elsewhere, so they are off by default and stay one option away.
struct UaiInputOptions {
  bool latent = false;       // z
  bool evidence = false;     // e (per-feature), as log(e + eps) when log_scale
  bool score = false;        // s, as log(s + eps) when log_scale
  bool forest = true;        // the Isolation Forest's score
  bool raw_input = true;     // the standardised row x itself
  // The forest's leaf of the row in each tree, as sparse inputs of the UAI
  // layer (its region block, LeafWeights) rather than columns of u; read
  // whenever the forest exists (forest_trees > 0).
  bool leaves = true;
  bool log_scale = true;     // log-evidence beat raw evidence in the prototype
  float log_epsilon = 1e-6f;
};

// Maps detector outputs to standardised UAI inputs. Immutable after
// FitStatistics(); Build() is const and thread-safe.
class UaiInputs {
 public:
  UaiInputs() = default;
  UaiInputs(const UaiInputOptions& options, int input_dim, int latent_dim, int evidence_dim);

  int width() const { return width_; }
  // Column of log s (or s), -1 when not read.
  int score_column() const { return score_col_; }
  // Column of the forest score, -1 when not read.
  int forest_column() const { return forest_col_; }
  // First column of the row x, of the evidence e and of the latent z (-1
  // when not read), and their widths.
  int input_column() const { return input_col_; }
  int evidence_column() const { return evidence_col_; }
  int latent_column() const { return latent_col_; }
  int input_dim() const { return input_dim_; }
  int evidence_dim() const { return evidence_dim_; }
  int latent_dim() const { return latent_dim_; }
  const UaiInputOptions& options() const { return options_; }
  // Whether a column comes from the deep detector (z, e or s). When none
  // does, a row's inputs are its standardised values and forest score
  // alone, cheap to build again whenever they are needed.
  bool reads_detector() const { return latent_col_ >= 0 || evidence_col_ >= 0 || score_col_ >= 0; }

  // Writes the raw (unstandardised) inputs of a batch into u.
  // `forest` holds one score per row, or is null when the forest is off.
  void BuildRaw(const ConstMatrixRef& x, const DetectorOutput& det, const float* forest,
                Matrix* u) const;
  // Learns the columns' means and scales from raw inputs of the pool.
  void FitStatistics(const ConstMatrixRef& u_raw) { standardizer_.Fit(u_raw); }
  // Standardises raw inputs in place.
  void Standardize(MatrixRef u) const { standardizer_.TransformInPlace(u); }
  // BuildRaw() then Standardize().
  void Build(const ConstMatrixRef& x, const DetectorOutput& det, const float* forest,
             Matrix* u) const;
  // Build() of raw rows standardised by `input`, in one pass over the rows
  // and with the same bits, for inputs that do not read the detector
  // (!reads_detector()): how a pool is rescored without a cache of u.
  void BuildFromRaw(const ConstMatrixRef& raw, const Standardizer& input, const float* forest,
                    Matrix* u) const;

  // Chain rule from dL/du (standardised) to the detector's outputs:
  // fills dz, de (zero where not read) and ds.
  void Backward(const Matrix& du, const DetectorOutput& det, Matrix* dz, Matrix* de,
                Vector* ds) const;

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<UaiInputs> Deserialize(ByteReader* in);

 private:
  void Layout();

  UaiInputOptions options_;
  int input_dim_ = 0, latent_dim_ = 0, evidence_dim_ = 0;
  int latent_col_ = -1, evidence_col_ = -1, score_col_ = -1, forest_col_ = -1, input_col_ = -1;
  int width_ = 0;
  Standardizer standardizer_;
};

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_UAI_INPUTS_H_

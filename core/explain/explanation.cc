#include "core/explain/explanation.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

// Adds the terms w_c u_c of columns [first, first + width) to contribution
// (feature j gets column first + j); returns their sum when there is no
// feature to own them (`owned` false).
double AddColumns(const Vector& w, const float* u, int first, int width, bool owned,
                  std::vector<double>* contribution) {
  double unowned = 0.0;
  for (int j = 0; j < width; ++j) {
    const double term = static_cast<double>(w[first + j]) * u[first + j];
    if (owned) {
      (*contribution)[j] += term;
    } else {
      unowned += term;
    }
  }
  return unowned;
}

}  // namespace

absl::Status Explain(const ActiveModel& model, const FeatureProfile& profile,
                     const ConstMatrixRef& rows, int top, std::vector<Explanation>* out,
                     ExplainScratch* scratch) {
  const int dims = model.input_dim();
  if (rows.cols() != dims) {
    return absl::InvalidArgumentError(
        absl::StrCat("rows have ", rows.cols(), " features, the model expects ", dims));
  }
  if (profile.dims() != dims) {
    return absl::InvalidArgumentError(absl::StrCat("the feature profile has ", profile.dims(),
                                                   " features, the model ", dims));
  }
  if (top < 0) return absl::InvalidArgumentError(absl::StrCat("top must be >= 0, got ", top));
  ExplainScratch local;
  if (scratch == nullptr) scratch = &local;
  RETURN_IF_ERROR(model.BuildInputs(rows, &scratch->score));
  const ScoreScratch& in = scratch->score;
  const UaiLayer& uai = model.uai();
  const UaiInputs& inputs = model.inputs();
  uai.Logits(in.u, in.leaves, &scratch->logits);

  const IsolationForest* forest = model.forest().get();
  const int trees = forest != nullptr ? forest->num_trees() : 0;
  const Vector& w = uai.w();
  // The autoencoder's evidence is per feature; Deep SVDD's is per latent
  // unit, which no feature owns.
  const bool evidence_per_feature = inputs.evidence_dim() == dims;
  std::vector<double>& contribution = scratch->contribution;
  std::vector<double>& tree_weights = scratch->tree_weights;
  std::vector<int>& order = scratch->order;
  const int named = std::min(top, dims);

  out->resize(rows.rows());
  for (Eigen::Index r = 0; r < rows.rows(); ++r) {
    const float* u = in.u.data() + r * in.u.cols();
    contribution.assign(dims, 0.0);
    double unowned = 0.0;
    if (inputs.input_column() >= 0) {
      AddColumns(w, u, inputs.input_column(), dims, true, &contribution);
    }
    if (inputs.evidence_column() >= 0) {
      unowned += AddColumns(w, u, inputs.evidence_column(), inputs.evidence_dim(),
                            evidence_per_feature, &contribution);
    }
    if (inputs.latent_column() >= 0) {
      unowned += AddColumns(w, u, inputs.latent_column(), inputs.latent_dim(), false,
                            &contribution);
    }
    if (const int c = inputs.score_column(); c >= 0) {
      const double term = static_cast<double>(w[c]) * u[c];
      double total = 0.0;
      if (evidence_per_feature) {
        for (int j = 0; j < dims; ++j) total += std::max(0.0f, in.det.e(r, j));
      }
      if (total > 0.0) {
        for (int j = 0; j < dims; ++j) {
          contribution[j] += term * std::max(0.0f, in.det.e(r, j)) / total;
        }
      } else {
        unowned += term;
      }
    }
    if (forest != nullptr) {
      const int c = inputs.forest_column();
      const double per_tree = c >= 0 ? static_cast<double>(w[c]) * u[c] / trees : 0.0;
      tree_weights.assign(trees, per_tree);
      if (uai.has_leaves()) {
        const LeafCode* codes = in.leaves.data() + r * trees;
        for (int t = 0; t < trees; ++t) {
          tree_weights[t] += uai.leaves().Get(t * LeafWeights::kLeavesPerTree + codes[t]);
        }
      }
      const absl::Span<const float> x(in.x.data() + r * in.x.cols(), dims);
      ASSIGN_OR_RETURN(const double path_unowned,
                       forest->AttributePaths(x, tree_weights, absl::MakeSpan(contribution)));
      unowned += path_unowned;
    }

    order.resize(dims);
    std::iota(order.begin(), order.end(), 0);
    // Largest first; ties by feature index, so the order is reproducible.
    std::partial_sort(order.begin(), order.begin() + named, order.end(), [&](int a, int b) {
      return contribution[a] != contribution[b] ? contribution[a] > contribution[b] : a < b;
    });
    Explanation& e = (*out)[r];
    e.top.resize(named);
    for (int i = 0; i < named; ++i) {
      const int f = order[i];
      e.top[i] = {f, static_cast<float>(contribution[f]), rows(r, f), profile.median(f),
                  profile.spread(f)};
    }
    double rest = 0.0;
    for (int i = named; i < dims; ++i) rest += contribution[order[i]];
    e.rest = static_cast<float>(rest);
    e.unattributed = static_cast<float>(unowned);
    e.logit = scratch->logits[r];
    e.base = uai.b();
  }
  return absl::OkStatus();
}

}  // namespace aad

#include "core/active/pool_scores.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/nn/loss.h"

namespace aad {

PoolScores::PoolScores(const ActiveLearner& learner, PoolRows pool)
    : model_(learner.model()),
      logits_(learner.shared_pool_logits()),
      unsupervised_(learner.shared_pool_unsupervised()),
      latents_(learner.model(), std::move(pool)),
      profile_(learner.profile()) {}

absl::Status PoolScores::Explain(absl::Span<const float> values, int64_t cols, int top,
                                 std::vector<Explanation>* out) const {
  if (cols <= 0 || values.size() % static_cast<size_t>(cols) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(values.size(), " values are not rows of ",
                                                   cols, " features"));
  }
  const ConstMatrixMap rows(values.data(), static_cast<Eigen::Index>(values.size() / cols),
                            static_cast<Eigen::Index>(cols));
  return aad::Explain(*model_, *profile_, rows, top, out);
}

std::vector<int64_t> PoolScores::Select(StrategyKind kind, absl::Span<const uint8_t> labelled,
                                        uint64_t seed, int64_t k) const {
  // The strategies index every span by pool row: pad or cut the mask to the
  // rows this snapshot scored (rows ingested later cannot be ranked yet).
  std::vector<uint8_t> padded;
  if (static_cast<int64_t>(labelled.size()) < rows()) {
    padded.assign(rows(), 0);
    std::copy(labelled.begin(), labelled.end(), padded.begin());
  }
  const absl::Span<const uint8_t> mask =
      padded.empty() ? labelled.subspan(0, rows()) : absl::MakeConstSpan(padded);
  QueryContext c;
  c.logits = absl::MakeConstSpan(logits_->data(), logits_->size());
  c.unsupervised = absl::MakeConstSpan(unsupervised_->data(), unsupervised_->size());
  c.labelled = mask;
  c.latents = latents_.Fn();
  c.seed = seed;
  return MakeQueryStrategy(kind)->Select(c, k);
}

absl::Status PoolScores::Lookup(absl::Span<const int64_t> rows, std::vector<float>* p,
                                std::vector<float>* logit, std::vector<float>* s) const {
  p->clear();
  logit->clear();
  s->clear();
  for (int64_t r : rows) {
    if (r < 0 || r >= this->rows()) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", r, " is outside the ", this->rows(), " scored pool rows"));
    }
    p->push_back(Sigmoid((*logits_)[r]));
    logit->push_back((*logits_)[r]);
    s->push_back((*unsupervised_)[r]);
  }
  return absl::OkStatus();
}

void PoolScores::All(std::vector<float>* p, std::vector<float>* logit,
                     std::vector<float>* s) const {
  logit->assign(logits_->data(), logits_->data() + logits_->size());
  s->assign(unsupervised_->data(), unsupervised_->data() + unsupervised_->size());
  p->resize(logit->size());
  for (size_t i = 0; i < logit->size(); ++i) (*p)[i] = Sigmoid((*logit)[i]);
}

absl::Status ScoreRows(const ActiveModel& model, absl::Span<const float> values, int64_t cols,
                       std::vector<float>* p, std::vector<float>* logit, std::vector<float>* s) {
  if (cols <= 0 || values.size() % cols != 0) {
    return absl::InvalidArgumentError(absl::StrCat(values.size(), " values do not make rows of ",
                                                   cols, " features"));
  }
  const int64_t n = static_cast<int64_t>(values.size()) / cols;
  ConstMatrixMap rows(values.data(), n, cols);
  ModelScores out;
  // One scratch per thread: scoring runs on many server threads at once.
  thread_local ScoreScratch scratch;
  absl::Status st = model.Score(rows, &out, &scratch);
  if (!st.ok()) return st;
  p->assign(out.p.data(), out.p.data() + n);
  logit->assign(out.logit.data(), out.logit.data() + n);
  s->assign(out.unsupervised.data(), out.unsupervised.data() + n);
  return absl::OkStatus();
}

}  // namespace aad

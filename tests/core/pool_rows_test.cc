// PoolRows: a pool's rows in chunks, read in place. And the learner over
// such a pool: the bits it gives over one matrix of the same rows, chunk
// boundaries and a pool growing between rounds included.
#include "core/data/pool_rows.h"

#include <cstring>
#include <memory>
#include <vector>

#include "core/active/active_learner.h"
#include "core/active/pool_latents.h"
#include "core/active/query_strategy.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_data.h"

namespace aad {
namespace {

// The first `rows` rows of m, copied into chunks of PoolRows::kChunkRows
// rows, as a session holds them.
PoolRows Chunked(const Matrix& m, int64_t rows) {
  std::vector<std::shared_ptr<const float>> chunks;
  for (int64_t r = 0; r < rows; r += PoolRows::kChunkRows) {
    std::shared_ptr<float> chunk(new float[PoolRows::kChunkRows * m.cols()],
                                 std::default_delete<float[]>());
    const int64_t n = std::min(PoolRows::kChunkRows, rows - r);
    std::memcpy(chunk.get(), m.row(r).data(), sizeof(float) * n * m.cols());
    chunks.push_back(std::move(chunk));
  }
  return PoolRows(m.cols(), std::move(chunks), rows);
}

TEST(PoolRows, AViewOfAStridedMatrixReadsEveryRowInPlace) {
  Matrix wide(PoolRows::kChunkRows + 7, 5);
  for (Eigen::Index r = 0; r < wide.rows(); ++r) {
    for (Eigen::Index c = 0; c < wide.cols(); ++c) wide(r, c) = r * 10.0f + c;
  }
  // Columns 1..3: a row is 3 floats, 5 apart.
  const PoolRows view = PoolRows::View(wide.middleCols(1, 3));
  ASSERT_EQ(view.rows(), wide.rows());
  ASSERT_EQ(view.cols(), 3);
  EXPECT_EQ(view.Row(PoolRows::kChunkRows + 6), &wide(PoolRows::kChunkRows + 6, 1));
  Matrix out(9, 3);
  view.Copy(PoolRows::kChunkRows - 2, out);
  for (Eigen::Index i = 0; i < out.rows(); ++i) {
    EXPECT_EQ(out.row(i), wide.block(PoolRows::kChunkRows - 2 + i, 1, 1, 3)) << i;
  }
  Matrix picked;
  view.Gather(std::vector<int64_t>{PoolRows::kChunkRows + 1, 0}, &picked);
  EXPECT_EQ(picked.row(0), wide.block(PoolRows::kChunkRows + 1, 1, 1, 3));
  EXPECT_EQ(picked.row(1), wide.block(0, 1, 1, 3));
  const auto block = view.Block(8, 4);
  EXPECT_EQ(block(3, 2), wide(11, 3));
}

bool Same(const Vector& a, const Vector& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

// Training, rounds over a pool that grows past a chunk boundary, and a
// restart's Adopt: chunks and one matrix give the same logits, unsupervised
// scores, profile and diverse picks, for the default inputs (rebuilt from
// the rows) and for inputs that read the detector (cached).
TEST(PoolRows, TheLearnerGivesTheSameBitsOverChunksAsOverOneMatrix) {
  const Dataset data = Clustered(3, 2 * PoolRows::kChunkRows + 517, 6);
  for (bool detector_inputs : {false, true}) {
    ActiveConfig config;
    config.pretrain_epochs = 2;
    config.hidden_units = 16;
    config.latent_units = 4;
    config.forest_trees = 20;
    config.uai_inputs.latent = config.uai_inputs.score = detector_inputs;
    auto chunked = *ActiveLearner::Create(config);
    auto whole = *ActiveLearner::Create(config);
    const int64_t first = PoolRows::kChunkRows + 300;
    ASSERT_TRUE(chunked->Train(Chunked(data.features, first), {}).ok());
    ASSERT_TRUE(whole->Train(data.features.topRows(first), {}).ok());
    ASSERT_TRUE(Same(chunked->pool_logits(), whole->pool_logits())) << detector_inputs;
    std::vector<LabelledRow> labels;
    for (int round = 0; round < 4; ++round) {
      const int64_t n = round < 2 ? first : data.rows();
      const PoolRows pool = Chunked(data.features, n);
      QueryContext c;
      c.logits = absl::MakeConstSpan(chunked->pool_logits().data(), chunked->pool_logits().size());
      c.unsupervised = absl::MakeConstSpan(chunked->pool_unsupervised().data(),
                                           chunked->pool_unsupervised().size());
      std::vector<uint8_t> labelled(chunked->pool_logits().size(), 0);
      for (const LabelledRow& l : labels) labelled[l.row] = 1;
      c.labelled = labelled;
      const PoolLatents latents(chunked->model(), Chunked(data.features, labelled.size()));
      c.latents = latents.Fn();
      QueryContext w = c;
      w.latents = LatentsOf(whole->model(), data.features);
      const auto picked = MakeQueryStrategy(StrategyKind::kDiverse)->Select(c, 3);
      ASSERT_EQ(picked, MakeQueryStrategy(StrategyKind::kDiverse)->Select(w, 3));
      for (int64_t r : picked) labels.push_back({r, data.labels[r] != 0});
      ASSERT_TRUE(chunked->Update(pool, labels).ok());
      ASSERT_TRUE(whole->Update(data.features.topRows(n), labels).ok());
      ASSERT_EQ(chunked->pool_logits().size(), n);
      ASSERT_TRUE(Same(chunked->pool_logits(), whole->pool_logits())) << round;
      ASSERT_TRUE(Same(chunked->pool_unsupervised(), whole->pool_unsupervised())) << round;
    }
    for (int f = 0; f < data.features.cols(); ++f) {
      EXPECT_EQ(chunked->profile()->median(f), whole->profile()->median(f));
      EXPECT_EQ(chunked->profile()->spread(f), whole->profile()->spread(f));
    }
    auto adopter = *ActiveLearner::Create(config);
    ASSERT_TRUE(adopter->Adopt(chunked->model(), Chunked(data.features, data.rows())).ok());
    EXPECT_TRUE(Same(adopter->pool_logits(), whole->pool_logits()));
  }
}

}  // namespace
}  // namespace aad

// Helpers shared by the format and storage tests: scratch directories and records.
#ifndef AADD_TESTS_FORMAT_RECORD_TEST_UTIL_H_
#define AADD_TESTS_FORMAT_RECORD_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"
#include "format/session_record.h"

namespace aad::testing {

// A batch whose every value is a function of (tag, row, column), so that a
// reader can check content, not just size.
inline float BatchValue(int64_t tag, int64_t row, int64_t column) {
  return static_cast<float>(tag) * 1000.0f + static_cast<float>(row % 977) +
         static_cast<float>(column) / 64.0f;
}

inline BatchRecord MakeBatch(const std::string& id, int64_t first_row, int64_t rows,
                             int64_t features, int64_t tag) {
  BatchRecord b;
  b.batch_id = id;
  b.first_row_id = first_row;
  b.row_count = rows;
  b.feature_count = features;
  b.values.resize(static_cast<size_t>(rows * features));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < features; ++c) {
      b.values[static_cast<size_t>(r * features + c)] = BatchValue(tag, r, c);
    }
  }
  return b;
}

// Options with every field away from its default, so a field dropped by the
// encoding shows up.
inline SessionOptions OddOptions() {
  SessionOptions o;
  o.config.detector = aad::DetectorKind::kDeepSvdd;
  o.config.hidden_units = 33;
  o.config.latent_units = 7;
  o.config.pretrain_epochs = 3;
  o.config.max_pretrain_rows = 123457;
  o.config.batch_size = 17;
  o.config.learning_rate = 0.1f / 3.0f;  // not exactly printable in decimal
  o.config.weight_decay = 1e-7f;
  o.config.forest_trees = 0;
  o.config.forest_sample_size = 64;
  o.config.uai_inputs.latent = true;
  o.config.uai_inputs.evidence = true;
  o.config.uai_inputs.score = true;
  o.config.uai_inputs.leaves = false;
  o.config.leaf_input_scale = 12.5f;
  o.config.uai_inputs.forest = false;
  o.config.uai_inputs.raw_input = false;
  o.config.uai_inputs.log_scale = false;
  o.config.uai_inputs.log_epsilon = 3.3e-5f;
  o.config.prior_strength = 0.25f;
  o.config.bias_prior_strength = 2e-3f;
  o.config.prior_score_weight = 1.5f;
  o.config.prior_bias = -0.75f;
  o.config.freeze_detector = false;
  o.config.finetune_steps = 9;
  o.config.label_loss_weight = 2.5f;
  o.config.max_labelled_per_step = 31;
  o.config.seed = 0xFFFFFFFFFFFFFFF1ull;  // above INT64_MAX
  o.strategy = aad::StrategyKind::kDiverse;
  o.feature_count = 4;
  o.feature_names = {"a", "with=equals", "new\nline", "tab\t\xff"};
  return o;
}

inline void ExpectOptionsEqual(const SessionOptions& a, const SessionOptions& b) {
  const aad::ActiveConfig& x = a.config;
  const aad::ActiveConfig& y = b.config;
  EXPECT_EQ(x.detector, y.detector);
  EXPECT_EQ(x.hidden_units, y.hidden_units);
  EXPECT_EQ(x.latent_units, y.latent_units);
  EXPECT_EQ(x.pretrain_epochs, y.pretrain_epochs);
  EXPECT_EQ(x.max_pretrain_rows, y.max_pretrain_rows);
  EXPECT_EQ(x.batch_size, y.batch_size);
  EXPECT_EQ(x.learning_rate, y.learning_rate);
  EXPECT_EQ(x.weight_decay, y.weight_decay);
  EXPECT_EQ(x.forest_trees, y.forest_trees);
  EXPECT_EQ(x.forest_sample_size, y.forest_sample_size);
  EXPECT_EQ(x.uai_inputs.latent, y.uai_inputs.latent);
  EXPECT_EQ(x.uai_inputs.evidence, y.uai_inputs.evidence);
  EXPECT_EQ(x.uai_inputs.score, y.uai_inputs.score);
  EXPECT_EQ(x.uai_inputs.forest, y.uai_inputs.forest);
  EXPECT_EQ(x.uai_inputs.raw_input, y.uai_inputs.raw_input);
  EXPECT_EQ(x.uai_inputs.log_scale, y.uai_inputs.log_scale);
  EXPECT_EQ(x.uai_inputs.log_epsilon, y.uai_inputs.log_epsilon);
  EXPECT_EQ(x.uai_inputs.leaves, y.uai_inputs.leaves);
  EXPECT_EQ(x.leaf_input_scale, y.leaf_input_scale);
  EXPECT_EQ(x.prior_strength, y.prior_strength);
  EXPECT_EQ(x.bias_prior_strength, y.bias_prior_strength);
  EXPECT_EQ(x.prior_score_weight, y.prior_score_weight);
  EXPECT_EQ(x.prior_bias, y.prior_bias);
  EXPECT_EQ(x.freeze_detector, y.freeze_detector);
  EXPECT_EQ(x.finetune_steps, y.finetune_steps);
  EXPECT_EQ(x.label_loss_weight, y.label_loss_weight);
  EXPECT_EQ(x.max_labelled_per_step, y.max_labelled_per_step);
  EXPECT_EQ(x.seed, y.seed);
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.feature_count, b.feature_count);
  EXPECT_EQ(a.feature_names, b.feature_names);
}

inline void ExpectBatchesEqual(const std::vector<BatchRecord>& a,
                               const std::vector<BatchRecord>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].batch_id, b[i].batch_id) << "batch " << i;
    EXPECT_EQ(a[i].first_row_id, b[i].first_row_id) << "batch " << i;
    EXPECT_EQ(a[i].row_count, b[i].row_count) << "batch " << i;
    EXPECT_EQ(a[i].feature_count, b[i].feature_count) << "batch " << i;
    EXPECT_TRUE(a[i].values == b[i].values) << "values of batch " << i << " differ";
  }
}

inline bool SameLabels(const std::vector<LabelRecord>& a, const std::vector<LabelRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].row_id != b[i].row_id || a[i].anomaly != b[i].anomaly ||
        a[i].time_micros != b[i].time_micros || a[i].withdrawn != b[i].withdrawn) {
      return false;
    }
  }
  return true;
}

}  // namespace aad::testing

#endif  // AADD_TESTS_FORMAT_RECORD_TEST_UTIL_H_

// fuzz-seeds OUT_DIR: writes each fuzz target's seed corpus (valid inputs
// the fuzzer mutates from) into OUT_DIR/<target>/: CSV files (synthetic, and
// the small shared benchmark sets when ../shared/data is there), session
// archives and options of a real session, serialised models with and
// without the forest's leaves, and request messages.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aad/v1/aad.pb.h"
#include "core/active/active_learner.h"
#include "core/data/synthetic.h"
#include "format/session_archive.h"
#include "format/session_options_codec.h"

namespace fs = std::filesystem;

namespace {

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string CsvOf(const aad::Dataset& d) {
  std::string out = "label";
  for (int j = 0; j < d.dims(); ++j) out += ",f" + std::to_string(j);
  out += "\n";
  for (int64_t i = 0; i < d.rows(); ++i) {
    out += d.labels[i] ? "anomaly" : "nominal";
    for (int j = 0; j < d.dims(); ++j) out += "," + std::to_string(d.features(i, j));
    out += "\n";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-seeds OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  aad::SyntheticOptions so;
  so.rows = 60;
  so.dims = 3;
  auto data = aad::MakeClusteredAnomalies(so);
  if (!data.ok()) return 1;

  // CSV.
  Write(out / "csv_reader", "synthetic.csv", CsvOf(*data));
  Write(out / "csv_reader", "quoted.csv", "label,\"a b\",c\nanomaly,\"1.5\",+2e3\nnominal,-0,  7 \n");
  for (const char* name : {"toy_1.csv", "toy2_1.csv"}) {
    std::ifstream in(fs::path(AADD_SHARED_DATA_DIR) / "adx" / name, std::ios::binary);
    if (in) Write(out / "csv_reader", name, std::string(std::istreambuf_iterator<char>(in), {}));
  }

  // Models, with and without leaves.
  std::vector<std::string> models;
  for (bool leaves : {true, false}) {
    aad::ActiveConfig c;
    c.pretrain_epochs = 1;
    c.hidden_units = 4;
    c.latent_units = 2;
    c.forest_trees = 4;
    c.uai_inputs.leaves = leaves;
    auto learner = aad::ActiveLearner::Create(c);
    if (!learner.ok() || !(*learner)->Train(data->features, {}).ok() ||
        !(*learner)->Update(data->features, {{0, data->labels[0] != 0}, {1, true}}).ok()) {
      return 1;
    }
    models.push_back((*learner)->model()->Serialize());
    Write(out / "model", leaves ? "leaves.model" : "dense.model", models.back());
  }

  // Options and an archive of a whole session.
  aad::SessionOptions options;
  options.feature_count = data->dims();
  options.feature_names = {"f0", "f1", "f2"};
  Write(out / "options_codec", "default.txt", aad::EncodeSessionOptions(options));
  options.config.uai_inputs.leaves = false;
  options.config.leaf_input_scale = 12.5f;
  options.strategy = aad::StrategyKind::kDiverse;
  Write(out / "options_codec", "odd.txt", aad::EncodeSessionOptions(options));
  Write(out / "options_codec", "v1.txt", "aadd-session-options 1\nhidden_units=12\n");
  aad::SessionRecord record;
  record.id = "seed";
  record.options = options;
  aad::BatchRecord batch;
  batch.batch_id = "b1";
  batch.row_count = data->rows();
  batch.feature_count = data->dims();
  batch.values.assign(data->features.data(), data->features.data() + data->features.size());
  record.batches.push_back(batch);
  record.label_history = {{0, true, 10}, {1, false, 11}, {0, false, 12}};
  record.labels = aad::CurrentLabels(record.label_history);
  record.model = aad::ModelRecord{2, 3, 13, models.front()};
  Write(out / "session_archive", "session.aads", aad::EncodeSessionArchive(record));
  record.model.reset();
  Write(out / "session_archive", "no_model.aads", aad::EncodeSessionArchive(record));

  // Requests: the first byte picks the message (request_fuzz.cc).
  aad::v1::IngestRequest ingest;
  ingest.set_batch_id("b7");
  ingest.set_feature_count(3);
  for (float v : {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}) ingest.add_values(v);
  Write(out / "request", "ingest", std::string(1, '\0') + ingest.SerializeAsString());
  aad::v1::ScoreRequest inline_rows;
  inline_rows.set_feature_count(3);
  for (float v : {0.5f, 0.5f, 9.0f}) inline_rows.add_values(v);
  Write(out / "request", "score_rows", std::string(1, '\1') + inline_rows.SerializeAsString());
  aad::v1::ScoreRequest pool_rows;
  for (int64_t id : {0, 5, 119}) pool_rows.add_row_ids(id);
  Write(out / "request", "score_ids", std::string(1, '\1') + pool_rows.SerializeAsString());
  aad::v1::SubmitLabelsRequest labels;
  auto* l = labels.add_labels();
  l->set_row_id(3);
  l->set_anomaly(true);
  Write(out / "request", "labels", std::string(1, '\2') + labels.SerializeAsString());
  return 0;
}

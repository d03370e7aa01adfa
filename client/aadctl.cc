// aadctl: the command-line client of aadd. Scriptable: `create` prints the
// new session's id alone; errors print the server's message and exit 1.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/aad_client.h"
#include "client/simulation.h"
#include "core/data/csv_reader.h"
#include "core/eval/discovery_report.h"
#include "core/eval/labelled_data.h"
#include "cli/command_line.h"
#include "format/atomic_file.h"
#include "format/session_archive.h"

ABSL_FLAG(std::string, server, "localhost:50051", "host:port of the aadd server");
ABSL_FLAG(std::string, session, "",
          "session id (every session subcommand; import: the id to give the imported session)");
ABSL_FLAG(bool, json, false,
          "machine-readable output (candidates, score, status, import, simulate)");
ABSL_FLAG(int, k, 10, "candidates: how many rows to propose");
ABSL_FLAG(std::string, strategy, "",
          "query strategy top|uncertain|diverse|random (create: the session default; "
          "candidates: this call; simulate: default top)");
ABSL_FLAG(std::string, detector, "autoencoder", "create/simulate: autoencoder | deep_svdd");
ABSL_FLAG(int, pretrain_epochs, -1, "create/simulate: unsupervised pre-training epochs (-1 = server default)");
ABSL_FLAG(bool, freeze_detector, true, "create/simulate: keep the pre-trained detector fixed");
ABSL_FLAG(bool, leaf_inputs, true,
          "create/simulate: the UAI layer reads the forest's leaves (labels move their region)");
ABSL_FLAG(float, leaf_input_scale, 0,
          "create/simulate: how cheaply labels move a region's scores (0 = server default)");
ABSL_FLAG(uint64_t, seed, 1, "create: the session seed; simulate: seed of the first run (run r uses seed + r)");
ABSL_FLAG(std::string, label_column, "label",
          "ingest/score/simulate: ground-truth column of the CSV (not ingested as a feature)");
ABSL_FLAG(std::string, anomaly_value, "anomaly", "simulate: ground-truth value that means anomaly");
ABSL_FLAG(std::string, data, "", "simulate: CSV file with a header row and a ground-truth column");
ABSL_FLAG(std::string, synthetic, "", "simulate: instead of --data, clustered | low_density");
ABSL_FLAG(int64_t, rows, 2000, "simulate: rows of synthetic data");
ABSL_FLAG(int, dims, 8, "simulate: features of synthetic data");
ABSL_FLAG(int64_t, budget, 300, "simulate: rows shown to the simulated expert");
ABSL_FLAG(int64_t, batch, 1, "simulate: rows shown per feedback round");
ABSL_FLAG(int, runs, 1, "simulate: independent runs (different seeds)");
ABSL_FLAG(int64_t, batch_rows, 4096, "ingest: rows per Ingest message");
ABSL_FLAG(bool, wait, false, "label: wait until the model includes the labels");
ABSL_FLAG(int, timeout_s, 600, "deadline of each call in seconds (train: none)");

namespace {

int Fail(const absl::Status& status) {
  std::cerr << "aadctl: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  return 1;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

absl::StatusOr<aad::v1::QueryStrategy> ParseStrategy(const std::string& name) {
  if (name.empty()) return aad::v1::QUERY_STRATEGY_UNSPECIFIED;
  if (name == "top") return aad::v1::QUERY_STRATEGY_TOP;
  if (name == "uncertain") return aad::v1::QUERY_STRATEGY_UNCERTAIN;
  if (name == "diverse") return aad::v1::QUERY_STRATEGY_DIVERSE;
  if (name == "random") return aad::v1::QUERY_STRATEGY_RANDOM;
  return absl::InvalidArgumentError(
      absl::StrCat("--strategy must be top, uncertain, diverse or random, got '", name, "'"));
}

std::string StrategyName(aad::v1::QueryStrategy s) {
  switch (s) {
    case aad::v1::QUERY_STRATEGY_UNCERTAIN: return "uncertain";
    case aad::v1::QUERY_STRATEGY_DIVERSE: return "diverse";
    case aad::v1::QUERY_STRATEGY_RANDOM: return "random";
    default: return "top";
  }
}

absl::StatusOr<aad::v1::SessionConfig> ConfigFromFlags() {
  aad::v1::SessionConfig c;
  const std::string detector = absl::GetFlag(FLAGS_detector);
  if (detector == "autoencoder") {
    c.set_detector(aad::v1::DETECTOR_KIND_AUTOENCODER);
  } else if (detector == "deep_svdd") {
    c.set_detector(aad::v1::DETECTOR_KIND_DEEP_SVDD);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--detector must be autoencoder or deep_svdd, got '", detector, "'"));
  }
  auto strategy = ParseStrategy(absl::GetFlag(FLAGS_strategy));
  if (!strategy.ok()) return strategy.status();
  c.set_strategy(*strategy);
  if (absl::GetFlag(FLAGS_pretrain_epochs) >= 0) {
    c.set_pretrain_epochs(absl::GetFlag(FLAGS_pretrain_epochs));
  }
  c.set_freeze_detector(absl::GetFlag(FLAGS_freeze_detector));
  c.set_leaf_inputs(absl::GetFlag(FLAGS_leaf_inputs));
  if (absl::GetFlag(FLAGS_leaf_input_scale) != 0) {
    c.set_leaf_input_scale(absl::GetFlag(FLAGS_leaf_input_scale));
  }
  c.set_seed(absl::GetFlag(FLAGS_seed));
  return c;
}

absl::StatusOr<aad::Dataset> ReadFeatures(const std::string& path) {
  aad::CsvOptions o;
  o.label_column = absl::GetFlag(FLAGS_label_column);
  o.require_labels = false;
  return aad::ReadCsvFile(path, o);
}

absl::StatusOr<std::string> RequireSession() {
  const std::string id = absl::GetFlag(FLAGS_session);
  if (id.empty()) return absl::InvalidArgumentError("give --session ID");
  return id;
}

const char* TrainingStateName(aad::v1::TrainingState s) {
  switch (s) {
    case aad::v1::TRAINING_STATE_IDLE: return "idle";
    case aad::v1::TRAINING_STATE_TRAINING: return "training";
    case aad::v1::TRAINING_STATE_UPDATING: return "updating";
    default: return "unknown";
  }
}

int Create(aadc::AadClient* client) {
  auto config = ConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  aad::v1::CreateSessionRequest request;
  *request.mutable_config() = *config;
  auto info = client->CreateSession(request);
  if (!info.ok()) return Fail(info.status());
  std::printf("%s\n", info->session_id().c_str());
  return 0;
}

int Ingest(aadc::AadClient* client, const std::vector<std::string>& args) {
  auto id = RequireSession();
  if (!id.ok()) return Fail(id.status());
  if (args.size() != 1) return Fail(absl::InvalidArgumentError("usage: aadctl ingest FILE.csv --session ID"));
  auto data = ReadFeatures(args[0]);
  if (!data.ok()) return Fail(data.status());
  auto reply = client->Ingest(*id, absl::MakeConstSpan(data->features.data(), data->features.size()),
                              data->dims());
  if (!reply.ok()) return Fail(reply.status());
  const int64_t first = reply->batches().empty() ? 0 : reply->batches(0).first_row_id();
  std::printf("ingested %lld rows of %lld features (row ids %lld..%lld); session holds %lld rows\n",
              static_cast<long long>(data->rows()), static_cast<long long>(data->dims()),
              static_cast<long long>(first), static_cast<long long>(first + data->rows() - 1),
              static_cast<long long>(reply->total_rows()));
  return 0;
}

int Train(aadc::AadClient* client) {
  auto id = RequireSession();
  if (!id.ok()) return Fail(id.status());
  const bool tty = isatty(STDOUT_FILENO);
  auto version = client->Train(*id, [tty](const aad::v1::TrainResponse& m) {
    if (m.done() || m.epochs() <= 0) return;
    if (tty) {
      const int width = 30;
      const int filled = width * m.epoch() / m.epochs();
      std::printf("\r[%s%s] epoch %d/%d loss %.5f %.0f rows/s", std::string(filled, '#').c_str(),
                  std::string(width - filled, ' ').c_str(), m.epoch(), m.epochs(), m.loss(),
                  m.rows_per_second());
      std::fflush(stdout);
    }
  });
  if (tty) std::printf("\n");
  if (!version.ok()) return Fail(version.status());
  std::printf("model version %lld\n", static_cast<long long>(*version));
  return 0;
}

int Candidates(aadc::AadClient* client) {
  auto id = RequireSession();
  if (!id.ok()) return Fail(id.status());
  auto strategy = ParseStrategy(absl::GetFlag(FLAGS_strategy));
  if (!strategy.ok()) return Fail(strategy.status());
  auto c = client->GetQueryCandidates(*id, absl::GetFlag(FLAGS_k), *strategy);
  if (!c.ok()) return Fail(c.status());
  if (absl::GetFlag(FLAGS_json)) {
    std::vector<std::string> items;
    for (int i = 0; i < c->row_ids_size(); ++i) {
      std::vector<std::string> f;
      for (int j = 0; j < c->feature_count(); ++j) {
        f.push_back(absl::StrFormat("%.9g", c->values(i * c->feature_count() + j)));
      }
      items.push_back(absl::StrFormat("{\"id\":%d,\"score\":%.9g,\"s\":%.9g,\"features\":[%s]}",
                                      c->row_ids(i), c->p(i), c->s(i), absl::StrJoin(f, ",")));
    }
    std::printf("{\"model_version\":%lld,\"candidates\":[%s]}\n",
                static_cast<long long>(c->model_version()), absl::StrJoin(items, ",").c_str());
  } else {
    std::printf("%10s %12s %12s   (model version %lld)\n", "id", "p", "s",
                static_cast<long long>(c->model_version()));
    for (int i = 0; i < c->row_ids_size(); ++i) {
      std::printf("%10lld %12.6f %12.6f\n", static_cast<long long>(c->row_ids(i)), c->p(i), c->s(i));
    }
  }
  return 0;
}

int Label(aadc::AadClient* client, const std::vector<std::string>& args) {
  auto id = RequireSession();
  if (!id.ok()) return Fail(id.status());
  if (args.empty()) return Fail(absl::InvalidArgumentError("usage: aadctl label ID=anomaly|nominal ... --session ID"));
  std::vector<std::pair<int64_t, bool>> labels;
  for (const std::string& a : args) {
    std::vector<std::string> parts = absl::StrSplit(a, absl::MaxSplits('=', 1));
    int64_t row = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &row) ||
        (parts[1] != "anomaly" && parts[1] != "nominal")) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("label '", a, "' is not ROW_ID=anomaly or ROW_ID=nominal")));
    }
    labels.emplace_back(row, parts[1] == "anomaly");
  }
  auto reply = client->SubmitLabels(*id, labels, absl::GetFlag(FLAGS_wait));
  if (!reply.ok()) return Fail(reply.status());
  std::printf("%lld labels stored; model version %lld%s\n", static_cast<long long>(reply->labels()),
              static_cast<long long>(reply->model_version()),
              reply->update_scheduled() ? "" : " (no model yet: train to use them)");
  return 0;
}

int Score(aadc::AadClient* client, const std::vector<std::string>& args) {
  auto id = RequireSession();
  if (!id.ok()) return Fail(id.status());
  if (args.size() != 1) return Fail(absl::InvalidArgumentError("usage: aadctl score FILE.csv --session ID"));
  auto data = ReadFeatures(args[0]);
  if (!data.ok()) return Fail(data.status());
  const int64_t per = std::max<int64_t>(1, absl::GetFlag(FLAGS_batch_rows));
  std::vector<float> p, s;
  int64_t version = 0;
  for (int64_t first = 0; first < data->rows(); first += per) {
    const int64_t len = std::min(per, data->rows() - first);
    auto reply = client->ScoreRows(
        *id, absl::MakeConstSpan(data->features.data() + first * data->dims(), len * data->dims()),
        data->dims());
    if (!reply.ok()) return Fail(reply.status());
    p.insert(p.end(), reply->p().begin(), reply->p().end());
    s.insert(s.end(), reply->s().begin(), reply->s().end());
    version = reply->model_version();
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::vector<std::string> items;
    for (size_t i = 0; i < p.size(); ++i) {
      items.push_back(absl::StrFormat("{\"row\":%d,\"p\":%.9g,\"s\":%.9g}", i, p[i], s[i]));
    }
    std::printf("{\"model_version\":%lld,\"scores\":[%s]}\n", static_cast<long long>(version),
                absl::StrJoin(items, ",").c_str());
  } else {
    std::printf("%8s %12s %12s   (model version %lld)\n", "row", "p", "s",
                static_cast<long long>(version));
    for (size_t i = 0; i < p.size(); ++i) std::printf("%8zu %12.6f %12.6f\n", i, p[i], s[i]);
  }
  return 0;
}

void PrintSession(const aad::v1::SessionInfo& s, bool json) {
  if (json) {
    std::printf(
        "{\"session_id\":%s,\"rows\":%lld,\"labels\":%lld,\"anomalies\":%lld,\"model_version\":%lld,"
        "\"model_rows\":%lld,\"feature_count\":%d,\"training_state\":\"%s\",\"last_training_error\":%s}\n",
        JsonString(s.session_id()).c_str(), static_cast<long long>(s.rows()),
        static_cast<long long>(s.labels()), static_cast<long long>(s.anomalies()),
        static_cast<long long>(s.model_version()), static_cast<long long>(s.model_rows()),
        s.feature_count(), TrainingStateName(s.training_state()),
        JsonString(s.last_training_error()).c_str());
  } else {
    std::printf("%s rows %lld labels %lld anomalies %lld model_version %lld state %s%s%s\n",
                s.session_id().c_str(), static_cast<long long>(s.rows()),
                static_cast<long long>(s.labels()), static_cast<long long>(s.anomalies()),
                static_cast<long long>(s.model_version()), TrainingStateName(s.training_state()),
                s.last_training_error().empty() ? "" : " last error: ",
                s.last_training_error().c_str());
  }
}

// aadctl export SESSION FILE (or FILE --session ID). The downloaded archive
// is checked (checksum, consistency) before it replaces FILE atomically.
int Export(aadc::AadClient* client, const std::vector<std::string>& args) {
  std::string id = absl::GetFlag(FLAGS_session);
  std::vector<std::string> rest = args;
  if (rest.size() == 2 && id.empty()) {
    id = rest.front();
    rest.erase(rest.begin());
  }
  if (id.empty() || rest.size() != 1) {
    return Fail(absl::InvalidArgumentError("usage: aadctl export SESSION FILE"));
  }
  const std::string& path = rest.front();
  auto archive = client->ExportSession(id);
  if (!archive.ok()) return Fail(archive.status());
  auto record = aadd::DecodeSessionArchive(*archive, absl::StrCat("export of session ", id));
  if (!record.ok()) return Fail(record.status());
  absl::Status written = aadd::WriteFileAtomically(path, *archive);
  if (!written.ok()) return Fail(written);
  std::printf("exported session %s to %s: %lld rows, %zu labels (history of %zu verdicts), model "
              "version %lld, %zu bytes\n",
              id.c_str(), path.c_str(), static_cast<long long>(record->row_count()),
              record->labels.size(), record->label_history.size(),
              static_cast<long long>(record->model ? record->model->version : 0),
              archive->size());
  return 0;
}

// aadctl import FILE [--session NEW_ID]. The file is checked here first, so
// a damaged file fails before any upload, naming the file.
int Import(aadc::AadClient* client, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return Fail(absl::InvalidArgumentError("usage: aadctl import FILE [--session NEW_ID]"));
  }
  const std::string& path = args.front();
  auto archive = aadd::ReadWholeFile(path);
  if (!archive.ok()) return Fail(archive.status());
  auto record = aadd::DecodeSessionArchive(*archive, path);
  if (!record.ok()) return Fail(record.status());
  // The id travels as x-session-id too, so a session-affine proxy imports
  // the session on the replica that will serve it.
  std::string id = absl::GetFlag(FLAGS_session);
  if (id.empty()) id = record->id;
  auto info = client->ImportSession(*archive, id);
  if (!info.ok()) {
    return Fail(absl::Status(info.status().code(),
                             absl::StrCat("import of ", path, ": ", info.status().message())));
  }
  if (absl::GetFlag(FLAGS_json)) {
    PrintSession(*info, true);
  } else {
    std::printf("imported %s as session %s: %lld rows, %lld labels, model version %lld\n",
                path.c_str(), info->session_id().c_str(), static_cast<long long>(info->rows()),
                static_cast<long long>(info->labels()),
                static_cast<long long>(info->model_version()));
  }
  return 0;
}

int Simulate(aadc::AadClient* client) {
  auto config = ConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  auto strategy = ParseStrategy(absl::GetFlag(FLAGS_strategy));
  if (!strategy.ok()) return Fail(strategy.status());
  if (*strategy == aad::v1::QUERY_STRATEGY_UNSPECIFIED) *strategy = aad::v1::QUERY_STRATEGY_TOP;
  const int64_t budget = absl::GetFlag(FLAGS_budget);
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  const int runs = absl::GetFlag(FLAGS_runs);
  if (runs < 1) return Fail(absl::InvalidArgumentError(absl::StrCat("--runs must be >= 1, got ", runs)));
  const bool json = absl::GetFlag(FLAGS_json);
  aad::LabelledDataSource source;
  source.csv_path = absl::GetFlag(FLAGS_data);
  source.synthetic = absl::GetFlag(FLAGS_synthetic);
  source.label_column = absl::GetFlag(FLAGS_label_column);
  source.anomaly_value = absl::GetFlag(FLAGS_anomaly_value);
  source.rows = absl::GetFlag(FLAGS_rows);
  source.dims = absl::GetFlag(FLAGS_dims);
  aad::ReportHeader header;
  header.dataset = aad::LabelledDataName(source);
  header.budget = budget;
  header.batch = batch;
  header.detector = absl::GetFlag(FLAGS_detector);
  header.strategy = StrategyName(*strategy);
  std::vector<aad::DiscoveryReport> reports;
  for (int r = 0; r < runs; ++r) {
    const uint64_t seed = absl::GetFlag(FLAGS_seed) + r;
    auto data = aad::LoadLabelledData(source, seed);
    if (!data.ok()) return Fail(data.status());
    header.rows = data->rows();
    header.anomalies = data->anomaly_count();
    aadc::SimulationOptions o;
    o.budget = budget;
    o.batch = batch;
    o.strategy = *strategy;
    o.config = *config;
    o.seed = seed;
    auto result = aadc::RunSimulation(client, *data, o);
    if (!result.ok()) return Fail(result.status());
    reports.push_back(result->report);
    std::fputs(aad::FormatRun(header, r, reports.back(), json).c_str(), stdout);
    std::fflush(stdout);
  }
  std::fputs(aad::FormatSummary(header, reports, json).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  aad::ShowFlagsOfFileInHelp("/aadctl.cc");
  absl::SetProgramUsageMessage(
      "Command-line client of aadd.\n"
      "  aadctl create [--detector autoencoder|deep_svdd] [--strategy S] [--seed S]   prints the id\n"
      "  aadctl ingest FILE.csv --session ID [--label-column label]\n"
      "  aadctl train --session ID\n"
      "  aadctl candidates -k N --session ID [--strategy S] [--json]\n"
      "  aadctl label ROW_ID=anomaly|nominal ... --session ID [--wait]\n"
      "  aadctl score FILE.csv --session ID [--json]\n"
      "  aadctl status --session ID [--json]\n"
      "  aadctl sessions | delete --session ID | health\n"
      "  aadctl export SESSION FILE        the session (rows, labels, model) as one file\n"
      "  aadctl import FILE [--session NEW_ID]   recreates it, here or on another server\n"
      "  aadctl simulate --data FILE.csv [--label-column label] [--anomaly-value anomaly]\n"
      "                  --budget B [--strategy S] [--seed S] [--runs R] [--json]\n"
      "  aadctl simulate --synthetic clustered|low_density --rows N --dims D --budget B ...\n"
      "Every subcommand takes --server host:port (default localhost:50051).");
  std::vector<std::string> storage;
  std::vector<char*> args = aad::NormaliseFlagNames(argc, argv, &storage);
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() < 2) {
    std::cerr << "aadctl: give a subcommand (aadctl --help lists them)\n";
    return 2;
  }
  const std::string command = positional[1];
  std::vector<std::string> rest(positional.begin() + 2, positional.end());
  aadc::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_server);
  options.timeout = std::chrono::seconds(absl::GetFlag(FLAGS_timeout_s));
  options.ingest_batch_rows = absl::GetFlag(FLAGS_batch_rows);
  aadc::AadClient client(options);

  if (command == "create") return Create(&client);
  if (command == "ingest") return Ingest(&client, rest);
  if (command == "train") return Train(&client);
  if (command == "candidates") return Candidates(&client);
  if (command == "label") return Label(&client, rest);
  if (command == "score") return Score(&client, rest);
  if (command == "simulate") return Simulate(&client);
  if (command == "export") return Export(&client, rest);
  if (command == "import") return Import(&client, rest);
  if (command == "status") {
    auto id = RequireSession();
    if (!id.ok()) return Fail(id.status());
    auto s = client.GetSession(*id);
    if (!s.ok()) return Fail(s.status());
    PrintSession(*s, absl::GetFlag(FLAGS_json));
    return 0;
  }
  if (command == "sessions") {
    auto all = client.ListSessions();
    if (!all.ok()) return Fail(all.status());
    for (const auto& s : *all) PrintSession(s, absl::GetFlag(FLAGS_json));
    return 0;
  }
  if (command == "delete") {
    auto id = RequireSession();
    if (!id.ok()) return Fail(id.status());
    absl::Status st = client.DeleteSession(*id);
    if (!st.ok()) return Fail(st);
    std::printf("deleted %s\n", id->c_str());
    return 0;
  }
  if (command == "health") {
    auto h = client.Health();
    if (!h.ok()) return Fail(h.status());
    std::printf("%s\n", h->c_str());
    return *h == "SERVING" ? 0 : 1;
  }
  std::cerr << "aadctl: unknown subcommand '" << command << "' (aadctl --help lists them)\n";
  return 2;
}

#include "client/aadctl_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/aadctl_flags.h"
#include "client/aadctl_output.h"
#include "client/csv_ingest.h"
#include "client/enum_names.h"
#include "client/simulation.h"
#include "core/data/csv_reader.h"
#include "core/eval/discovery_report.h"
#include "core/eval/labelled_data.h"
#include "format/atomic_file.h"
#include "format/session_archive.h"

namespace aad {
namespace {

// --strategy: empty means the session's default.
absl::StatusOr<aad::v1::QueryStrategy> StrategyFromFlag() {
  const std::string name = absl::GetFlag(FLAGS_strategy);
  if (name.empty()) return aad::v1::QUERY_STRATEGY_UNSPECIFIED;
  auto value = ParseEnumShortName(aad::v1::QueryStrategy_descriptor(), name, "--strategy");
  if (!value.ok()) return value.status();
  return static_cast<aad::v1::QueryStrategy>(*value);
}

absl::StatusOr<aad::v1::SessionConfig> ConfigFromFlags() {
  aad::v1::SessionConfig c;
  auto detector = ParseEnumShortName(aad::v1::DetectorKind_descriptor(),
                                     absl::GetFlag(FLAGS_detector), "--detector");
  if (!detector.ok()) return detector.status();
  c.set_detector(static_cast<aad::v1::DetectorKind>(*detector));
  auto strategy = StrategyFromFlag();
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

int Usage(const char* usage) { return PrintError(absl::InvalidArgumentError(usage)); }

int Create(AadClient* client, const CommandArgs&) {
  auto config = ConfigFromFlags();
  if (!config.ok()) return PrintError(config.status());
  aad::v1::CreateSessionRequest request;
  *request.mutable_config() = *config;
  // --session names the new session; without it the server picks the id.
  request.set_session_id(absl::GetFlag(FLAGS_session));
  auto info = client->CreateSession(request);
  if (!info.ok()) return PrintError(info.status());
  std::printf("%s\n", info->session_id().c_str());
  return 0;
}

int Ingest(AadClient* client, const CommandArgs& args) {
  auto id = RequireSession();
  if (!id.ok()) return PrintError(id.status());
  if (args.size() != 1) return Usage("usage: aadctl ingest FILE.csv --session ID");
  aad::CsvOptions csv;
  csv.label_column = absl::GetFlag(FLAGS_label_column);
  // The file is parsed a chunk at a time while the chunk before is sent;
  // the header's names go with the rows, so that candidates, explanations
  // and status name the columns.
  CsvIngestResult result;
  const absl::Status status = IngestCsvFile(client, *id, args[0], csv, &result);
  if (result.header_is_numbers) {
    std::fprintf(stderr,
                 "aadctl: warning: the first line of %s holds numbers only: read as a header "
                 "(that row is not ingested), and not sent as feature names\n",
                 args[0].c_str());
  }
  if (result.rows > 0) {
    // Also before an error later in the file: those rows are stored.
    const int64_t first = result.reply.batches(0).first_row_id();
    std::printf(
        "ingested %lld rows of %lld features (row ids %lld..%lld)%s; session holds %lld rows\n",
        static_cast<long long>(result.rows), static_cast<long long>(result.dims),
        static_cast<long long>(first), static_cast<long long>(first + result.rows - 1),
        status.ok() ? "" : " before the error below",
        static_cast<long long>(result.reply.total_rows()));
    std::fflush(stdout);
  }
  return status.ok() ? 0 : PrintError(status);
}

int Train(AadClient* client, const CommandArgs&) {
  auto id = RequireSession();
  if (!id.ok()) return PrintError(id.status());
  const bool tty = isatty(STDOUT_FILENO);
  auto version = client->Train(*id, [tty](const aad::v1::TrainResponse& m) {
    if (m.done() || m.epochs() <= 0 || !tty) return;
    const int width = 30;
    const int filled = width * m.epoch() / m.epochs();
    std::printf("\r[%s%s] epoch %d/%d loss %.5f %.0f rows/s", std::string(filled, '#').c_str(),
                std::string(width - filled, ' ').c_str(), m.epoch(), m.epochs(), m.loss(),
                m.rows_per_second());
    std::fflush(stdout);
  });
  if (tty) std::printf("\n");
  if (!version.ok()) return PrintError(version.status());
  std::printf("model version %lld\n", static_cast<long long>(*version));
  return 0;
}

int Candidates(AadClient* client, const CommandArgs&) {
  auto id = RequireSession();
  if (!id.ok()) return PrintError(id.status());
  auto strategy = StrategyFromFlag();
  if (!strategy.ok()) return PrintError(strategy.status());
  auto c = client->GetQueryCandidates(*id, absl::GetFlag(FLAGS_k), *strategy, std::nullopt,
                                      absl::GetFlag(FLAGS_explain_top));
  if (!c.ok()) return PrintError(c.status());
  std::fputs(FormatCandidates(*c, absl::GetFlag(FLAGS_json)).c_str(), stdout);
  return 0;
}

int Label(AadClient* client, const CommandArgs& args) {
  auto id = RequireSession();
  if (!id.ok()) return PrintError(id.status());
  if (args.empty()) {
    return Usage("usage: aadctl label ID=anomaly|nominal|withdraw ... --session ID");
  }
  std::vector<aad::v1::Label> labels;
  for (const std::string& a : args) {
    std::vector<std::string> parts = absl::StrSplit(a, absl::MaxSplits('=', 1));
    int64_t row = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &row) ||
        (parts[1] != "anomaly" && parts[1] != "nominal" && parts[1] != "withdraw")) {
      return PrintError(absl::InvalidArgumentError(absl::StrCat(
          "label '", a, "' is not ROW_ID=anomaly, ROW_ID=nominal or ROW_ID=withdraw")));
    }
    aad::v1::Label& label = labels.emplace_back();
    label.set_row_id(row);
    label.set_anomaly(parts[1] == "anomaly");
    label.set_withdraw(parts[1] == "withdraw");  // undo: the row is unlabelled again
  }
  auto reply = client->SubmitLabelMessages(*id, labels, absl::GetFlag(FLAGS_wait));
  if (!reply.ok()) return PrintError(reply.status());
  std::printf("%lld labels stored; model version %lld%s\n", static_cast<long long>(reply->labels()),
              static_cast<long long>(reply->model_version()),
              reply->update_scheduled() ? "" : " (no model yet: train to use them)");
  return 0;
}

int Score(AadClient* client, const CommandArgs& args) {
  auto id = RequireSession();
  if (!id.ok()) return PrintError(id.status());
  if (args.size() != 1) return Usage("usage: aadctl score FILE.csv --session ID");
  auto data = ReadFeatures(args[0]);
  if (!data.ok()) return PrintError(data.status());
  const int64_t per = std::max<int64_t>(1, absl::GetFlag(FLAGS_batch_rows));
  std::vector<float> p, s;
  int64_t version = 0;
  for (int64_t first = 0; first < data->rows(); first += per) {
    const int64_t len = std::min(per, data->rows() - first);
    auto reply = client->ScoreRows(
        *id, absl::MakeConstSpan(data->features.data() + first * data->dims(), len * data->dims()),
        data->dims());
    if (!reply.ok()) return PrintError(reply.status());
    p.insert(p.end(), reply->p().begin(), reply->p().end());
    s.insert(s.end(), reply->s().begin(), reply->s().end());
    version = reply->model_version();
  }
  std::fputs(FormatScores(p, s, version, absl::GetFlag(FLAGS_json)).c_str(), stdout);
  return 0;
}

int Status(AadClient* client, const CommandArgs&) {
  auto id = RequireSession();
  if (!id.ok()) return PrintError(id.status());
  auto s = client->GetSession(*id);
  if (!s.ok()) return PrintError(s.status());
  std::fputs(FormatSession(*s, absl::GetFlag(FLAGS_json)).c_str(), stdout);
  return 0;
}

int Sessions(AadClient* client, const CommandArgs&) {
  auto all = client->ListSessions();
  if (!all.ok()) return PrintError(all.status());
  for (const auto& s : *all) std::fputs(FormatSession(s, absl::GetFlag(FLAGS_json)).c_str(), stdout);
  return 0;
}

int Delete(AadClient* client, const CommandArgs&) {
  auto id = RequireSession();
  if (!id.ok()) return PrintError(id.status());
  absl::Status st = client->DeleteSession(*id);
  if (!st.ok()) return PrintError(st);
  std::printf("deleted %s\n", id->c_str());
  return 0;
}

int Health(AadClient* client, const CommandArgs&) {
  auto h = client->Health();
  if (!h.ok()) return PrintError(h.status());
  std::printf("%s\n", h->c_str());
  return *h == "SERVING" ? 0 : 1;
}

// aadctl export SESSION FILE (or FILE --session ID). The downloaded archive
// is checked (checksum, consistency) before it replaces FILE atomically.
int Export(AadClient* client, const CommandArgs& args) {
  std::string id = absl::GetFlag(FLAGS_session);
  std::vector<std::string> rest = args;
  if (rest.size() == 2 && id.empty()) {
    id = rest.front();
    rest.erase(rest.begin());
  }
  if (id.empty() || rest.size() != 1) return Usage("usage: aadctl export SESSION FILE");
  const std::string& path = rest.front();
  auto archive = client->ExportSession(id);
  if (!archive.ok()) return PrintError(archive.status());
  auto record = aad::DecodeSessionArchive(*archive, absl::StrCat("export of session ", id));
  if (!record.ok()) return PrintError(record.status());
  absl::Status written = aad::WriteFileAtomically(path, *archive);
  if (!written.ok()) return PrintError(written);
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
int Import(AadClient* client, const CommandArgs& args) {
  if (args.size() != 1) return Usage("usage: aadctl import FILE [--session NEW_ID]");
  const std::string& path = args.front();
  auto archive = aad::ReadWholeFile(path);
  if (!archive.ok()) return PrintError(archive.status());
  auto record = aad::DecodeSessionArchive(*archive, path);
  if (!record.ok()) return PrintError(record.status());
  // The id travels as x-session-id too, so a session-affine proxy imports
  // the session on the replica that will serve it.
  std::string id = absl::GetFlag(FLAGS_session);
  if (id.empty()) id = record->id;
  auto info = client->ImportSession(*archive, id);
  if (!info.ok()) {
    return PrintError(absl::Status(info.status().code(),
                                   absl::StrCat("import of ", path, ": ", info.status().message())));
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::fputs(FormatSession(*info, true).c_str(), stdout);
  } else {
    std::printf("imported %s as session %s: %lld rows, %lld labels, model version %lld\n",
                path.c_str(), info->session_id().c_str(), static_cast<long long>(info->rows()),
                static_cast<long long>(info->labels()),
                static_cast<long long>(info->model_version()));
  }
  return 0;
}

int Simulate(AadClient* client, const CommandArgs&) {
  auto config = ConfigFromFlags();
  if (!config.ok()) return PrintError(config.status());
  aad::v1::QueryStrategy strategy = config->strategy();
  if (strategy == aad::v1::QUERY_STRATEGY_UNSPECIFIED) strategy = aad::v1::QUERY_STRATEGY_TOP;
  const int runs = absl::GetFlag(FLAGS_runs);
  if (runs < 1) {
    return PrintError(absl::InvalidArgumentError(absl::StrCat("--runs must be >= 1, got ", runs)));
  }
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
  header.budget = absl::GetFlag(FLAGS_budget);
  header.batch = absl::GetFlag(FLAGS_batch);
  header.detector = absl::GetFlag(FLAGS_detector);
  header.strategy = EnumShortName(aad::v1::QueryStrategy_descriptor(), strategy);
  std::vector<aad::DiscoveryReport> reports;
  for (int r = 0; r < runs; ++r) {
    const uint64_t seed = absl::GetFlag(FLAGS_seed) + r;
    auto data = aad::LoadLabelledData(source, seed);
    if (!data.ok()) return PrintError(data.status());
    header.rows = data->rows();
    header.anomalies = data->anomaly_count();
    SimulationOptions o;
    o.budget = header.budget;
    o.batch = header.batch;
    o.strategy = strategy;
    o.config = *config;
    o.seed = seed;
    auto result = RunSimulation(client, *data, o);
    if (!result.ok()) return PrintError(result.status());
    reports.push_back(result->report);
    std::fputs(aad::FormatRun(header, r, reports.back(), json).c_str(), stdout);
    std::fflush(stdout);
  }
  std::fputs(aad::FormatSummary(header, reports, json).c_str(), stdout);
  return 0;
}

}  // namespace

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"create", Create},     {"ingest", Ingest},     {"train", Train},
      {"candidates", Candidates}, {"label", Label},   {"score", Score},
      {"status", Status},     {"sessions", Sessions}, {"delete", Delete},
      {"health", Health},     {"export", Export},     {"import", Import},
      {"simulate", Simulate},
  };
  return *commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace aad

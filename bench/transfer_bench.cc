// transfer_bench: moving a session between two servers, as `aadctl export`
// and `aadctl import` do (bench/README.md, "Durable store"). Two aadd
// servers run in-process, each on its own SQLite store in a temporary
// directory, with a loopback client. A session of --rows x --features
// synthetic rows (batches of 4096) is trained on A, then timed:
//   export  A's ExportSession: one snapshot read from the store, encoded,
//           streamed in 1 MiB chunks, joined by the client;
//   import  B's ImportSession: the chunks streamed, the archive decoded and
//           checked, stored in one fsync'd transaction, the session rebuilt
//           (the model re-scores the whole pool).
//   restart B stopped and started again on its store: the open, the load of
//           the session (--copies of it) and the rebuild, until the server
//           listens (what a restart of aadd costs per 1 M-row session);
//           sessions are rebuilt on --restore_threads threads.
// The imported session's pool scores are checked bit-identical to A's, after
// the import and again after the restart.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "core/data/synthetic.h"
#include "server/log.h"
#include "server/server.h"
#include "server/storage/sqlite_session_store.h"

ABSL_FLAG(int64_t, rows, 1 << 20, "rows of the session moved");
ABSL_FLAG(int, features, 32, "features per row");
ABSL_FLAG(std::string, dir, "", "where the two stores go (default: a new temporary directory)");
ABSL_FLAG(int, copies, 1,
          "B imports the archive this many times (ids moving, moving-2, ...) before its restart");
ABSL_FLAG(int, restore_threads, 2,
          "--training_threads of B's restart: sessions are rebuilt on this many threads");
ABSL_FLAG(bool, log, false, "keep the servers' logs (the import's phases: decode, store, rebuild)");

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "transfer_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

struct Replica {
  std::unique_ptr<aad::SqliteSessionStore> store;
  std::unique_ptr<aad::AaddServer> server;
  std::unique_ptr<aad::AadClient> client;
};

absl::Status StartReplica(const std::string& dir, int threads, Replica* r) {
  auto store = aad::SqliteSessionStore::Open(dir);
  if (!store.ok()) return store.status();
  r->store = *std::move(store);
  aad::ServerOptions options;
  options.address = "127.0.0.1:0";
  options.sessions.store = r->store.get();
  options.sessions.training_threads = threads;
  auto server = aad::AaddServer::Start(options);
  if (!server.ok()) return server.status();
  r->server = *std::move(server);
  aad::ClientOptions co;
  co.target = absl::StrCat("127.0.0.1:", r->server->port());
  co.timeout = std::chrono::seconds(600);
  r->client = std::make_unique<aad::AadClient>(co);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  aad::SetLoggingEnabled(absl::GetFlag(FLAGS_log));
  std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    dir = (std::filesystem::temp_directory_path() / "aadd-transfer-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) return std::perror("mkdtemp"), 1;
  }
  aad::SyntheticOptions so;
  so.rows = absl::GetFlag(FLAGS_rows);
  so.dims = absl::GetFlag(FLAGS_features);
  auto data = aad::MakeLowDensityAnomalies(so);
  if (!data.ok()) return Fail("data", data.status());

  Replica a, b;
  if (auto s = StartReplica(dir + "/a", 1, &a); !s.ok()) return Fail("replica A", s);
  if (auto s = StartReplica(dir + "/b", 1, &b); !s.ok()) return Fail("replica B", s);

  // The session: ingested, trained (a short pre-training: its length does
  // not change what moves), ten labels.
  aad::v1::CreateSessionRequest create;
  create.set_session_id("moving");
  create.mutable_config()->set_pretrain_epochs(1);
  create.mutable_config()->set_max_pretrain_rows(65536);
  create.mutable_config()->set_seed(1);
  if (auto info = a.client->CreateSession(create); !info.ok()) return Fail("create", info.status());
  const auto values = absl::MakeConstSpan(data->features.data(), data->features.size());
  if (auto r = a.client->Ingest("moving", values, data->dims()); !r.ok()) {
    return Fail("ingest", r.status());
  }
  if (auto r = a.client->Train("moving"); !r.ok()) return Fail("train", r.status());
  auto top = a.client->GetQueryCandidates("moving", 10);
  if (!top.ok()) return Fail("candidates", top.status());
  std::vector<std::pair<int64_t, bool>> labels;
  for (int64_t id : top->row_ids()) labels.push_back({id, data->labels[id] == 1});
  if (auto r = a.client->SubmitLabels("moving", labels, true); !r.ok()) {
    return Fail("labels", r.status());
  }

  const auto export_start = Clock::now();
  auto archive = a.client->ExportSession("moving");
  const double export_s = Seconds(export_start);
  if (!archive.ok()) return Fail("export", archive.status());
  const auto import_start = Clock::now();
  auto imported = b.client->ImportSession(*archive, "moving");
  const double import_s = Seconds(import_start);
  if (!imported.ok()) return Fail("import", imported.status());

  // Same scores, bit for bit, over the whole pool.
  std::vector<int64_t> ids(data->rows());
  for (int64_t i = 0; i < data->rows(); ++i) ids[i] = i;
  auto before = a.client->ScorePoolRows("moving", ids);
  auto after = b.client->ScorePoolRows("moving", ids);
  if (!before.ok() || !after.ok()) return Fail("score", before.ok() ? after.status() : before.status());
  auto same = [&](const aad::v1::ScoreResponse& other) {
    return before->p_size() == other.p_size() &&
           std::memcmp(before->p().data(), other.p().data(), sizeof(float) * before->p_size()) ==
               0 &&
           before->model_version() == other.model_version();
  };
  if (!same(*after)) {
    return Fail("check", absl::InternalError("the imported session scores differently"));
  }
  const int copies = absl::GetFlag(FLAGS_copies);
  for (int c = 2; c <= copies; ++c) {
    if (auto r = b.client->ImportSession(*archive, absl::StrCat("moving-", c)); !r.ok()) {
      return Fail("import of a copy", r.status());
    }
  }

  b.client.reset();
  b.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  b.server.reset();
  b.store.reset();
  const auto restart_start = Clock::now();
  if (auto s = StartReplica(dir + "/b", absl::GetFlag(FLAGS_restore_threads), &b); !s.ok()) {
    return Fail("restart of B", s);
  }
  const double restart_s = Seconds(restart_start);
  auto restarted = b.client->ScorePoolRows("moving", ids);
  if (!restarted.ok()) return Fail("score after restart", restarted.status());
  if (!same(*restarted)) {
    return Fail("check", absl::InternalError("the restarted session scores differently"));
  }

  const double mib = static_cast<double>(archive->size()) / (1 << 20);
  std::printf("session: %lld rows x %d features, %d labels, model version %lld\n",
              static_cast<long long>(imported->rows()), imported->feature_count(),
              static_cast<int>(imported->labels()),
              static_cast<long long>(imported->model_version()));
  std::printf("archive: %.1f MiB\n", mib);
  std::printf("export (store snapshot + encode + stream): %.2f s, %.0f MiB/s\n", export_s,
              mib / export_s);
  std::printf("import (stream + decode + store + rebuild): %.2f s, %.0f MiB/s\n", import_s,
              mib / import_s);
  std::printf("restart of B with %d such sessions on %d threads (open + load + rebuild, until "
              "it listens): %.2f s\n",
              copies, absl::GetFlag(FLAGS_restore_threads), restart_s);
  std::printf("pool scores of all %lld rows bit-identical on A, B, and B after its restart\n",
              static_cast<long long>(data->rows()));
  for (Replica* r : {&a, &b}) {
    r->client.reset();
    r->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    r->server.reset();
  }
  if (absl::GetFlag(FLAGS_dir).empty()) std::filesystem::remove_all(dir);
  return 0;
}

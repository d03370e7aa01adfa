// Several aadd replicas on one shared PostgreSQL store (issue 15): a real
// PostgreSQL 15 (tests/testing/postgres_server.h), real aadd processes
// (aadd_process.h) and Debian's nginx with the shipped deploy/nginx/aadd.conf
// (nginx_proxy.h), driven through the C++ client, which sends x-session-id.
//
//  - Failover: sessions spread over three replicas through nginx; a
//    labelling loop on all of them; the replica holding the most is
//    SIGKILLed in its middle, while one of its sessions ingests and labels
//    on a thread of its own. Its sessions answer UNAVAILABLE until their
//    leases lapse, then a survivor takes each over with every acknowledged
//    row and label present exactly once and bit-identical scores. The
//    killed replica restarts (same --replica_id, a new owner), nginx sends
//    its sessions back to it, the survivors hand them over, and nothing is
//    clobbered.
//  - Fencing: a replica paused (SIGSTOP) past its lease wakes up after
//    another took its session over and wrote to it; its write is refused
//    naming the new holder, and the store holds the survivor's write only.
//
// Which replica holds a session is read from the replicas' logs ("created",
// "took over"), never by asking a replica directly: a call to a non-holder
// would take the session over. Its own binary, labelled slow (about 20 s
// on the 2-core machine: leases of 3 s lapse several times).
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/nginx_proxy.h"
#include "tests/integration/session_observation.h"
#include "tests/testing/postgres_server.h"

namespace aad::testing {
namespace {

using Clock = std::chrono::steady_clock;

// 3 s: at a kill, at least 2 s of the lease are left (renewals every 1 s),
// for the checks that the dead holder's sessions are refused first, even
// on a loaded CI machine.
constexpr int kLeaseSeconds = 3;
// Ample for a lease of 3 s to lapse and a small session to load.
constexpr std::chrono::seconds kTakeoverDeadline{60};

std::string ReplicaName(int r) { return absl::StrCat("r", r); }

std::vector<std::string> ReplicaArgs(const std::string& uri, int r, int port = 0) {
  return {absl::StrCat("--store=", uri),
          absl::StrCat("--replica_id=", ReplicaName(r)),
          absl::StrCat("--lease_seconds=", kLeaseSeconds),
          absl::StrCat("--port=", port),
          "--http_port=0",
          "--drain_seconds=0",
          "--training_threads=1"};
}

std::unique_ptr<AaddProcess> StartReplica(const std::string& uri, int r, int port = 0) {
  auto process = std::make_unique<AaddProcess>();
  const absl::Status started = process->Start(AADD_BINARY, ReplicaArgs(uri, r, port));
  EXPECT_TRUE(started.ok()) << "replica " << ReplicaName(r) << ": " << started;
  return started.ok() ? std::move(process) : nullptr;
}

// A client that does not retry by itself, so the test sees every answer.
std::unique_ptr<AadClient> ClientOf(const std::string& target) {
  ClientOptions options;
  options.target = target;
  options.timeout = std::chrono::seconds(60);
  options.max_attempts = 1;
  return std::make_unique<AadClient>(options);
}

// True when `log` says this replica gained `session` ("created" or "took
// over") after it last let it go ("released").
bool LogSaysHolds(const std::string& log, const std::string& session) {
  const std::string tag = absl::StrCat("[session ", session, "] ");
  size_t gained = std::string::npos, released = std::string::npos;
  for (const char* event : {"created", "took over"}) {
    const size_t at = log.rfind(tag + event);
    if (at != std::string::npos && (gained == std::string::npos || at > gained)) gained = at;
  }
  released = log.rfind(tag + "released");
  return gained != std::string::npos && (released == std::string::npos || released < gained);
}

// The last line of `log` containing `text`; "" when none does.
std::string LastLineWith(const std::string& log, const std::string& text) {
  const size_t at = log.rfind(text);
  if (at == std::string::npos) return "";
  const size_t newline = log.rfind('\n', at);
  const size_t begin = newline == std::string::npos ? 0 : newline + 1;
  const size_t end = log.find('\n', at);
  return log.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// True when `line` has `phrase` followed by an owner of replica `name`
// ("NAME#xxxx", the process's random suffix after the --replica_id).
bool LineNames(const std::string& line, const std::string& phrase, const std::string& name) {
  const size_t at = line.find(phrase);
  return at != std::string::npos && line.find(name + "#", at) != std::string::npos;
}
bool Names(const absl::Status& status, const std::string& phrase, const std::string& name) {
  return LineNames(std::string(status.message()), phrase, name);
}

// Runs `call` while it answers UNAVAILABLE (held elsewhere, being taken
// over, a proxy between upstreams), until `deadline`; the first error it
// gave (OK when none) in *first_error. Any other error ends it at once.
// Polling a condition, not sleeping on time.
template <typename Call>
absl::Status PollUntilOk(Call call, Clock::time_point deadline, absl::Status* first_error) {
  *first_error = absl::OkStatus();
  for (;;) {
    const absl::Status status = call();
    if (status.ok()) return status;
    if (first_error->ok()) *first_error = status;
    if (status.code() != absl::StatusCode::kUnavailable || Clock::now() > deadline) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// What the test had acknowledged of one session.
struct Acked {
  std::vector<std::pair<std::string, int64_t>> batches;  // id, rows
  std::vector<float> rows;         // every acknowledged row, in row-id order
  std::map<int64_t, bool> labels;  // row id -> anomaly, as last acknowledged
  int64_t row_count() const { return static_cast<int64_t>(rows.size()) / kFeatures; }
  int64_t anomalies() const {
    int64_t n = 0;
    for (const auto& [row, anomaly] : labels) n += anomaly;
    return n;
  }
};

// Sends batch `batch_id` of `values` (not acknowledged before: its first
// row id must be the next row; a duplicate answer only means an earlier
// send that failed was stored) and records it as acknowledged.
absl::Status IngestNew(AadClient* client, const std::string& session, const std::string& batch_id,
                       const std::vector<float>& values, Acked* acked) {
  auto r = client->IngestMessages(session, {Batch(session, batch_id, values)});
  if (!r.ok()) return r.status();
  if (r->batches(0).first_row_id() != acked->row_count()) {
    return absl::InternalError(absl::StrCat("new batch ", batch_id, " of ", session,
                                            " got first row id ", r->batches(0).first_row_id(),
                                            " (duplicate ", r->batches(0).duplicate(),
                                            "), expected ", acked->row_count()));
  }
  acked->batches.push_back({batch_id, static_cast<int64_t>(values.size()) / kFeatures});
  acked->rows.insert(acked->rows.end(), values.begin(), values.end());
  return absl::OkStatus();
}

// One labelling round: the two top candidates labelled (alternately
// anomaly / nominal), the new model awaited.
absl::Status LabelRound(AadClient* client, const std::string& session, int round, Acked* acked) {
  auto top = client->GetQueryCandidates(session, 2);
  if (!top.ok()) return top.status();
  std::vector<std::pair<int64_t, bool>> labels;
  for (int i = 0; i < top->row_ids_size(); ++i) {
    labels.push_back({top->row_ids(i), (round + i) % 2 == 0});
  }
  auto r = client->SubmitLabels(session, labels, /*wait_for_model=*/true);
  if (!r.ok()) return r.status();
  for (const auto& [row, anomaly] : labels) acked->labels[row] = anomaly;
  return absl::OkStatus();
}

// The session holds what was acknowledged, each row and label once: the
// counts, a retried batch is a duplicate, the pool's rows score as the rows
// sent (so they are those rows, in order), and the store has one batch row
// per acknowledged batch.
void ExpectHoldsExactlyTheAcknowledged(AadClient* client, PostgresServer* db,
                                       const std::string& session, const Acked& acked) {
  SCOPED_TRACE(session);
  auto info = client->GetSession(session);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), acked.row_count());
  EXPECT_EQ(info->labels(), static_cast<int64_t>(acked.labels.size()));
  EXPECT_EQ(info->anomalies(), acked.anomalies());
  // The last acknowledged batch, resent: stored already, nothing added.
  const auto& [last, last_count] = acked.batches.back();
  const std::vector<float> last_rows(acked.rows.end() - last_count * kFeatures, acked.rows.end());
  auto retry = client->IngestMessages(session, {Batch(session, last, last_rows)});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->batches(0).duplicate()) << last;
  EXPECT_EQ(retry->total_rows(), acked.row_count());
  std::vector<int64_t> ids(acked.row_count());
  for (int64_t i = 0; i < acked.row_count(); ++i) ids[i] = i;
  auto pool = client->ScorePoolRows(session, ids);
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto sent = client->ScoreRows(session, acked.rows, kFeatures);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_TRUE(SameBits(pool->p(), sent->p())) << "the pool's rows are not the rows sent";
  auto batches = db->Query("aadd", absl::StrCat("SELECT count(*) || '/' || count(DISTINCT batch_id) "
                                                "FROM batches WHERE session_id = '", session, "'"));
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_EQ(*batches, absl::StrCat(acked.batches.size(), "/", acked.batches.size()));
}

// Ingests and labels one session through nginx on a thread of its own,
// back to back, until a call fails or Stop(): the kill lands while its calls
// are in flight. The call the kill cut stays pending (stored or not, the
// client cannot know) until Resolve sends it again.
class LiveLabeller {
 public:
  LiveLabeller(const std::string& target, std::string session, Acked* acked)
      : client_(ClientOf(target)), session_(std::move(session)), acked_(acked) {}
  ~LiveLabeller() {
    Stop();
    Join();
  }

  void Start() { thread_ = std::thread([this] { Run(); }); }
  // Waits until `n` calls were acknowledged or the thread ended; false
  // after `timeout` or when it ended first.
  bool WaitForAcks(int n, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return acked_changed_.wait_for(lock, timeout, [&] { return acks_ >= n || ended_; }) &&
           acks_ >= n;
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  // After Join: the call that failed (OK when Stop ended it).
  const absl::Status& failure() const { return failure_; }
  int acks() {
    std::lock_guard<std::mutex> lock(mu_);
    return acks_;
  }

  // After Join, with the session served again: the cut call once more
  // (both kinds are idempotent: a batch id, a relabel), so that it is
  // acknowledged and the test knows exactly what is stored.
  absl::Status Resolve(AadClient* client) {
    if (pending_batch_) {
      const auto& [id, values] = *pending_batch_;
      auto r = client->IngestMessages(session_, {Batch(session_, id, values)});
      if (!r.ok()) return r.status();
      if (r->batches(0).first_row_id() != acked_->row_count()) {
        return absl::InternalError(absl::StrCat("the cut batch ", id, " got first row id ",
                                                r->batches(0).first_row_id(), ", expected ",
                                                acked_->row_count()));
      }
      std::cout << "the kill cut batch " << id << " of " << session_ << ": "
                << (r->batches(0).duplicate() ? "it had been stored" : "it had not been stored")
                << std::endl;
      acked_->batches.push_back({id, static_cast<int64_t>(values.size()) / kFeatures});
      acked_->rows.insert(acked_->rows.end(), values.begin(), values.end());
      pending_batch_.reset();
    }
    if (!pending_labels_.empty()) {
      auto r = client->SubmitLabels(session_, pending_labels_, /*wait_for_model=*/true);
      if (!r.ok()) return r.status();
      for (const auto& [row, anomaly] : pending_labels_) acked_->labels[row] = anomaly;
      std::cout << "the kill cut a label call of " << session_ << std::endl;
      pending_labels_.clear();
    }
    return absl::OkStatus();
  }

 private:
  void Run() {
    std::mt19937 rng(99);
    for (int k = 0; failure_.ok(); ++k) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) break;
      }
      if (k % 2 == 0) {
        pending_batch_.emplace(absl::StrCat("live-", k), MakeRows(&rng, 10));
        failure_ = IngestNew(client_.get(), session_, pending_batch_->first,
                             pending_batch_->second, acked_);
        if (failure_.ok()) pending_batch_.reset();
      } else {
        auto top = client_->GetQueryCandidates(session_, 2);
        if (!top.ok()) {
          failure_ = top.status();
          break;
        }
        for (int i = 0; i < top->row_ids_size(); ++i) {
          pending_labels_.push_back({top->row_ids(i), (k + i) % 3 == 0});
        }
        auto r = client_->SubmitLabels(session_, pending_labels_, /*wait_for_model=*/true);
        failure_ = r.status();
        if (failure_.ok()) {
          for (const auto& [row, anomaly] : pending_labels_) acked_->labels[row] = anomaly;
          pending_labels_.clear();
        }
      }
      if (failure_.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        ++acks_;
        acked_changed_.notify_all();
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    acked_changed_.notify_all();
  }

  std::unique_ptr<AadClient> client_;
  const std::string session_;
  // The thread's alone until Join.
  Acked* acked_;
  absl::Status failure_;
  std::optional<std::pair<std::string, std::vector<float>>> pending_batch_;
  std::vector<std::pair<int64_t, bool>> pending_labels_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable acked_changed_;
  int acks_ = 0;       // guarded by mu_
  bool stop_ = false;  // guarded by mu_
  bool ended_ = false;  // guarded by mu_
};

class Replicas : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    db_ = std::move(*server);
    ASSERT_TRUE(db_->CreateDatabase("aadd").ok());
    uri_ = db_->Uri("aadd");
  }

  // The index of the replica whose log says it holds `session`; -1 when
  // none does, -2 when several do.
  int HolderByLog(const std::vector<std::unique_ptr<AaddProcess>>& replicas,
                  const std::string& session) {
    int holder = -1;
    for (size_t r = 0; r < replicas.size(); ++r) {
      if (replicas[r] == nullptr || !LogSaysHolds(replicas[r]->log(), session)) continue;
      holder = holder == -1 ? static_cast<int>(r) : -2;
    }
    return holder;
  }

  // HolderByLog once one replica says so: the log line may come a little
  // after the reply. -1 / -2 after 10 s.
  int WaitForHolderByLog(const std::vector<std::unique_ptr<AaddProcess>>& replicas,
                         const std::string& session) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    int holder = HolderByLog(replicas, session);
    while (holder < 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      holder = HolderByLog(replicas, session);
    }
    return holder;
  }

  std::unique_ptr<PostgresServer> db_;
  std::string uri_;
};

TEST_F(Replicas, ASigkilledReplicasSessionsAreTakenOverWithEverythingAcknowledged) {
  constexpr int kReplicas = 3;
  std::vector<std::unique_ptr<AaddProcess>> replicas(kReplicas);
  std::vector<int> ports;
  for (int r = 0; r < kReplicas; ++r) {
    replicas[r] = StartReplica(uri_, r);
    ASSERT_NE(replicas[r], nullptr);
    ports.push_back(replicas[r]->port());
  }
  auto proxy = NginxProxy::Start(AADD_SOURCE_DIR "/deploy/nginx/aadd.conf", ports);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = ClientOf((*proxy)->target());
  std::mt19937 rng(15);
  const std::vector<float> probe = MakeRows(&rng, 20);

  // --- Sessions through nginx until each replica holds at least two (and
  // nine in all): ids hash where they hash, so make enough of them.
  std::vector<std::string> sessions;
  std::vector<int> home;
  std::vector<int> per_replica(kReplicas, 0);
  std::map<std::string, Acked> acked;
  for (int i = 0; i < 60; ++i) {
    if (sessions.size() >= 9 &&
        *std::min_element(per_replica.begin(), per_replica.end()) >= 2) {
      break;
    }
    const std::string id = absl::StrCat("s", i);
    auto created = client->CreateSession(SmallSession(id));
    ASSERT_TRUE(created.ok()) << id << ": " << created.status();
    const int holder = WaitForHolderByLog(replicas, id);
    ASSERT_GE(holder, 0) << "no single replica logged creating " << id;
    sessions.push_back(id);
    home.push_back(holder);
    ++per_replica[holder];
  }
  ASSERT_GE(*std::min_element(per_replica.begin(), per_replica.end()), 2)
      << "60 sessions did not spread over the three replicas: " << per_replica[0] << "/"
      << per_replica[1] << "/" << per_replica[2] << "\n"
      << (*proxy)->conf();
  const int victim = static_cast<int>(
      std::max_element(per_replica.begin(), per_replica.end()) - per_replica.begin());
  std::cout << "sessions per replica: " << per_replica[0] << "/" << per_replica[1] << "/"
            << per_replica[2] << "; SIGKILL " << ReplicaName(victim) << std::endl;

  // --- Rows and a first model for every session.
  for (const std::string& id : sessions) {
    ASSERT_TRUE(IngestNew(client.get(), id, "init", MakeRows(&rng, 300), &acked[id]).ok());
    auto trained = client->Train(id);
    ASSERT_TRUE(trained.ok()) << id << ": " << trained.status();
  }
  for (size_t i = 0; i < sessions.size(); ++i) {
    auto info = client->GetSession(sessions[i]);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->rows(), 300);
    // Every call stayed on the replica that created the session.
    EXPECT_EQ(HolderByLog(replicas, sessions[i]), home[i]) << sessions[i];
  }

  // --- The labelling loop: a new batch and a label round per session and
  // round; the kill comes in the middle of round 3.
  constexpr int kRounds = 6, kKillRound = 3;
  const size_t kill_at = sessions.size() / 2;
  // One of the victim's sessions sits the loop out after the kill: its
  // model does not change, so its scores must stay those before the kill.
  std::string frozen;
  auto round_of = [&](int round, size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const std::string& id = sessions[i];
      if (id == frozen) continue;
      const absl::Status ingested = IngestNew(client.get(), id, absl::StrCat("round-", round),
                                              MakeRows(&rng, 20), &acked[id]);
      ASSERT_TRUE(ingested.ok()) << id << " round " << round << ": " << ingested;
      const absl::Status labelled = LabelRound(client.get(), id, round, &acked[id]);
      ASSERT_TRUE(labelled.ok()) << id << " round " << round << ": " << labelled;
    }
  };
  for (int round = 0; round < kKillRound; ++round) {
    round_of(round, 0, sessions.size());
    if (HasFatalFailure()) return;
  }
  round_of(kKillRound, 0, kill_at);
  if (HasFatalFailure()) return;
  for (size_t i = 0; i < sessions.size(); ++i) {
    ExpectHoldsExactlyTheAcknowledged(client.get(), db_.get(), sessions[i], acked[sessions[i]]);
  }
  if (HasFatalFailure()) return;

  // --- The kill, while one of the victim's sessions ingests and labels
  // on a thread of its own; just before it, what the victim's other
  // sessions look like.
  std::vector<std::string> orphans;
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (home[i] == victim) orphans.push_back(sessions[i]);
  }
  const std::string live = orphans.back();  // the victim holds three or more
  frozen = orphans.front();
  LiveLabeller labeller((*proxy)->target(), live, &acked[live]);
  labeller.Start();
  if (!labeller.WaitForAcks(4, std::chrono::seconds(60))) {
    labeller.Stop();
    labeller.Join();
    FAIL() << "the live labelling of " << live << " did not get 4 calls through before the kill: "
           << labeller.failure();
  }
  std::map<std::string, Observed> before;
  for (const std::string& id : orphans) {
    if (id != live) before[id] = Observe(client.get(), id, probe);
  }
  if (HasFailure()) return;
  replicas[victim]->Signal(SIGKILL);
  const auto killed_at = Clock::now();
  replicas[victim]->WaitExit();
  replicas[victim].reset();
  labeller.Stop();
  labeller.Join();
  EXPECT_FALSE(labeller.failure().ok())
      << live << " kept being served after its holder was killed";
  std::cout << "live labelling of " << live << ": " << labeller.acks()
            << " calls acknowledged; the kill cut one: " << labeller.failure() << std::endl;

  // Their leases have at least 2/3 of 3 s left: the survivors that nginx
  // sends the calls to answer UNAVAILABLE naming the dead holder.
  for (const std::string& id : orphans) {
    if (id == live) continue;
    auto info = client->GetSession(id);
    ASSERT_FALSE(info.ok()) << id << " was served right after its holder died";
    EXPECT_EQ(info.status().code(), absl::StatusCode::kUnavailable) << info.status();
    EXPECT_TRUE(Names(info.status(), "held by replica", ReplicaName(victim))) << info.status();
  }
  // Then, once the lease lapsed, a survivor takes each over, as it was.
  std::map<std::string, int> taker;
  for (const std::string& id : orphans) {
    SCOPED_TRACE(id);
    absl::Status first_error;
    const absl::Status served = PollUntilOk([&] { return client->GetSession(id).status(); },
                                            killed_at + kTakeoverDeadline, &first_error);
    ASSERT_TRUE(served.ok()) << "not served by a survivor within " << kTakeoverDeadline.count()
                             << " s: " << served;
    std::cout << id << " served again "
              << std::chrono::duration<double>(Clock::now() - killed_at).count()
              << " s after the kill" << std::endl;
    const int holder = WaitForHolderByLog(replicas, id);
    ASSERT_GE(holder, 0) << "no single survivor logged taking " << id << " over";
    taker[id] = holder;
    const std::string took_over = absl::StrCat("[session ", id, "] took over (epoch ");
    EXPECT_TRUE(replicas[holder]->WaitForLog(took_over, std::chrono::seconds(5)));
    const std::string line = LastLineWith(replicas[holder]->log(), took_over);
    EXPECT_TRUE(LineNames(line, "previous holder", ReplicaName(victim)))
        << "took over, but not from the killed " << ReplicaName(victim) << ": " << line;
    if (id == live) {
      const absl::Status resolved = labeller.Resolve(client.get());
      ASSERT_TRUE(resolved.ok()) << resolved;
    } else {
      ExpectSameSession(before[id], Observe(client.get(), id, probe));
    }
  }
  if (HasFatalFailure()) return;

  // --- The loop goes on, on the survivors.
  round_of(kKillRound, kill_at, sessions.size());
  for (int round = kKillRound + 1; round < kRounds && !HasFatalFailure(); ++round) {
    round_of(round, 0, sessions.size());
  }
  if (HasFatalFailure()) return;
  for (const std::string& id : sessions) {
    ExpectHoldsExactlyTheAcknowledged(client.get(), db_.get(), id, acked[id]);
  }
  if (HasFatalFailure()) return;
  {
    SCOPED_TRACE(absl::StrCat(frozen, ", unchanged since the kill"));
    ExpectSameSession(before[frozen], Observe(client.get(), frozen, probe));
  }

  // --- The victim restarts on its port (nginx still lists it), a new
  // owner under the same --replica_id. nginx sends its sessions to it again
  // (at once, or once the shipped fail_timeout of the dead upstream ran
  // out), and it takes each back from the survivor that held it, which
  // hands it over; nothing it does clobbers what the survivors wrote.
  std::map<std::string, Observed> settled;
  for (const std::string& id : sessions) settled[id] = Observe(client.get(), id, probe);
  if (HasFailure()) return;
  replicas[victim] = StartReplica(uri_, victim, ports[victim]);
  ASSERT_NE(replicas[victim], nullptr);
  ASSERT_EQ(replicas[victim]->port(), ports[victim]);
  for (const std::string& id : orphans) {
    SCOPED_TRACE(id);
    absl::Status first_error;
    const absl::Status back = PollUntilOk(
        [&]() -> absl::Status {
          const absl::Status status = client->GetSession(id).status();
          if (status.ok() && !LogSaysHolds(replicas[victim]->log(), id)) {
            return absl::UnavailableError("served, but not by the restarted replica yet");
          }
          return status;
        },
        Clock::now() + kTakeoverDeadline, &first_error);
    ASSERT_TRUE(back.ok()) << "the restarted " << ReplicaName(victim) << " did not get " << id
                           << " back through nginx: " << back;
    const int previous = taker[id];
    const std::string released = absl::StrCat("[session ", id, "] released (handed over to");
    EXPECT_TRUE(replicas[previous]->WaitForLog(released, std::chrono::seconds(5)))
        << ReplicaName(previous) << " did not log handing " << id << " over:\n"
        << replicas[previous]->log();
    EXPECT_TRUE(LineNames(LastLineWith(replicas[previous]->log(), released), "handed over to",
                          ReplicaName(victim)))
        << LastLineWith(replicas[previous]->log(), released);
  }
  for (const std::string& id : sessions) {
    SCOPED_TRACE(id);
    absl::Status first_error;
    const absl::Status served = PollUntilOk([&] { return client->GetSession(id).status(); },
                                            Clock::now() + kTakeoverDeadline, &first_error);
    ASSERT_TRUE(served.ok()) << served;
    ExpectSameSession(settled[id], Observe(client.get(), id, probe));
  }
  if (HasFatalFailure()) return;
  // New writes after the rejoin are stored once, wherever they land.
  for (const std::string& id : sessions) {
    SCOPED_TRACE(id);
    absl::Status first_error;
    const std::vector<float> rows = MakeRows(&rng, 20);  // one batch, however often sent
    const absl::Status ingested =
        PollUntilOk([&] { return IngestNew(client.get(), id, "rejoin", rows, &acked[id]); },
                    Clock::now() + kTakeoverDeadline, &first_error);
    ASSERT_TRUE(ingested.ok()) << ingested;
    const absl::Status labelled =
        PollUntilOk([&] { return LabelRound(client.get(), id, kRounds, &acked[id]); },
                    Clock::now() + kTakeoverDeadline, &first_error);
    ASSERT_TRUE(labelled.ok()) << labelled;
  }
  for (const std::string& id : sessions) {
    ExpectHoldsExactlyTheAcknowledged(client.get(), db_.get(), id, acked[id]);
  }
}

// What nginx runs with: the shipped file's text, its replicas and listen
// port replaced, its server parameters kept, and failover on.
TEST(NginxProxyConf, IsTheShippedFileWithTheReplicasAndPortFilledIn) {
  std::ifstream in(AADD_SOURCE_DIR "/deploy/nginx/aadd.conf");
  std::stringstream text;
  text << in.rdbuf();
  const std::string shipped = text.str();
  ASSERT_FALSE(shipped.empty());
  auto conf = NginxProxy::Substitute(shipped, {1001, 1002, 1003}, 2001);
  ASSERT_TRUE(conf.ok()) << conf.status();
  std::smatch first;
  ASSERT_TRUE(std::regex_search(shipped, first,
                                std::regex(R"(\n\s*server\s+[^\s;{]+([^;{]*);)")));
  for (int port : {1001, 1002, 1003}) {
    EXPECT_NE(conf->find(absl::StrCat("server 127.0.0.1:", port, first[1].str(), ";\n")),
              std::string::npos)
        << *conf;
  }
  EXPECT_NE(conf->find("listen 127.0.0.1:2001 http2;"), std::string::npos) << *conf;
  EXPECT_EQ(conf->find("listen 127.0.0.1:2001", conf->find("listen 127.0.0.1:2001") + 1),
            std::string::npos)
      << *conf;
  const std::regex server_line(R"(\n\s*server\s+[^\s;{]+[^;{]*;)");
  EXPECT_EQ(std::distance(std::sregex_iterator(conf->begin(), conf->end(), server_line),
                          std::sregex_iterator()),
            3)
      << *conf;
  EXPECT_EQ(conf->find("grpc_next_upstream off"), std::string::npos) << *conf;
  EXPECT_NE(conf->find("hash $http_x_session_id consistent"), std::string::npos) << *conf;
}

TEST_F(Replicas, APausedReplicaThatLostItsLeaseCannotWrite) {
  auto first = StartReplica(uri_, 1);
  ASSERT_NE(first, nullptr);
  auto second = StartReplica(uri_, 2);
  ASSERT_NE(second, nullptr);
  auto to_first = ClientOf(absl::StrCat("127.0.0.1:", first->port()));
  auto to_second = ClientOf(absl::StrCat("127.0.0.1:", second->port()));
  std::mt19937 rng(16);
  const std::string id = "fenced";
  Acked acked;
  ASSERT_TRUE(to_first->CreateSession(SmallSession(id)).ok());
  ASSERT_TRUE(IngestNew(to_first.get(), id, "from-r1", MakeRows(&rng, 50), &acked).ok());

  // r1 pauses holding the session; r2 is asked until the lease lapsed and
  // it took the session over, then writes to it.
  first->Signal(SIGSTOP);
  const auto paused_at = Clock::now();
  absl::Status first_error;
  const absl::Status taken = PollUntilOk([&] { return to_second->GetSession(id).status(); },
                                         paused_at + kTakeoverDeadline, &first_error);
  ASSERT_TRUE(taken.ok()) << taken;
  EXPECT_EQ(first_error.code(), absl::StatusCode::kUnavailable)
      << "r2 served a session whose lease r1 held: " << first_error;
  EXPECT_TRUE(Names(first_error, "held by replica", "r1")) << first_error;
  EXPECT_TRUE(second->WaitForLog(absl::StrCat("[session ", id, "] took over (epoch "),
                                 std::chrono::seconds(5)))
      << second->log();
  ASSERT_TRUE(IngestNew(to_second.get(), id, "from-r2", MakeRows(&rng, 30), &acked).ok());

  // r1 wakes up and writes as if it still held the session: refused.
  first->Signal(SIGCONT);
  Acked ignored = acked;
  const absl::Status stale = IngestNew(to_first.get(), id, "from-r1-after-pause",
                                       MakeRows(&rng, 40), &ignored);
  ASSERT_FALSE(stale.ok()) << "the paused replica wrote to a session taken over";
  EXPECT_EQ(stale.code(), absl::StatusCode::kUnavailable) << stale;
  EXPECT_TRUE(Names(stale, "replica", "r2")) << "the refusal should name the new holder: " << stale;
  const absl::Status stale_label = to_first->SubmitLabels(id, {{0, true}}, false).status();
  EXPECT_EQ(stale_label.code(), absl::StatusCode::kUnavailable) << stale_label;

  // The store holds r1's first batch and r2's, not r1's late one, nor its label.
  auto batches = db_->Query("aadd", absl::StrCat("SELECT string_agg(batch_id, ',' ORDER BY "
                                                 "first_row_id) FROM batches WHERE session_id = '",
                                                 id, "'"));
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_EQ(*batches, "from-r1,from-r2");
  auto labels = db_->Query("aadd", absl::StrCat("SELECT count(*) FROM labels WHERE session_id = '",
                                                id, "'"));
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(*labels, "0");
  auto info = to_second->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 80);
  EXPECT_EQ(info->labels(), 0);
}

}  // namespace
}  // namespace aad::testing

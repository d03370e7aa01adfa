// SQLite-specific behaviour: durability across reopen and process kills, and
// the failure modes an operator meets (corrupt file, full disk, no write
// permission, a second server on the same directory, a newer schema).
#include "server/storage/sqlite_session_store.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/format/record_test_util.h"

namespace aad {
namespace {

using ::aad::testing::ExpectBatchesEqual;
using ::aad::testing::ExpectOptionsEqual;
using ::aad::testing::MakeBatch;
using ::aad::testing::OddOptions;
using ::aad::testing::SameLabels;
using ::aad::testing::TempDir;

std::string DbPath(const TempDir& dir) {
  return dir.path() + "/" + std::string(SqliteSessionStore::kFileName);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// A raw connection for checks the store's interface cannot make.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), SQLITE_OK)
        << path;
  }
  ~RawDb() { sqlite3_close(db_); }
  // The first column of the first row as an integer (-1 when none).
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    int64_t out = -1;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return out;
  }
  std::vector<std::string> Strings(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::vector<std::string> out;
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<SqliteSessionStore> OpenOrDie(const std::string& dir) {
  auto store = SqliteSessionStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Runs `body` in a forked child and returns what it wrote to its pipe and
// its wait status. The child must not use a store the parent holds open.
struct ChildResult {
  std::string output;
  int wait_status = 0;
};
template <typename Body>
ChildResult RunInChild(Body body) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    body(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  ChildResult result;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) result.output.append(buffer, n);
  close(fds[0]);
  EXPECT_EQ(waitpid(pid, &result.wait_status, 0), pid);
  return result;
}

void Say(int fd, const std::string& line) {
  const std::string out = line + "\n";
  // Lines are shorter than PIPE_BUF: one write is atomic.
  if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) _exit(9);
}

TEST(SqliteSessionStoreTest, ReopenGivesBackTheSameSession) {
  TempDir dir;
  SessionRecord before;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->path(), DbPath(dir));
    ASSERT_TRUE(store->CreateSession("s", OddOptions(), 77, "").ok());
    int64_t first = 0;
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(store->AppendBatch("s", MakeBatch(absl::StrCat("b", i), first, 100 + i, 4, i))
                      .ok());
      first += 100 + i;
    }
    ASSERT_TRUE(store->PutLabels("s", std::vector<LabelRecord>{{3, true, 1}, {400, false, 2}})
                    .ok());
    ASSERT_TRUE(store->PutLabels("s", std::vector<LabelRecord>{{3, false, 3}}).ok());
    auto run = store->BeginTraining("s", TrainingState::kTraining, 5);
    ASSERT_TRUE(run.ok());
    ASSERT_TRUE(store->PutModel("s", ModelRecord{1, 2, 6, std::string(100000, 'm')}, *run).ok());
    ASSERT_TRUE(store->BeginTraining("s", TrainingState::kUpdating, 7).ok());
    auto loaded = store->LoadSession("s");
    ASSERT_TRUE(loaded.ok());
    before = *loaded;
  }
  {
    RawDb raw(DbPath(dir));
    EXPECT_EQ(raw.Strings("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
    EXPECT_EQ(raw.Int("PRAGMA user_version"), SqliteSessionStore::kSchemaVersion);
    EXPECT_EQ(raw.Int("PRAGMA application_id"), SqliteSessionStore::kApplicationId);
  }
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  auto after = store->LoadSession("s");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->created_micros, 77);
  ExpectOptionsEqual(after->options, before.options);
  ExpectBatchesEqual(after->batches, before.batches);
  EXPECT_TRUE(SameLabels(after->labels, before.labels));
  EXPECT_TRUE(SameLabels(after->label_history, before.label_history));
  ASSERT_TRUE(after->model.has_value());
  EXPECT_EQ(after->model->bytes, before.model->bytes);
  EXPECT_EQ(after->model->version, 1);
  // The update begun before the close is reported as interrupted.
  ASSERT_EQ(after->interrupted_training.size(), 1u);
  EXPECT_EQ(after->interrupted_training[0].kind, TrainingState::kUpdating);
  // Writes continue where they stopped: row ids, label order, run ids.
  EXPECT_TRUE(store->AppendBatch("s", MakeBatch("b5", before.row_count(), 1, 4, 9)).ok());
  auto next_run = store->BeginTraining("s", TrainingState::kTraining, 8);
  ASSERT_TRUE(next_run.ok());
  EXPECT_GT(*next_run, after->interrupted_training[0].run_id);
}

TEST(SqliteSessionStoreTest, DeleteSessionLeavesNoRowInAnyTable) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    for (const std::string id : {"gone", "kept"}) {
      ASSERT_TRUE(store->CreateSession(id, SessionOptions{}, 0, "").ok());
      ASSERT_TRUE(store->AppendBatch(id, MakeBatch("a", 0, 10, 3, 1)).ok());
      ASSERT_TRUE(store->AppendBatch(id, MakeBatch("b", 10, 10, 3, 2)).ok());
      ASSERT_TRUE(store->PutLabels(id, std::vector<LabelRecord>{{1, true, 1}, {1, false, 2}}).ok());
      auto run = store->BeginTraining(id, TrainingState::kTraining, 0);
      ASSERT_TRUE(run.ok());
      ASSERT_TRUE(store->PutModel(id, ModelRecord{1, 0, 0, "m"}, *run).ok());
      ASSERT_TRUE(store->BeginTraining(id, TrainingState::kUpdating, 0).ok());
    }
    ASSERT_TRUE(store->DeleteSession("gone").ok());
  }
  RawDb raw(DbPath(dir));
  // Every table, found from the schema so that a table added later is
  // checked too: rows naming the session by session_id (or id) must be gone.
  const std::vector<std::string> tables =
      raw.Strings("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  ASSERT_GE(tables.size(), 5u);
  for (const std::string& table : tables) {
    const std::vector<std::string> columns =
        raw.Strings(absl::StrCat("SELECT name FROM pragma_table_info('", table, "')"));
    std::string key;
    for (const std::string& c : columns) {
      if (c == "session_id") key = c;
    }
    if (key.empty() && table == "sessions") key = "id";
    ASSERT_FALSE(key.empty()) << "table " << table << " has no session column";
    EXPECT_EQ(raw.Int(absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", key, " = 'gone'")),
              0)
        << "table " << table << " still holds rows of the deleted session";
    EXPECT_GT(raw.Int(absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", key, " = 'kept'")),
              0)
        << "table " << table << " lost rows of the other session";
  }
  EXPECT_EQ(raw.Int("PRAGMA foreign_key_check"), -1) << "dangling references";
}

TEST(SqliteSessionStoreTest, GarbageFileIsDataLossAtOpenNamingIt) {
  TempDir dir;
  std::string garbage(64 * 1024, '\0');
  std::mt19937 rng(1);
  for (char& c : garbage) c = static_cast<char>(rng());
  WriteFile(DbPath(dir), garbage);
  auto store = SqliteSessionStore::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_NE(store.status().message().find(DbPath(dir)), std::string::npos) << store.status();
}

TEST(SqliteSessionStoreTest, DamagedBatchBytesAreDataLossNotDifferentRows) {
  TempDir dir;
  BatchRecord batch = MakeBatch("marked", 0, 64, 4, 1);
  for (size_t i = 0; i < batch.values.size(); ++i) batch.values[i] = 31337.0f + i;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateSession("s", SessionOptions{}, 0, "").ok());
    ASSERT_TRUE(store->AppendBatch("s", batch).ok());
  }
  // Closing checkpointed the WAL: the floats sit in the main file. Flip one
  // bit of one of them, which SQLite's page structure does not cover.
  std::string bytes = ReadFile(DbPath(dir));
  const std::string needle(reinterpret_cast<const char*>(&batch.values[10]), 16);
  const size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos) << "batch bytes not found in " << DbPath(dir);
  bytes[at + 1] = static_cast<char>(bytes[at + 1] ^ 0x01);
  WriteFile(DbPath(dir), bytes);
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  auto loaded = store->LoadSession("s");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  EXPECT_NE(loaded.status().message().find(DbPath(dir)), std::string::npos) << loaded.status();
  EXPECT_NE(loaded.status().message().find("marked"), std::string::npos) << loaded.status();
}

TEST(SqliteSessionStoreTest, TruncatedFileIsDataLoss) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateSession("s", SessionOptions{}, 0, "").ok());
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(store->AppendBatch("s", MakeBatch(absl::StrCat(i), i * 1000, 1000, 8, i)).ok());
    }
  }
  const std::string bytes = ReadFile(DbPath(dir));
  WriteFile(DbPath(dir), bytes.substr(0, bytes.size() / 2));
  // With the check at open, the damage is found before any session loads.
  SqliteStoreOptions verify;
  verify.verify_on_open = true;
  auto checked = SqliteSessionStore::Open(dir.path(), verify);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.status().code(), absl::StatusCode::kDataLoss) << checked.status();
  EXPECT_NE(checked.status().message().find(DbPath(dir)), std::string::npos) << checked.status();
  // Without it, at the latest when the session is read.
  auto store = SqliteSessionStore::Open(dir.path());
  if (store.ok()) {
    auto loaded = (*store)->LoadSession("s");
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  } else {
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  }
}

TEST(SqliteSessionStoreTest, AVersionOneStoreIsUpgradedAndKeepsItsLabels) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateSession("s", SessionOptions{}, 0, "").ok());
    ASSERT_TRUE(store->AppendBatch("s", MakeBatch("a", 0, 10, 2, 1)).ok());
    ASSERT_TRUE(store->PutLabels("s", std::vector<LabelRecord>{{4, true, 1}, {6, false, 2}}).ok());
  }
  {
    // What an aadd before withdrawals left: version 1, without tenants.
    RawDb raw(DbPath(dir));
    raw.Exec("ALTER TABLE sessions DROP COLUMN tenant");
    raw.Exec("PRAGMA user_version = 1");
  }
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    auto loaded = store->LoadSession("s");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_TRUE(SameLabels(loaded->labels, {{4, true, 1}, {6, false, 2}}));
    ASSERT_TRUE(store->PutLabels("s", std::vector<LabelRecord>{{4, false, 3, true}}).ok());
  }
  RawDb raw(DbPath(dir));
  // Marked version 3 (2 and then tenants), so that an older aadd refuses
  // the file rather than reading the withdrawal (2) as an anomaly.
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 3);
  EXPECT_EQ(raw.Int("SELECT anomaly FROM labels WHERE seq = 2"), 2);
}

TEST(SqliteSessionStoreTest, AVersionTwoStoreGetsTenantsAndItsSessionsTheAnonymousOne) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateSession("s", SessionOptions{}, 0, "").ok());
    ASSERT_TRUE(store->AppendBatch("s", MakeBatch("a", 0, 10, 2, 1)).ok());
  }
  {
    // What an aadd before tenants (issue 14) left.
    RawDb raw(DbPath(dir));
    raw.Exec("ALTER TABLE sessions DROP COLUMN tenant");
    raw.Exec("PRAGMA user_version = 2");
  }
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    auto loaded = store->LoadSession("s");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->tenant, "");
    EXPECT_EQ(loaded->row_count(), 10);
    ASSERT_TRUE(store->CreateSession("t", SessionOptions{}, 0, "acme").ok());
    auto list = store->ListSessions();
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].tenant, "");
    EXPECT_EQ((*list)[1].tenant, "acme");
  }
  RawDb raw(DbPath(dir));
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 3);
}

TEST(SqliteSessionStoreTest, AnUnknownVerdictIsDataLossNamingTheRow) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateSession("s", SessionOptions{}, 0, "").ok());
    ASSERT_TRUE(store->AppendBatch("s", MakeBatch("a", 0, 10, 2, 1)).ok());
    ASSERT_TRUE(store->PutLabels("s", std::vector<LabelRecord>{{8, true, 1}}).ok());
  }
  {
    RawDb raw(DbPath(dir));
    raw.Exec("UPDATE labels SET anomaly = 3");
  }
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  auto loaded = store->LoadSession("s");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  EXPECT_NE(loaded.status().message().find("row 8 has verdict 3"), std::string::npos)
      << loaded.status();
}

TEST(SqliteSessionStoreTest, NewerSchemaAndForeignFilesAreRefused) {
  TempDir dir;
  { ASSERT_NE(OpenOrDie(dir.path()), nullptr); }
  {
    RawDb raw(DbPath(dir));
    raw.Exec("PRAGMA user_version = 99");
  }
  auto newer = SqliteSessionStore::Open(dir.path());
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition) << newer.status();
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos)
      << newer.status();
  EXPECT_NE(newer.status().message().find(DbPath(dir)), std::string::npos) << newer.status();

  TempDir other;
  {
    RawDb raw(DbPath(other));
    raw.Exec("CREATE TABLE accounts(id INTEGER)");
  }
  auto foreign = SqliteSessionStore::Open(other.path());
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kFailedPrecondition) << foreign.status();
  EXPECT_NE(foreign.status().message().find("not an aadd store"), std::string::npos)
      << foreign.status();
}

TEST(SqliteSessionStoreTest, ASecondOpenOfTheDirectoryIsRefused) {
  TempDir dir;
  auto first = OpenOrDie(dir.path());
  ASSERT_NE(first, nullptr);
  auto second = SqliteSessionStore::Open(dir.path());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status();
  first.reset();
  EXPECT_TRUE(SqliteSessionStore::Open(dir.path()).ok()) << "the lock outlived its store";
}

TEST(SqliteSessionStoreTest, ADataDirUnderARegularFileFailsNamingIt) {
  // Works as root too (unlike a permission test): no directory can be made
  // below a regular file.
  TempDir dir;
  WriteFile(dir.path() + "/file", "x");
  const std::string data_dir = dir.path() + "/file/data";
  auto store = SqliteSessionStore::Open(data_dir);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_NE(store.status().message().find(data_dir), std::string::npos) << store.status();
}

// Root ignores permission bits, so the permission checks run in a child that
// drops to nobody (65534); without the right to switch users they skip.
TEST(SqliteSessionStoreTest, UnwritableDirectoryOrFileIsUnavailableAtOpen) {
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  const std::string ro_dir = dir.path() + "/ro_dir";
  ASSERT_EQ(mkdir(ro_dir.c_str(), 0555), 0);
  // A store whose file belongs to someone else, in a directory anyone may
  // write: SQLite would quietly open it read-only.
  const std::string ro_file = dir.path() + "/ro_file";
  { ASSERT_NE(OpenOrDie(ro_file), nullptr); }
  ASSERT_EQ(chmod(ro_file.c_str(), 0777), 0);
  ASSERT_EQ(chmod((ro_file + "/LOCK").c_str(), 0666), 0);
  ASSERT_EQ(chmod((ro_file + "/aadd.db").c_str(), 0644), 0);

  ChildResult child = RunInChild([&](int fd) {
    if (geteuid() == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
        Say(fd, "SKIP cannot drop root privileges here");
        return;
      }
    }
    for (const std::string& path : {ro_dir, ro_file}) {
      auto store = SqliteSessionStore::Open(path);
      Say(fd, absl::StrCat(path, "|", store.ok() ? "OK" : absl::StatusCodeToString(store.status().code()),
                           "|", store.status().message()));
    }
  });
  ASSERT_TRUE(WIFEXITED(child.wait_status) && WEXITSTATUS(child.wait_status) == 0)
      << child.output;
  if (child.output.rfind("SKIP", 0) == 0) GTEST_SKIP() << child.output;
  std::vector<std::string> lines = absl::StrSplit(child.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << child.output;
  for (const std::string& line : lines) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits('|', 2));
    ASSERT_EQ(parts.size(), 3u) << line;
    EXPECT_EQ(parts[1], "UNAVAILABLE") << line;
    EXPECT_NE(parts[2].find(parts[0]), std::string::npos) << "message must name the path: "
                                                          << line;
  }
  EXPECT_NE(lines[1].find("not writable"), std::string::npos) << lines[1];
}

// A full disk, made with RLIMIT_FSIZE in a child: writes fail with
// RESOURCE_EXHAUSTED and change nothing, a failing PutModel leaves the old
// model, reads keep working, and the store recovers once there is room.
TEST(SqliteSessionStoreTest, FullDiskFailsWritesCleanlyWhileReadsWork) {
  TempDir dir;
  const std::string old_model(3000, 'o');
  {
    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateSession("s", SessionOptions{}, 0, "").ok());
    ASSERT_TRUE(store->AppendBatch("s", MakeBatch("small", 0, 100, 32, 1)).ok());
    ASSERT_TRUE(store->PutModel("s", ModelRecord{1, 0, 0, old_model}, 0).ok());
  }
  const std::string db = DbPath(dir);
  ChildResult child = RunInChild([&](int fd) {
    auto opened = SqliteSessionStore::Open(dir.path());
    if (!opened.ok()) {
      Say(fd, absl::StrCat("FAIL open: ", opened.status().ToString()));
      return;
    }
    SqliteSessionStore& store = **opened;
    std::error_code ec;
    uintmax_t biggest = std::filesystem::file_size(db, ec);
    const uintmax_t wal = std::filesystem::file_size(db + "-wal", ec);
    if (!ec && wal > biggest) biggest = wal;
    // Room for small writes only; SIGXFSZ ignored so that write() fails
    // with EFBIG instead of killing the process.
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit;
    getrlimit(RLIMIT_FSIZE, &limit);
    limit.rlim_cur = biggest + 64 * 1024;
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      Say(fd, "FAIL setrlimit");
      return;
    }
    auto big = store.AppendBatch("s", MakeBatch("big", 100, 16384, 32, 2));
    Say(fd, absl::StrCat("append|", absl::StatusCodeToString(big.status().code()), "|",
                         big.status().message()));
    auto model = store.PutModel("s", ModelRecord{2, 0, 0, std::string(2 << 20, 'n')}, 0);
    Say(fd, absl::StrCat("model|", absl::StatusCodeToString(model.code()), "|", model.message()));
    auto loaded = store.LoadSession("s");
    Say(fd, absl::StrCat("load|", absl::StatusCodeToString(loaded.status().code()), "|",
                         loaded.ok() ? absl::StrCat(loaded->row_count(), " rows, model ",
                                                    loaded->model->version, " ",
                                                    (loaded->model->bytes == old_model ? "same" : "changed"))
                                     : std::string(loaded.status().message())));
    auto label = store.PutLabels("s", std::vector<LabelRecord>{{5, true, 1}});
    Say(fd, absl::StrCat("label|", absl::StatusCodeToString(label.code()), "|", label.message()));
  });
  ASSERT_TRUE(WIFEXITED(child.wait_status) && WEXITSTATUS(child.wait_status) == 0)
      << child.output;
  std::cout << child.output;
  std::map<std::string, std::vector<std::string>> results;
  for (absl::string_view line : absl::StrSplit(child.output, '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits('|', 2));
    ASSERT_EQ(parts.size(), 3u) << line;
    results[parts[0]] = parts;
  }
  ASSERT_EQ(results.size(), 4u) << child.output;
  EXPECT_EQ(results["append"][1], "RESOURCE_EXHAUSTED") << results["append"][2];
  EXPECT_NE(results["append"][2].find(db), std::string::npos) << results["append"][2];
  EXPECT_EQ(results["model"][1], "RESOURCE_EXHAUSTED") << results["model"][2];
  EXPECT_EQ(results["load"][1], "OK") << results["load"][2];
  EXPECT_EQ(results["load"][2], "100 rows, model 1 same");
  // A small write fits in the room left: the store was not wedged.
  EXPECT_EQ(results["label"][1], "OK") << results["label"][2];

  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  auto loaded = store->LoadSession("s");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->row_count(), 100);
  EXPECT_EQ(loaded->model->version, 1);
  EXPECT_EQ(loaded->model->bytes, old_model);
  EXPECT_EQ(loaded->label_history.size(), 1u);
  // With room again, the failed writes go through.
  auto big = store->AppendBatch("s", MakeBatch("big", 100, 16384, 32, 2));
  EXPECT_TRUE(big.ok()) << big.status();
  EXPECT_TRUE(store->PutModel("s", ModelRecord{2, 0, 0, std::string(2 << 20, 'n')}, 0).ok());
}

TEST(SqliteSessionStoreTest, ConcurrentWritersAndReaders) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_NE(store, nullptr);
  constexpr int kWriters = 4, kBatches = 15;
  for (int w = 0; w < kWriters; ++w) {
    ASSERT_TRUE(store->CreateSession(absl::StrCat("w", w), SessionOptions{}, 0, "").ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string id = absl::StrCat("w", w);
      for (int i = 0; i < kBatches; ++i) {
        if (!store->AppendBatch(id, MakeBatch(absl::StrCat(i), i * 10, 10, 4, i)).ok() ||
            !store->PutLabels(id, std::vector<LabelRecord>{{i * 10, i % 2 == 0, i}}).ok()) {
          ++failures;
        }
      }
    });
  }
  std::thread reader([&] {
    while (!done.load()) {
      auto list = store->ListSessions();
      if (!list.ok()) ++failures;
      for (int w = 0; w < kWriters; ++w) {
        auto loaded = store->LoadSession(absl::StrCat("w", w));
        // A snapshot is always whole: one label per batch so far, at most
        // one batch ahead of the labels.
        if (!loaded.ok() || loaded->label_history.size() > loaded->batches.size()) ++failures;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  for (int w = 0; w < kWriters; ++w) {
    auto loaded = store->LoadSession(absl::StrCat("w", w));
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->row_count(), kBatches * 10);
    EXPECT_EQ(loaded->labels.size(), static_cast<size_t>(kBatches));
  }
}

// ---- Crash test ------------------------------------------------------------

constexpr int64_t kCrashFeatures = 8;

int64_t BatchTag(const std::string& id) {
  // Ids are "k<kill>-<op>"; the tag fixes the batch's values.
  std::vector<std::string> parts = absl::StrSplit(id.substr(1), '-');
  int64_t kill = 0, op = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &kill) || !absl::SimpleAtoi(parts[1], &op)) {
    return -1;
  }
  return kill * 100000 + op;
}

std::string ModelBytes(int64_t version) {
  std::string bytes(static_cast<size_t>(100 + (version * 7919) % 300000), '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>('a' + (version + i) % 26);
  return bytes;
}

// The child: ingests, relabels and publishes models until killed, writing a
// line for each acknowledged write only after the store returned OK.
[[noreturn]] void CrashChild(const std::string& dir, int fd, int kill, uint64_t seed) {
  auto opened = SqliteSessionStore::Open(dir);
  if (!opened.ok()) {
    Say(fd, absl::StrCat("E open: ", opened.status().ToString()));
    _exit(3);
  }
  SqliteSessionStore& store = **opened;
  absl::Status created = store.CreateSession("crash", SessionOptions{}, 0, "");
  if (!created.ok() && created.code() != absl::StatusCode::kAlreadyExists) {
    Say(fd, absl::StrCat("E create: ", created.ToString()));
    _exit(3);
  }
  auto list = store.ListSessions();
  if (!list.ok() || list->size() != 1) {
    Say(fd, "E list");
    _exit(3);
  }
  int64_t rows = (*list)[0].row_count;
  int64_t version = (*list)[0].model_version;
  std::mt19937_64 rng(seed);
  BatchRecord last;
  for (int op = 0; op < 100000; ++op) {
    const uint64_t dice = rng() % 100;
    if (dice < 55 || rows == 0) {
      const std::string id = absl::StrCat("k", kill, "-", op);
      BatchRecord batch = MakeBatch(id, rows, 1 + static_cast<int64_t>(rng() % 256),
                                    kCrashFeatures, BatchTag(id));
      auto appended = store.AppendBatch("crash", batch);
      if (!appended.ok() || appended->duplicate) {
        Say(fd, absl::StrCat("E append ", id, ": ", appended.status().ToString()));
        _exit(4);
      }
      Say(fd, absl::StrCat("B ", id, " ", batch.first_row_id, " ", batch.row_count));
      rows += batch.row_count;
      last = std::move(batch);
    } else if (dice < 65 && !last.batch_id.empty()) {
      // A client retry of an acknowledged batch: answered, not stored again.
      BatchRecord retry = last;
      retry.first_row_id = rows;
      auto again = store.AppendBatch("crash", retry);
      if (!again.ok() || !again->duplicate || again->first_row_id != last.first_row_id) {
        Say(fd, absl::StrCat("E retry ", last.batch_id, ": ", again.status().ToString()));
        _exit(4);
      }
    } else if (dice < 92) {
      std::vector<LabelRecord> labels;
      const int n = 1 + static_cast<int>(rng() % 3);
      for (int j = 0; j < n; ++j) {
        // Rows from a small range so that relabels are frequent.
        labels.push_back(LabelRecord{static_cast<int64_t>(rng() % std::min<int64_t>(rows, 50)),
                                     rng() % 2 == 0, int64_t{kill} * 10000000 + op * 4 + j});
      }
      absl::Status put = store.PutLabels("crash", labels);
      if (!put.ok()) {
        Say(fd, absl::StrCat("E labels: ", put.ToString()));
        _exit(4);
      }
      for (const LabelRecord& l : labels) {
        Say(fd, absl::StrCat("L ", l.time_micros, " ", l.row_id, " ", l.anomaly ? 1 : 0));
      }
    } else {
      auto run = store.BeginTraining("crash", TrainingState::kUpdating, op);
      absl::Status put = run.ok() ? store.PutModel("crash", ModelRecord{version + 1, 0, 0,
                                                                        ModelBytes(version + 1)},
                                                   *run)
                                  : run.status();
      if (!put.ok()) {
        Say(fd, absl::StrCat("E model: ", put.ToString()));
        _exit(4);
      }
      ++version;
      Say(fd, absl::StrCat("M ", version));
    }
  }
  _exit(0);  // not reached in practice: the parent kills first
}

TEST(SqliteSessionStoreTest, AcknowledgedWritesSurviveSigkill) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("AADD_CRASH_SEED")) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &seed)) << "AADD_CRASH_SEED is not a number: " << env;
  }
  std::cout << "crash test seed: " << seed << " (replay with AADD_CRASH_SEED=" << seed << ")\n";
  ::testing::Test::RecordProperty("crash_seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  constexpr int kKills = 24;

  struct AckedBatch {
    int64_t first, rows;
  };
  std::map<std::string, AckedBatch> acked_batches;
  std::map<int64_t, LabelRecord> acked_labels;  // by unique time
  int64_t acked_model = 0;
  int64_t unacked_batches_seen = 0;

  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill, ", seed ", seed));
    const int kill_after = static_cast<int>(rng() % 48);  // acks read before the kill
    const uint64_t child_seed = rng();
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CrashChild(dir.path(), fds[1], kill, child_seed);
    }
    close(fds[1]);
    FILE* in = fdopen(fds[0], "r");
    ASSERT_NE(in, nullptr);
    std::vector<std::string> lines;
    char* line = nullptr;
    size_t capacity = 0;
    bool killed = false;
    if (kill_after == 0) {  // at once: possibly inside Open() or schema creation
      ASSERT_EQ(::kill(pid, SIGKILL), 0);
      killed = true;
    }
    while (getline(&line, &capacity, in) > 0) {
      lines.emplace_back(line);
      if (!killed && static_cast<int>(lines.size()) >= kill_after) {
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        killed = true;
      }
    }
    free(line);
    fclose(in);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended on its own (status " << status << "): "
        << (lines.empty() ? std::string("no output") : lines.back());

    for (const std::string& l : lines) {
      std::istringstream parse(l);
      std::string kind;
      parse >> kind;
      if (kind == "B") {
        std::string id;
        AckedBatch b{};
        parse >> id >> b.first >> b.rows;
        acked_batches[id] = b;
      } else if (kind == "L") {
        LabelRecord label;
        int anomaly = 0;
        parse >> label.time_micros >> label.row_id >> anomaly;
        label.anomaly = anomaly == 1;
        acked_labels[label.time_micros] = label;
      } else if (kind == "M") {
        parse >> acked_model;
      } else {
        ADD_FAILURE() << "child reported: " << l;
      }
    }

    auto store = OpenOrDie(dir.path());
    ASSERT_NE(store, nullptr);
    auto loaded = store->LoadSession("crash");
    if (!loaded.ok()) {
      // Only possible when the very first child died before creating it.
      ASSERT_EQ(loaded.status().code(), absl::StatusCode::kNotFound) << loaded.status();
      ASSERT_TRUE(acked_batches.empty());
      continue;
    }
    // LoadSession already checked contiguity, unique ids, blob sizes and
    // checksums; check content and the acknowledgements.
    std::map<std::string, const BatchRecord*> stored;
    for (const BatchRecord& b : loaded->batches) {
      stored[b.batch_id] = &b;
      const BatchRecord expected =
          MakeBatch(b.batch_id, b.first_row_id, b.row_count, kCrashFeatures, BatchTag(b.batch_id));
      ASSERT_EQ(b.feature_count, kCrashFeatures) << b.batch_id;
      ASSERT_TRUE(b.values == expected.values) << "batch " << b.batch_id << " content differs";
    }
    for (const auto& [id, acked] : acked_batches) {
      auto it = stored.find(id);
      ASSERT_NE(it, stored.end()) << "acknowledged batch " << id << " is lost";
      EXPECT_EQ(it->second->first_row_id, acked.first) << id;
      EXPECT_EQ(it->second->row_count, acked.rows) << id;
    }
    unacked_batches_seen += static_cast<int64_t>(stored.size() - acked_batches.size());
    std::map<int64_t, int> seen;
    for (const LabelRecord& l : loaded->label_history) ++seen[l.time_micros];
    for (const auto& [time, count] : seen) {
      EXPECT_EQ(count, 1) << "label submission " << time << " stored " << count << " times";
    }
    for (const auto& [time, acked] : acked_labels) {
      ASSERT_EQ(seen.count(time), 1u) << "acknowledged label " << time << " is lost";
    }
    for (const LabelRecord& l : loaded->label_history) {
      auto it = acked_labels.find(l.time_micros);
      if (it == acked_labels.end()) continue;  // committed, killed before its ack
      EXPECT_EQ(l.row_id, it->second.row_id);
      EXPECT_EQ(l.anomaly, it->second.anomaly);
    }
    if (acked_model > 0) {
      ASSERT_TRUE(loaded->model.has_value()) << "acknowledged model " << acked_model << " lost";
      EXPECT_GE(loaded->model->version, acked_model);
    }
    if (loaded->model.has_value()) {
      EXPECT_TRUE(loaded->model->bytes == ModelBytes(loaded->model->version))
          << "model " << loaded->model->version << " is not whole";
    }
    // Runs begun before the kill are reported, then closed as recovery would.
    EXPECT_LE(loaded->interrupted_training.size(), 1u);
    for (const TrainingRunRecord& run : loaded->interrupted_training) {
      ASSERT_TRUE(store->FinishTraining("crash", run.run_id, "interrupted").ok());
    }
    // Later kills may commit unacknowledged writes; what the child reported
    // stays the truth to check. Acks are re-derived from the store so that
    // a committed-but-unacknowledged batch is also kept from now on.
    for (const BatchRecord& b : loaded->batches) {
      acked_batches.try_emplace(b.batch_id, AckedBatch{b.first_row_id, b.row_count});
    }
    for (const LabelRecord& l : loaded->label_history) acked_labels.try_emplace(l.time_micros, l);
    if (loaded->model.has_value()) acked_model = std::max(acked_model, loaded->model->version);
  }
  std::cout << "after " << kKills << " kills: " << acked_batches.size() << " batches, "
            << acked_labels.size() << " label submissions, model " << acked_model << ", "
            << unacked_batches_seen << " batches committed but killed before their ack\n";
  EXPECT_GT(acked_batches.size(), 20u) << "the children made too little progress to test";
}

}  // namespace
}  // namespace aad

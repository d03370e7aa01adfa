#include "server/storage/memory_session_store.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "format/feature_names.h"
#include "server/storage/write_rules.h"

namespace aad {

int64_t MemorySessionStore::StoredFeatureCount(const Stored& stored) {
  return stored.rows == 0 ? stored.record.options.feature_count : stored.feature_count;
}

void MemorySessionStore::AppendRows(Stored* stored, const BatchRecord& batch) {
  stored->batches.Insert(batch.batch_id, {batch.first_row_id, batch.row_count});
  stored->values.Append(batch.values);
  stored->rows += batch.row_count;
  stored->feature_count = batch.feature_count;
}

absl::StatusOr<MemorySessionStore::Stored*> MemorySessionStore::FindLocked(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return absl::NotFoundError(absl::StrCat("session '", id, "' is not stored"));
  }
  return &it->second;
}

absl::Status MemorySessionStore::CreateSession(const std::string& id,
                                               const SessionOptions& options,
                                               int64_t created_micros,
                                               const std::string& tenant) {
  if (id.empty()) return absl::InvalidArgumentError("session id is empty");
  MutexLock lock(&mu_);
  if (sessions_.count(id) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("session '", id, "' is already stored"));
  }
  Stored& stored = sessions_[id];
  stored.record.id = id;
  stored.record.created_micros = created_micros;
  stored.record.options = options;
  stored.record.tenant = tenant;
  return absl::OkStatus();
}

absl::Status MemorySessionStore::PutSession(const SessionRecord& record) {
  RETURN_IF_ERROR(ValidateSessionRecord(record, "imported record"));
  MutexLock lock(&mu_);
  if (sessions_.count(record.id) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("session '", record.id, "' is already stored"));
  }
  Stored& stored = sessions_[record.id];
  // Every field but the rows (kept below), the current labels (derived on
  // load) and interrupted runs (not stored).
  stored.record.id = record.id;
  stored.record.created_micros = record.created_micros;
  stored.record.options = record.options;
  stored.record.tenant = record.tenant;
  stored.record.label_history = record.label_history;
  stored.record.model = record.model;
  for (const BatchRecord& batch : record.batches) AppendRows(&stored, batch);
  return absl::OkStatus();
}

absl::Status MemorySessionStore::DeleteSession(const std::string& id) {
  MutexLock lock(&mu_);
  if (sessions_.erase(id) == 0) {
    return absl::NotFoundError(absl::StrCat("session '", id, "' is not stored"));
  }
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> MemorySessionStore::AppendBatch(const std::string& session,
                                                             const BatchRecord& batch) {
  RETURN_IF_ERROR(ValidateBatch(batch));
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Stored * stored, FindLocked(session));
  if (std::optional<BatchIndex::Span> old = stored->batches.Find(batch.batch_id)) {
    // Every stored batch has the session's width.
    return AnswerRetriedBatch(session, batch,
                              {old->first_row_id, old->row_count, stored->feature_count});
  }
  RETURN_IF_ERROR(CheckNewBatch(session, batch, stored->rows, StoredFeatureCount(*stored)));
  AppendRows(stored, batch);
  return AppendResult{batch.first_row_id, batch.row_count, false};
}

absl::Status MemorySessionStore::SetFeatureNames(const std::string& session,
                                                 const std::vector<std::string>& names) {
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("session '", session, "': no feature names given"));
  }
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Stored * stored, FindLocked(session));
  SessionOptions& options = stored->record.options;
  absl::Status check =
      CheckFeatureNamesUpdate(options.feature_names, StoredFeatureCount(*stored), names);
  if (!check.ok()) {
    return absl::Status(check.code(), absl::StrCat("session '", session, "': ", check.message()));
  }
  if (!options.feature_names.empty()) return absl::OkStatus();  // the same: nothing to write
  options.feature_names = names;
  if (options.feature_count == 0) options.feature_count = static_cast<int64_t>(names.size());
  return absl::OkStatus();
}

absl::Status MemorySessionStore::PutLabels(const std::string& session,
                                           absl::Span<const LabelRecord> labels) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Stored * stored, FindLocked(session));
  RETURN_IF_ERROR(CheckLabelledRows(session, labels, stored->rows));
  // The current labels are folded only for a submission that withdraws
  // (most do not): linear in the history, like the SQLite store's lookups.
  std::optional<absl::flat_hash_set<int64_t>> labelled;
  absl::Status withdrawals =
      CheckWithdrawals(labels, [&](int64_t row) -> absl::StatusOr<bool> {
        if (!labelled.has_value()) {
          labelled.emplace();
          for (const LabelRecord& l : CurrentLabels(stored->record.label_history)) {
            labelled->insert(l.row_id);
          }
        }
        return labelled->contains(row);
      });
  if (!withdrawals.ok()) {
    return absl::NotFoundError(absl::StrCat("session '", session, "': ", withdrawals.message(),
                                            "; nothing stored"));
  }
  stored->record.label_history.insert(stored->record.label_history.end(), labels.begin(),
                                      labels.end());
  return absl::OkStatus();
}

absl::Status MemorySessionStore::PutModel(const std::string& session, const ModelRecord& model,
                                          int64_t finished_run) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Stored * stored, FindLocked(session));
  const int64_t current = stored->record.model ? stored->record.model->version : 0;
  if (model.version <= current) {
    return absl::FailedPreconditionError(absl::StrCat("session '", session, "': model version ",
                                                      model.version, " is not newer than stored ",
                                                      current));
  }
  if (finished_run > 0 && stored->open_runs.count(finished_run) == 0) {
    return absl::NotFoundError(absl::StrCat("session '", session, "': no open training run ",
                                            finished_run));
  }
  stored->record.model = model;
  if (finished_run > 0) stored->open_runs.erase(finished_run);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MemorySessionStore::BeginTraining(const std::string& session,
                                                          TrainingState kind,
                                                          int64_t started_micros) {
  RETURN_IF_ERROR(ValidateRunKind(kind));
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Stored * stored, FindLocked(session));
  const int64_t run = stored->next_run_id++;
  stored->open_runs[run] = TrainingRunRecord{run, kind, started_micros};
  return run;
}

absl::Status MemorySessionStore::FinishTraining(const std::string& session, int64_t run_id,
                                                const std::string& /*outcome*/) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Stored * stored, FindLocked(session));
  if (stored->open_runs.erase(run_id) == 0) {
    return absl::NotFoundError(
        absl::StrCat("session '", session, "': no open training run ", run_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SessionSummary>> MemorySessionStore::ListSessions() {
  MutexLock lock(&mu_);
  std::vector<SessionSummary> out;
  out.reserve(sessions_.size());
  for (const auto& [id, stored] : sessions_) {
    out.push_back(SessionSummary{id, stored.record.created_micros, stored.rows,
                                 stored.record.model ? stored.record.model->version : 0,
                                 stored.record.tenant});
  }
  return out;
}

absl::StatusOr<SessionRecord> MemorySessionStore::LoadSession(const std::string& id) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Stored * stored, FindLocked(id));
  SessionRecord out = stored->record;
  out.batches.reserve(stored->batches.size());
  const int64_t width = stored->feature_count;
  stored->batches.ForEach([&](absl::string_view id, BatchIndex::Span span) {
    BatchRecord& b = out.batches.emplace_back();
    b.batch_id = std::string(id);
    b.first_row_id = span.first_row_id;
    b.row_count = span.row_count;
    b.feature_count = width;
    b.values.resize(static_cast<size_t>(span.row_count * width));
    stored->values.CopyOut(static_cast<size_t>(span.first_row_id * width), b.values.size(),
                           b.values.data());
  });
  out.labels = CurrentLabels(out.label_history);
  for (const auto& [run, record] : stored->open_runs) out.interrupted_training.push_back(record);
  return out;
}

}  // namespace aad

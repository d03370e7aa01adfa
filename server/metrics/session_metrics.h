// What the session layer reports to the metrics (metrics.h implements it):
// a narrow interface, so that sessions, the session manager, the training
// pool and the store decorator never see the Prometheus library, and a null
// pointer (metrics off) costs them one branch. Every method is thread-safe.
#ifndef AADD_SERVER_METRICS_SESSION_METRICS_H_
#define AADD_SERVER_METRICS_SESSION_METRICS_H_

#include <cstdint>

namespace aad {

class SessionMetrics {
 public:
  virtual ~SessionMetrics() = default;

  // A session joined the process (created, imported or restored) holding
  // `rows` rows, or left it (deleted) with `rows` rows.
  virtual void SessionAdded(int64_t rows) = 0;
  virtual void SessionRemoved(int64_t rows) = 0;
  // An ingest stored `rows` new rows (a retried batch stores none).
  virtual void RowsAdded(int64_t rows) = 0;
  // A label submission was stored: `verdicts` verdicts (new labels and
  // relabels; withdrawals are not verdicts), of which `anomalies_found`
  // made a row an anomaly that was not one just before.
  virtual void LabelsStored(int64_t verdicts, int64_t anomalies_found) = 0;
  // A training run ended (whatever its outcome) after `seconds`: a full
  // training or a label update.
  virtual void TrainingRun(bool full, double seconds) = 0;
  // A label submission's model was published `seconds` after the labels
  // were stored.
  virtual void FeedbackRound(double seconds) = 0;
  // Training jobs queued and not yet running, over all sessions.
  virtual void TrainingQueueDepth(int64_t jobs) = 0;
  // One durable write transaction of the session store took `seconds`.
  virtual void StoreCommit(double seconds) = 0;
};

}  // namespace aad

#endif  // AADD_SERVER_METRICS_SESSION_METRICS_H_

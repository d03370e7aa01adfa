// The service's unary calls as functions of a request and a response
// message, shared by both front doors: the gRPC service (AadService) and
// the HTTP/JSON gateway. Each front door only finds the call's session id
// (request field, metadata or URL path) and maps the returned status to its
// wire; what a call does is written once, here.
#ifndef AADD_SERVER_UNARY_CALLS_H_
#define AADD_SERVER_UNARY_CALLS_H_

#include <atomic>
#include <functional>
#include <string>

#include "aad/v1/aad.pb.h"
#include "absl/status/status.h"
#include "server/session_manager.h"

namespace aad {

// Thread-safe: every method may be called from any thread at once.
class UnaryCalls {
 public:
  // `sessions` must outlive this object and every call in flight.
  explicit UnaryCalls(SessionManager* sessions) : sessions_(sessions) {}

  // Refuse new work with UNAVAILABLE from now on (graceful shutdown); reads
  // keep being answered.
  void StartDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // `tenant` is the caller the front door authenticated ("" without
  // --auth_tokens): it sees and creates only its own sessions (see
  // SessionManager). `id` is the session the front door resolved for the
  // call; it overrides the request's session_id field.
  absl::Status CreateSession(const std::string& tenant, const std::string& id,
                             const aad::v1::CreateSessionRequest& request,
                             aad::v1::CreateSessionResponse* response);
  absl::Status GetSession(const std::string& tenant, const std::string& id,
                          aad::v1::GetSessionResponse* response);
  absl::Status ListSessions(const std::string& tenant, const aad::v1::ListSessionsRequest& request,
                            aad::v1::ListSessionsResponse* response);
  absl::Status DeleteSession(const std::string& tenant, const std::string& id);
  absl::Status Score(const std::string& tenant, const std::string& id,
                     const aad::v1::ScoreRequest& request, aad::v1::ScoreResponse* response);
  absl::Status GetQueryCandidates(const std::string& tenant, const std::string& id,
                                  const aad::v1::GetQueryCandidatesRequest& request,
                                  aad::v1::GetQueryCandidatesResponse* response);
  // Answers through `done`, exactly once: at once, or with wait_for_model
  // from a training thread once the model holding the labels is published.
  // `response` must stay valid until then.
  void SubmitLabels(const std::string& tenant, const std::string& id,
                    const aad::v1::SubmitLabelsRequest& request,
                    aad::v1::SubmitLabelsResponse* response,
                    std::function<void(const absl::Status&)> done);

 private:
  SessionManager* const sessions_;
  std::atomic<bool> draining_{false};
};

}  // namespace aad

#endif  // AADD_SERVER_UNARY_CALLS_H_

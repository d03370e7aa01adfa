#include "server/unary_calls.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/call_routing.h"
#include "server/proto_convert.h"

namespace aad {
namespace {

// Features an explanation names when the request does not say.
constexpr int kDefaultExplainTop = 5;

void SetScores(const RowScores& scores, const std::vector<std::string>& names,
               aad::v1::ScoreResponse* response) {
  response->mutable_p()->Assign(scores.p.begin(), scores.p.end());
  response->mutable_logit()->Assign(scores.logit.begin(), scores.logit.end());
  response->mutable_s()->Assign(scores.s.begin(), scores.s.end());
  response->set_model_version(scores.model_version);
  for (const aad::Explanation& e : scores.explanations) {
    ToProto(e, names, response->add_explanations());
  }
}

}  // namespace

absl::Status UnaryCalls::CreateSession(const std::string& tenant, const std::string& id,
                                       const aad::v1::CreateSessionRequest& request,
                                       aad::v1::CreateSessionResponse* response) {
  if (draining()) return DrainingStatus();
  ASSIGN_OR_RETURN(SessionOptions options, FromProto(request));
  ASSIGN_OR_RETURN(std::shared_ptr<Session> session, sessions_->Create(std::move(options), id, tenant));
  ToProto(session->Info(), response->mutable_session());
  return absl::OkStatus();
}

absl::Status UnaryCalls::GetSession(const std::string& tenant, const std::string& id,
                                    aad::v1::GetSessionResponse* response) {
  ASSIGN_OR_RETURN(auto session, FindSession(sessions_, tenant, id));
  ToProto(session->Info(), response->mutable_session());
  return absl::OkStatus();
}

absl::Status UnaryCalls::ListSessions(const std::string& tenant,
                                      const aad::v1::ListSessionsRequest& request,
                                      aad::v1::ListSessionsResponse* response) {
  if (request.page_size() < 0 || request.page_size() > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be in 0..1000, got ", request.page_size()));
  }
  // A page token is the last id of the previous page.
  if (!request.page_token().empty() && !ValidateSessionId(request.page_token()).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token '", absl::CHexEscape(request.page_token()),
                     "' is not one this server gave (the last id of a page)"));
  }
  const int page_size = request.page_size() == 0 ? 100 : request.page_size();
  // One more than asked tells whether another page follows.
  ASSIGN_OR_RETURN(std::vector<SessionInfo> sessions,
                   sessions_->List(request.page_token(), page_size + 1, tenant));
  const bool more = static_cast<int>(sessions.size()) > page_size;
  if (more) sessions.pop_back();
  for (const SessionInfo& s : sessions) ToProto(s, response->add_sessions());
  if (more) response->set_next_page_token(sessions.back().id);
  return absl::OkStatus();
}

absl::Status UnaryCalls::DeleteSession(const std::string& tenant, const std::string& id) {
  if (id.empty()) return FindSession(sessions_, tenant, id).status();
  return sessions_->Delete(id, tenant);
}

absl::Status UnaryCalls::Score(const std::string& tenant, const std::string& id,
                               const aad::v1::ScoreRequest& request,
                               aad::v1::ScoreResponse* response) {
  ASSIGN_OR_RETURN(auto session, FindSession(sessions_, tenant, id));
  if (!request.values().empty() && !request.row_ids().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "score request has both ", request.values_size(), " inline values and ",
        request.row_ids_size(), " row ids; send one or the other"));
  }
  if (request.has_explain_top() && !request.explain()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "explain_top is ", request.explain_top(), " but explain is false; set explain too"));
  }
  const int explain_top =
      !request.explain() ? 0 : request.has_explain_top() ? request.explain_top() : kDefaultExplainTop;
  if (request.explain() && explain_top < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("explain_top must be >= 1 with explain, got ", explain_top));
  }
  RowScores scores;
  if (request.row_ids().empty()) {
    ASSIGN_OR_RETURN(scores, session->ScoreRows(request.feature_count(),
                                                absl::MakeConstSpan(request.values().data(),
                                                                    request.values().size()),
                                                explain_top));
  } else {
    ASSIGN_OR_RETURN(scores,
                     session->ScorePoolRows(absl::MakeConstSpan(request.row_ids().data(),
                                                                request.row_ids().size()),
                                            explain_top));
  }
  SetScores(scores, session->feature_names(), response);
  return absl::OkStatus();
}

absl::Status UnaryCalls::GetQueryCandidates(const std::string& tenant, const std::string& id,
                                            const aad::v1::GetQueryCandidatesRequest& request,
                                            aad::v1::GetQueryCandidatesResponse* response) {
  ASSIGN_OR_RETURN(auto session, FindSession(sessions_, tenant, id));
  bool has_strategy = false;
  ASSIGN_OR_RETURN(aad::StrategyKind strategy, FromProto(request.strategy(), &has_strategy));
  const uint64_t seed = request.seed();
  ASSIGN_OR_RETURN(Candidates c,
                   session->QueryCandidates(
                       request.k(), has_strategy ? &strategy : nullptr,
                       request.has_seed() ? &seed : nullptr,
                       request.has_explain_top() ? request.explain_top() : kDefaultExplainTop));
  response->mutable_row_ids()->Assign(c.row_ids.begin(), c.row_ids.end());
  response->set_feature_count(static_cast<int32_t>(c.feature_count));
  response->mutable_values()->Assign(c.values.begin(), c.values.end());
  response->mutable_p()->Assign(c.p.begin(), c.p.end());
  response->mutable_s()->Assign(c.s.begin(), c.s.end());
  response->set_model_version(c.model_version);
  for (const aad::Explanation& e : c.explanations) {
    ToProto(e, c.feature_names, response->add_explanations());
  }
  for (const std::string& name : c.feature_names) response->add_feature_names(name);
  return absl::OkStatus();
}

void UnaryCalls::SubmitLabels(const std::string& tenant, const std::string& id,
                              const aad::v1::SubmitLabelsRequest& request,
                              aad::v1::SubmitLabelsResponse* response,
                              std::function<void(const absl::Status&)> done) {
  if (draining()) return done(DrainingStatus());
  auto session = FindSession(sessions_, tenant, id);
  if (!session.ok()) return done(session.status());
  (*session)->SubmitLabels(FromProto(request.labels()), request.wait_for_model(),
                           [response, done = std::move(done)](absl::StatusOr<LabelResult> result) {
                             if (result.ok()) {
                               response->set_labels(result->labels);
                               response->set_model_version(result->model_version);
                               response->set_update_scheduled(result->update_scheduled);
                             }
                             done(result.status());
                           });
}

}  // namespace aad

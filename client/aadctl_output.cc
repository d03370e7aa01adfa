#include "client/aadctl_output.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/enum_names.h"
#include "core/util/json_string.h"

namespace aad {

int PrintError(const absl::Status& status) {
  std::cerr << "aadctl: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  return 1;
}

std::string FormatSession(const aad::v1::SessionInfo& s, bool json) {
  const std::string state =
      EnumShortName(aad::v1::TrainingState_descriptor(), s.training_state());
  if (json) {
    const std::string names = absl::StrJoin(
        s.feature_names(), ",",
        [](std::string* out, const std::string& n) { out->append(aad::JsonQuote(n)); });
    return absl::StrFormat(
        "{\"session_id\":%s,\"rows\":%d,\"labels\":%d,\"anomalies\":%d,\"model_version\":%d,"
        "\"model_rows\":%d,\"feature_count\":%d,\"feature_names\":[%s],\"training_state\":%s,"
        "\"last_training_error\":%s}\n",
        aad::JsonQuote(s.session_id()), s.rows(), s.labels(), s.anomalies(), s.model_version(),
        s.model_rows(), s.feature_count(), names, aad::JsonQuote(state),
        aad::JsonQuote(s.last_training_error()));
  }
  // The columns' names, when the session has them (a CSV header), before
  // the last error, which may be long.
  const std::string names =
      s.feature_names().empty()
          ? ""
          : absl::StrCat(" features ", absl::StrJoin(s.feature_names(), ","));
  return absl::StrFormat("%s rows %d labels %d anomalies %d model_version %d state %s%s%s%s\n",
                         s.session_id(), s.rows(), s.labels(), s.anomalies(), s.model_version(),
                         state, names, s.last_training_error().empty() ? "" : " last error: ",
                         s.last_training_error());
}

namespace {

// The name of column `feature`, or "#feature" when the session has none.
std::string FeatureName(const google::protobuf::RepeatedPtrField<std::string>& names,
                        int feature) {
  if (feature >= 0 && feature < names.size() && !names[feature].empty()) return names[feature];
  return absl::StrCat("#", feature);
}

std::string ExplanationJson(const aad::v1::Explanation& e,
                            const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::vector<std::string> top;
  for (const aad::v1::FeatureContribution& c : e.top()) {
    top.push_back(absl::StrFormat(
        "{\"feature\":%s,\"index\":%d,\"contribution\":%.6g,\"value\":%.9g,\"typical\":%.9g,"
        "\"spread\":%.9g}",
        aad::JsonQuote(FeatureName(names, c.feature())), c.feature(), c.contribution(), c.value(),
        c.typical(), c.spread()));
  }
  return absl::StrFormat(
      "{\"top\":[%s],\"rest\":%.6g,\"unattributed\":%.6g,\"logit\":%.9g,\"base\":%.9g}",
      absl::StrJoin(top, ","), e.rest(), e.unattributed(), e.logit(), e.base());
}

}  // namespace

std::string FormatCandidates(const aad::v1::GetQueryCandidatesResponse& c, bool json) {
  const auto& names = c.feature_names();
  const bool explained = c.explanations_size() == c.row_ids_size();
  if (json) {
    std::vector<std::string> items;
    for (int i = 0; i < c.row_ids_size(); ++i) {
      std::vector<std::string> f;
      for (int j = 0; j < c.feature_count(); ++j) {
        f.push_back(absl::StrFormat("%.9g", c.values(i * c.feature_count() + j)));
      }
      items.push_back(absl::StrFormat(
          "{\"id\":%d,\"score\":%.9g,\"s\":%.9g,\"features\":[%s]%s}", c.row_ids(i), c.p(i),
          c.s(i), absl::StrJoin(f, ","),
          explained ? absl::StrCat(",\"explanation\":", ExplanationJson(c.explanations(i), names))
                    : ""));
    }
    std::vector<std::string> quoted;
    for (const std::string& n : names) quoted.push_back(aad::JsonQuote(n));
    return absl::StrFormat("{\"model_version\":%d,\"feature_names\":[%s],\"candidates\":[%s]}\n",
                           c.model_version(), absl::StrJoin(quoted, ","),
                           absl::StrJoin(items, ","));
  }
  std::string out =
      absl::StrFormat("%10s %12s %12s   (model version %d)\n", "id", "p", "s", c.model_version());
  for (int i = 0; i < c.row_ids_size(); ++i) {
    absl::StrAppendFormat(&out, "%10d %12.6f %12.6f\n", c.row_ids(i), c.p(i), c.s(i));
    if (!explained) continue;
    // Why: each named feature's push on the logit, its value against the
    // pool's median and robust spread.
    const aad::v1::Explanation& e = c.explanations(i);
    for (const aad::v1::FeatureContribution& f : e.top()) {
      absl::StrAppendFormat(&out, "%14s %+8.3f  %-20s = %-12.6g (typical %.6g +- %.3g)\n", "",
                            f.contribution(), FeatureName(names, f.feature()), f.value(),
                            f.typical(), f.spread());
    }
    const int others = c.feature_count() - e.top_size();
    if (others > 0) {
      absl::StrAppendFormat(&out, "%14s %+8.3f  (%d other feature%s)\n", "", e.rest(), others,
                            others == 1 ? "" : "s");
    }
  }
  return out;
}

std::string FormatScores(const std::vector<float>& p, const std::vector<float>& s,
                         int64_t version, bool json) {
  if (json) {
    std::vector<std::string> items;
    for (size_t i = 0; i < p.size(); ++i) {
      items.push_back(absl::StrFormat("{\"row\":%d,\"p\":%.9g,\"s\":%.9g}", i, p[i], s[i]));
    }
    return absl::StrFormat("{\"model_version\":%d,\"scores\":[%s]}\n", version,
                           absl::StrJoin(items, ","));
  }
  std::string out = absl::StrFormat("%8s %12s %12s   (model version %d)\n", "row", "p", "s", version);
  for (size_t i = 0; i < p.size(); ++i) absl::StrAppendFormat(&out, "%8d %12.6f %12.6f\n", i, p[i], s[i]);
  return out;
}

}  // namespace aad

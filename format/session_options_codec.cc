#include "format/session_options_codec.h"

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/detectors/deep_detector.h"

namespace aad {
namespace {

// A tripwire: a field added to aad::ActiveConfig must be persisted here too,
// or a restart would silently reset it. Update the size after adding the
// field to Fields() below.
static_assert(sizeof(aad::ActiveConfig) == 104,
              "aad::ActiveConfig changed: persist the new field in session_options_codec.cc");

constexpr absl::string_view kHeader = "aadd-session-options";

// One persisted field: how to print it and how to parse it into a record.
struct Field {
  std::function<std::string(const SessionOptions&)> print;
  std::function<bool(absl::string_view, SessionOptions*)> parse;
};

// Paths from a record to the struct that holds a field, const and not.
struct ConfigPath {
  static aad::ActiveConfig& Get(SessionOptions& r) { return r.config; }
  static const aad::ActiveConfig& Get(const SessionOptions& r) { return r.config; }
};
struct UaiPath {
  static aad::UaiInputOptions& Get(SessionOptions& r) { return r.config.uai_inputs; }
  static const aad::UaiInputOptions& Get(const SessionOptions& r) {
    return r.config.uai_inputs;
  }
};

template <typename T>
Field IntField(T aad::ActiveConfig::*member) {
  return {[member](const SessionOptions& r) { return absl::StrCat(r.config.*member); },
          [member](absl::string_view v, SessionOptions* r) {
            int64_t x;
            if (!absl::SimpleAtoi(v, &x)) return false;
            r->config.*member = static_cast<T>(x);
            // Rejects values that do not fit the field instead of wrapping.
            return static_cast<int64_t>(r->config.*member) == x;
          }};
}

Field SeedField() {
  return {[](const SessionOptions& r) { return absl::StrCat(r.config.seed); },
          [](absl::string_view v, SessionOptions* r) {
            return absl::SimpleAtoi(v, &r->config.seed);
          }};
}

template <typename P, typename S>
Field FloatField(float S::*member) {
  return {[member](const SessionOptions& r) {
            return absl::StrFormat("%.9g", P::Get(r).*member);
          },
          [member](absl::string_view v, SessionOptions* r) {
            return absl::SimpleAtof(v, &(P::Get(*r).*member));
          }};
}

template <typename P, typename S>
Field BoolField(bool S::*member) {
  return {[member](const SessionOptions& r) {
            return std::string(P::Get(r).*member ? "1" : "0");
          },
          [member](absl::string_view v, SessionOptions* r) {
            if (v != "0" && v != "1") return false;
            P::Get(*r).*member = v == "1";
            return true;
          }};
}

// Every field but the repeated feature names, in the order they are written.
const std::vector<std::pair<std::string, Field>>& Fields() {
  using C = aad::ActiveConfig;
  using U = aad::UaiInputOptions;
  static const auto* fields = new std::vector<std::pair<std::string, Field>>{
      {"detector",
       {[](const SessionOptions& r) {
          return std::string(aad::DetectorKindName(r.config.detector));
        },
        [](absl::string_view v, SessionOptions* r) {
          auto kind = aad::ParseDetectorKind(v);
          if (!kind.ok()) return false;
          r->config.detector = *kind;
          return true;
        }}},
      {"hidden_units", IntField(&C::hidden_units)},
      {"latent_units", IntField(&C::latent_units)},
      {"pretrain_epochs", IntField(&C::pretrain_epochs)},
      {"max_pretrain_rows", IntField(&C::max_pretrain_rows)},
      {"batch_size", IntField(&C::batch_size)},
      {"learning_rate", FloatField<ConfigPath>(&C::learning_rate)},
      {"weight_decay", FloatField<ConfigPath>(&C::weight_decay)},
      {"forest_trees", IntField(&C::forest_trees)},
      {"forest_sample_size", IntField(&C::forest_sample_size)},
      {"uai.latent", BoolField<UaiPath>(&U::latent)},
      {"uai.evidence", BoolField<UaiPath>(&U::evidence)},
      {"uai.score", BoolField<UaiPath>(&U::score)},
      {"uai.forest", BoolField<UaiPath>(&U::forest)},
      {"uai.raw_input", BoolField<UaiPath>(&U::raw_input)},
      {"uai.log_scale", BoolField<UaiPath>(&U::log_scale)},
      {"uai.log_epsilon", FloatField<UaiPath>(&U::log_epsilon)},
      {"uai.leaves", BoolField<UaiPath>(&U::leaves)},
      {"prior_strength", FloatField<ConfigPath>(&C::prior_strength)},
      {"bias_prior_strength", FloatField<ConfigPath>(&C::bias_prior_strength)},
      {"prior_score_weight", FloatField<ConfigPath>(&C::prior_score_weight)},
      {"prior_bias", FloatField<ConfigPath>(&C::prior_bias)},
      {"leaf_input_scale", FloatField<ConfigPath>(&C::leaf_input_scale)},
      {"freeze_detector", BoolField<ConfigPath>(&C::freeze_detector)},
      {"finetune_steps", IntField(&C::finetune_steps)},
      {"label_loss_weight", FloatField<ConfigPath>(&C::label_loss_weight)},
      {"max_labelled_per_step", IntField(&C::max_labelled_per_step)},
      {"seed", SeedField()},
      {"strategy",
       {[](const SessionOptions& r) {
          return std::string(aad::StrategyKindName(r.strategy));
        },
        [](absl::string_view v, SessionOptions* r) {
          auto kind = aad::ParseStrategyKind(v);
          if (!kind.ok()) return false;
          r->strategy = *kind;
          return true;
        }}},
      {"feature_count",
       {[](const SessionOptions& r) { return absl::StrCat(r.feature_count); },
        [](absl::string_view v, SessionOptions* r) {
          return absl::SimpleAtoi(v, &r->feature_count) && r->feature_count >= 0;
        }}},
  };
  return *fields;
}

}  // namespace

std::string EncodeSessionOptions(const SessionOptions& options) {
  std::string out = absl::StrCat(kHeader, " ", kSessionOptionsFormatVersion, "\n");
  for (const auto& [key, field] : Fields()) {
    absl::StrAppend(&out, key, "=", field.print(options), "\n");
  }
  // Names may hold any byte, '=' and newlines included: C-escaped.
  for (const std::string& name : options.feature_names) {
    absl::StrAppend(&out, "feature_name=", absl::CEscape(name), "\n");
  }
  return out;
}

absl::StatusOr<SessionOptions> DecodeSessionOptions(absl::string_view text,
                                                         absl::string_view source) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.empty()) {
    return absl::DataLossError(absl::StrCat(source, ": session options are empty"));
  }
  std::vector<absl::string_view> header = absl::StrSplit(lines[0], ' ');
  int version = 0;
  if (header.size() != 2 || header[0] != kHeader || !absl::SimpleAtoi(header[1], &version) ||
      version < 1) {
    return absl::DataLossError(absl::StrCat(source, ": session options start with '",
                                            absl::CHexEscape(lines[0]), "', expected '",
                                            kHeader, " N'"));
  }
  if (version > kSessionOptionsFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        source, ": session options format version ", version, " is newer than this build reads (",
        kSessionOptionsFormatVersion, "); upgrade aadd"));
  }
  static const auto* by_key = [] {
    auto* m = new absl::flat_hash_map<std::string, const Field*>;
    for (const auto& [key, field] : Fields()) (*m)[key] = &field;
    return m;
  }();
  SessionOptions out;
  if (version < 2) out.config.uai_inputs.leaves = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    // Only the first '=' splits: values (C-escaped names) may hold more.
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(lines[i], absl::MaxSplits('=', 1));
    auto bad = [&](absl::string_view why) {
      return absl::DataLossError(absl::StrCat(source, ": session options line ", i + 1, " '",
                                              absl::CHexEscape(lines[i]), "': ", why));
    };
    if (kv.first == "feature_name") {
      std::string name;
      if (!absl::CUnescape(kv.second, &name)) return bad("bad escape in feature name");
      out.feature_names.push_back(std::move(name));
      continue;
    }
    auto it = by_key->find(kv.first);
    if (it == by_key->end()) return bad("unknown key");
    if (!it->second->parse(kv.second, &out)) return bad("value does not parse");
  }
  absl::Status valid = out.config.Validate();
  if (!valid.ok()) {
    return absl::DataLossError(
        absl::StrCat(source, ": stored session options are invalid: ", valid.message()));
  }
  return out;
}

}  // namespace aad

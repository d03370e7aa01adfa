#include "server/proto_convert.h"

#include "absl/strings/str_cat.h"

namespace aad {

absl::StatusOr<aad::StrategyKind> FromProto(aad::v1::QueryStrategy strategy, bool* has_value) {
  *has_value = true;
  switch (strategy) {
    case aad::v1::QUERY_STRATEGY_UNSPECIFIED:
      *has_value = false;
      return aad::StrategyKind::kTop;
    case aad::v1::QUERY_STRATEGY_TOP: return aad::StrategyKind::kTop;
    case aad::v1::QUERY_STRATEGY_UNCERTAIN: return aad::StrategyKind::kUncertain;
    case aad::v1::QUERY_STRATEGY_DIVERSE: return aad::StrategyKind::kDiverse;
    case aad::v1::QUERY_STRATEGY_RANDOM: return aad::StrategyKind::kRandom;
    default: break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown query strategy ", static_cast<int>(strategy)));
}

std::vector<LabelChange> FromProto(
    const google::protobuf::RepeatedPtrField<aad::v1::Label>& labels) {
  std::vector<LabelChange> out;
  out.reserve(static_cast<size_t>(labels.size()));
  for (const aad::v1::Label& l : labels) {
    out.push_back({l.row_id(), l.anomaly() && !l.withdraw(), l.withdraw()});
  }
  return out;
}

aad::v1::QueryStrategy ToProto(aad::StrategyKind kind) {
  switch (kind) {
    case aad::StrategyKind::kTop: return aad::v1::QUERY_STRATEGY_TOP;
    case aad::StrategyKind::kUncertain: return aad::v1::QUERY_STRATEGY_UNCERTAIN;
    case aad::StrategyKind::kDiverse: return aad::v1::QUERY_STRATEGY_DIVERSE;
    case aad::StrategyKind::kRandom: return aad::v1::QUERY_STRATEGY_RANDOM;
  }
  return aad::v1::QUERY_STRATEGY_UNSPECIFIED;
}

absl::StatusOr<SessionOptions> FromProto(const aad::v1::CreateSessionRequest& request) {
  SessionOptions o;
  const aad::v1::SessionConfig& c = request.config();
  switch (c.detector()) {
    case aad::v1::DETECTOR_KIND_UNSPECIFIED:
    case aad::v1::DETECTOR_KIND_AUTOENCODER:
      o.config.detector = aad::DetectorKind::kAutoencoder;
      break;
    case aad::v1::DETECTOR_KIND_DEEP_SVDD:
      o.config.detector = aad::DetectorKind::kDeepSvdd;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown detector kind ", static_cast<int>(c.detector())));
  }
  bool has_strategy = false;
  auto strategy = FromProto(c.strategy(), &has_strategy);
  if (!strategy.ok()) return strategy.status();
  o.strategy = *strategy;
  if (c.has_hidden_units()) o.config.hidden_units = c.hidden_units();
  if (c.has_latent_units()) o.config.latent_units = c.latent_units();
  if (c.has_pretrain_epochs()) o.config.pretrain_epochs = c.pretrain_epochs();
  if (c.has_batch_size()) o.config.batch_size = c.batch_size();
  if (c.has_learning_rate()) o.config.learning_rate = c.learning_rate();
  if (c.has_forest_trees()) o.config.forest_trees = c.forest_trees();
  if (c.has_prior_strength()) o.config.prior_strength = c.prior_strength();
  if (c.has_freeze_detector()) o.config.freeze_detector = c.freeze_detector();
  if (c.has_finetune_steps()) o.config.finetune_steps = c.finetune_steps();
  if (c.has_seed()) o.config.seed = c.seed();
  if (c.has_max_pretrain_rows()) o.config.max_pretrain_rows = c.max_pretrain_rows();
  if (c.has_leaf_inputs()) o.config.uai_inputs.leaves = c.leaf_inputs();
  if (c.has_leaf_input_scale()) o.config.leaf_input_scale = c.leaf_input_scale();
  o.feature_count = request.feature_count();
  o.feature_names.assign(request.feature_names().begin(), request.feature_names().end());
  return o;
}

void ToProto(const SessionInfo& s, aad::v1::SessionInfo* info) {
  info->set_session_id(s.id);
  aad::v1::SessionConfig* c = info->mutable_config();
  const aad::ActiveConfig& a = s.options.config;
  c->set_detector(a.detector == aad::DetectorKind::kDeepSvdd ? aad::v1::DETECTOR_KIND_DEEP_SVDD
                                                             : aad::v1::DETECTOR_KIND_AUTOENCODER);
  c->set_strategy(ToProto(s.options.strategy));
  c->set_hidden_units(a.hidden_units);
  c->set_latent_units(a.latent_units);
  c->set_pretrain_epochs(a.pretrain_epochs);
  c->set_batch_size(a.batch_size);
  c->set_learning_rate(a.learning_rate);
  c->set_forest_trees(a.forest_trees);
  c->set_prior_strength(a.prior_strength);
  c->set_freeze_detector(a.freeze_detector);
  c->set_finetune_steps(a.finetune_steps);
  c->set_seed(a.seed);
  c->set_max_pretrain_rows(a.max_pretrain_rows);
  c->set_leaf_inputs(a.uai_inputs.leaves);
  c->set_leaf_input_scale(a.leaf_input_scale);
  info->set_feature_count(static_cast<int32_t>(s.options.feature_count));
  for (const std::string& n : s.options.feature_names) info->add_feature_names(n);
  info->set_rows(s.rows);
  info->set_labels(s.labels);
  info->set_anomalies(s.anomalies);
  info->set_model_version(s.model_version);
  info->set_model_rows(s.model_rows);
  info->set_label_rounds(s.label_rounds);
  switch (s.state) {
    case TrainingState::kIdle: info->set_training_state(aad::v1::TRAINING_STATE_IDLE); break;
    case TrainingState::kTraining:
      info->set_training_state(aad::v1::TRAINING_STATE_TRAINING);
      break;
    case TrainingState::kUpdating:
      info->set_training_state(aad::v1::TRAINING_STATE_UPDATING);
      break;
  }
  info->set_last_training_error(s.last_training_error);
}

void ToProto(const aad::Explanation& explanation, const std::vector<std::string>& names,
             aad::v1::Explanation* out) {
  for (const aad::FeatureContribution& c : explanation.top) {
    aad::v1::FeatureContribution* f = out->add_top();
    f->set_feature(c.feature);
    if (c.feature < static_cast<int>(names.size())) f->set_name(names[c.feature]);
    f->set_contribution(c.contribution);
    f->set_value(c.value);
    f->set_typical(c.typical);
    f->set_spread(c.spread);
  }
  out->set_rest(explanation.rest);
  out->set_unattributed(explanation.unattributed);
  out->set_logit(explanation.logit);
  out->set_base(explanation.base);
}

}  // namespace aad

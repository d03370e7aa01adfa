// Session settings of a small, fast model for the server tests.
#ifndef AADD_TESTS_TESTING_SMALL_SESSION_H_
#define AADD_TESTS_TESTING_SMALL_SESSION_H_

#include "format/session_record.h"

namespace aad::testing {

inline SessionOptions SmallSessionOptions() {
  SessionOptions o;
  o.config.pretrain_epochs = 2;
  o.config.hidden_units = 8;
  o.config.latent_units = 2;
  o.config.forest_trees = 10;
  return o;
}

}  // namespace aad::testing

#endif  // AADD_TESTS_TESTING_SMALL_SESSION_H_

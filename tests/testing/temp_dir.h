// The tests' one scratch directory: a fresh directory under $TMPDIR (or the
// system's temporary directory), removed with its contents at the end.
#ifndef AADD_TESTS_TESTING_TEMP_DIR_H_
#define AADD_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "gtest/gtest.h"

namespace aad::testing {

class TempDir {
 public:
  TempDir() {
    std::vector<char> pattern;
    const std::string p = (std::filesystem::temp_directory_path() / "aadd-test-XXXXXX").string();
    pattern.assign(p.begin(), p.end());
    pattern.push_back('\0');
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp(" << p << ") failed";
      return;
    }
    path_ = pattern.data();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty when the directory could not be made (the test has failed).
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace aad::testing

#endif  // AADD_TESTS_TESTING_TEMP_DIR_H_

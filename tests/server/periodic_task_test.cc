#include "server/periodic_task.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

namespace aad {
namespace {

TEST(PeriodicTask, RunsAgainAndAgainUntilDestroyed) {
  std::mutex mu;
  std::condition_variable ran;
  int runs = 0;
  {
    PeriodicTask task(std::chrono::milliseconds(1), [&] {
      std::lock_guard<std::mutex> lock(mu);
      ++runs;
      ran.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(ran.wait_for(lock, std::chrono::seconds(30), [&] { return runs >= 3; }));
  }
  // The destructor joined the thread: `runs` is no longer written.
  EXPECT_GE(runs, 3);
}

TEST(PeriodicTask, ADestructorDoesNotWaitForThePeriod) {
  // An hour's period: the destructor must wake the thread rather than wait
  // (the test's own timeout would catch a hang).
  int runs = 0;
  { PeriodicTask task(std::chrono::hours(1), [&runs] { ++runs; }); }
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace aad

#include "server/thread_training_pool.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"
#include "server/mutex.h"

namespace aad {
namespace {

TEST(ThreadTrainingPool, RunsEveryJobAndDrainsTheQueueBeforeItStops) {
  std::atomic<int> ran{0};
  {
    ThreadTrainingPool pool(2);
    for (int i = 0; i < 100; ++i) pool.Schedule([&ran] { ran.fetch_add(1); });
  }  // the destructor runs what is queued, then joins
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadTrainingPool, NoMoreJobsRunAtOnceThanItHasThreads) {
  Mutex mu;
  CondVar changed;
  int running = 0, most = 0, done = 0;
  {
    ThreadTrainingPool pool(2);
    for (int i = 0; i < 6; ++i) {
      pool.Schedule([&] {
        MutexLock lock(&mu);
        ++running;
        most = std::max(most, running);
        changed.SignalAll();
        // Hold the slot until a second job runs beside this one, or every
        // other job has finished.
        while (running < 2 && done < 5) changed.Wait(&mu);
        --running;
        ++done;
        changed.SignalAll();
      });
    }
  }
  EXPECT_EQ(done, 6);
  EXPECT_EQ(most, 2);
}

TEST(ThreadTrainingPool, AtLeastOneThread) {
  std::atomic<int> ran{0};
  {
    ThreadTrainingPool pool(0);
    pool.Schedule([&ran] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace aad

// CallsInFlight (server/calls_in_flight.h): the count a graceful shutdown
// waits on, and the streams it stops.
#include "server/calls_in_flight.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace aad {
namespace {

class FakeStream final : public CallsInFlight::Stoppable {
 public:
  void Stop() override { ++stops; }
  int stops = 0;
};

TEST(CallsInFlight, WaitsUntilTheLastCallLeaves) {
  CallsInFlight calls;
  EXPECT_TRUE(calls.WaitUntilNone(std::chrono::system_clock::now()));
  ASSERT_TRUE(calls.Enter());
  ASSERT_TRUE(calls.Enter());
  EXPECT_EQ(calls.count(), 2);
  // Times out with calls in flight.
  EXPECT_FALSE(calls.WaitUntilNone(std::chrono::system_clock::now() +
                                   std::chrono::milliseconds(20)));
  calls.Leave();
  std::thread last([&] { calls.Leave(); });
  EXPECT_TRUE(calls.WaitUntilNone(std::chrono::system_clock::now() + std::chrono::minutes(5)));
  last.join();
  EXPECT_EQ(calls.count(), 0);
}

TEST(CallsInFlight, CloseStopsTheStreamsInFlightAndRefusesNewCalls) {
  CallsInFlight calls;
  FakeStream open, done, late;
  ASSERT_TRUE(calls.Enter(&open));
  ASSERT_TRUE(calls.Enter(&done));
  calls.Leave(&done);
  calls.Close();
  calls.Close();  // idempotent: nothing stopped twice
  EXPECT_EQ(open.stops, 1);
  EXPECT_EQ(done.stops, 0);
  EXPECT_TRUE(calls.closed());
  // Refused, yet counted until it leaves (its reactor answers UNAVAILABLE).
  EXPECT_FALSE(calls.Enter(&late));
  EXPECT_FALSE(calls.Enter());
  EXPECT_EQ(calls.count(), 3);
  calls.Leave(&late);
  calls.Leave();
  calls.Leave(&open);
  EXPECT_EQ(late.stops, 0);
  EXPECT_TRUE(calls.WaitUntilNone(std::chrono::system_clock::now()));
}

}  // namespace
}  // namespace aad

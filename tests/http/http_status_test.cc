#include "server/http/http_status.h"

#include <gtest/gtest.h>

namespace aad {
namespace {

TEST(HttpStatus, EveryCodeMapsTheUsualWay) {
  using C = absl::StatusCode;
  EXPECT_EQ(HttpStatusOf(C::kOk), 200);
  EXPECT_EQ(HttpStatusOf(C::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(C::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(C::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(C::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(C::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(C::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(C::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusOf(C::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(C::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(C::kCancelled), 499);
  EXPECT_EQ(HttpStatusOf(C::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusOf(C::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(C::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(C::kUnknown), 500);
  EXPECT_EQ(HttpStatusOf(C::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(C::kDataLoss), 500);
}

TEST(HttpStatus, StatusesTheHttpLayerSetsHaveACode) {
  EXPECT_EQ(CodeOfHttpStatus(413), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeOfHttpStatus(404), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeOfHttpStatus(405), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(CodeOfHttpStatus(400), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOfHttpStatus(200), absl::StatusCode::kOk);
  EXPECT_EQ(CodeOfHttpStatus(418), absl::StatusCode::kUnknown);
  // Round trip for the codes the gateway sends.
  for (absl::StatusCode c : {absl::StatusCode::kNotFound, absl::StatusCode::kUnavailable,
                             absl::StatusCode::kResourceExhausted, absl::StatusCode::kCancelled,
                             absl::StatusCode::kDeadlineExceeded}) {
    EXPECT_EQ(CodeOfHttpStatus(HttpStatusOf(c)), c) << absl::StatusCodeToString(c);
  }
}

}  // namespace
}  // namespace aad
